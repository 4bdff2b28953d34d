"""Prove the built llama-cpp-python on the default model (scripts/setup runs this before keeping a build).

Reads a prompt of several hundred tokens and generates 24 tokens past any end-of-text, greedy: a build whose
multi-token kernels crash (AMX with gcc 12's tile-config bug dies at ldtilecfg) or compute garbage fails
here instead of in the user's first question. The answer must name the ferry the prompt describes.
Exit 0 and one line on stderr when the build works; non-zero (or a signal) otherwise.
"""
from __future__ import annotations

import sys
import time

from rag.config import Config, threads
from rag.generate import LlamaGenerator

STORY = (
    "The harbour authority of Velmar opened its new ferry line on Tuesday, three years after the project was first "
    "announced and eight months later than planned. The line is served by a single electric vessel, the Aurora, "
    "which carries up to 240 passengers and 40 cars across the bay in about 25 minutes. Officials said the Aurora "
    "would make twelve crossings a day in summer and eight in winter, and that a second vessel had been ordered "
    "from a shipyard in the north. Tickets cost 6 euros for adults and 3 euros for children, with free travel for "
    "residents over 70. The mayor, who took the first crossing with a group of schoolchildren, called the line "
    "a long-awaited link between the two halves of the city. Critics on the council pointed to the cost, which "
    "rose from 18 million euros to 27 million euros during construction, mostly because the charging station on "
    "the northern pier had to be rebuilt after storm damage in January. The authority said the line would break "
    "even within ten years if passenger numbers met its forecast of 1.2 million a year. Local businesses near "
    "both piers reported more customers during the opening weekend, and a café owner said she had hired two "
    "extra staff. The old diesel ferry, which had served the route for 31 years, will be sold to a museum. "
) * 2
QUESTION = "What is the name of the electric ferry? Answer in one short sentence."
WANT = "Aurora"
GENERATE = 24


def main() -> int:
    config = Config().with_env()
    gen = LlamaGenerator(config.llm, config.n_ctx, threads(config), 0.0, 0, reuse_prefix=False)
    tokens, _ = gen.render([{"role": "user", "content": f"{STORY}\n\nQuestion: {QUESTION}"}])
    llm = gen.llm
    t0 = time.perf_counter()
    out, first = [], None
    for token in llm.generate(tokens, top_k=1, temp=0.0, reset=True):  # generate() never stops on its own
        first = first or time.perf_counter()
        out.append(token)
        if len(out) == GENERATE:
            break
    t1 = time.perf_counter()
    text = llm.detokenize(out).decode("utf-8", "replace")
    prefill, decode = len(tokens) / (first - t0), (GENERATE - 1) / max(t1 - first, 1e-9)
    line = (f"{len(tokens)} prompt tokens, {GENERATE} generated: prefill {prefill:.0f} tok/s, "
            f"decode {decode:.1f} tok/s: {text.strip()[:60]!r}")
    if WANT.lower() not in text.lower():
        print(f"prove_llama: wrong answer from {config.llm} ({line})", file=sys.stderr)
        return 1
    print(f"prove_llama: {config.llm}: {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
