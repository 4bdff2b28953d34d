"""Answer speed, previous setup vs this one, on the same questions in one run (issue 8).

    .venv/bin/python bench/answer_speed.py [--limit N]

For each answerable question of the eval (news, both splits) that reaches the model:
  previous  the portable AVX2 build of llama-cpp-python, the prompt re-read from scratch every time
            (reset), whole passages
  new       the build for this CPU, the saved KV state of the prompt's fixed start restored, compacted
            passages (Config defaults)
  examples  new with the worked examples in the fixed start (RAG_EXAMPLES=1): what they cost a question
  raw       llama-cpp-python's own create_chat_completion on the new prompt, from scratch: what the
            engine's prompt would cost without the engine
  engine    rag's Pipeline.ask end to end (search, prompt, model, checks) on the same question
Each model setup runs in its own process, one after the other (llama.cpp on all cores must run alone).
Prints medians and ratios; writes bench/answer_speed.md and .json (git-ignored: machine-dependent).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
PORTABLE = HERE.parent / ".venv" / "llama-portable"  # scripts/setup --bench builds it
now = time.perf_counter


def prompts(limit: int | None) -> list[dict]:
    """Per question: the previous setup's messages (whole passages) and the new one's (compacted)."""
    from rag import Config, Pipeline, attribution, refusal
    from rag.pipeline import _memo, _top
    from rag.prompt import EXAMPLES, build_messages

    config = Config()
    p = Pipeline(config)
    count = p.generator.count_tokens
    budget = config.n_ctx - config.max_tokens
    out = []
    for line in open(HERE.parent / "eval" / "questions.jsonl", encoding="utf-8"):
        q = json.loads(line)
        if not q["answerable"] or q.get("history") or attribution.parse(q["question"]):
            continue  # follow-ups need a chat; who-said answers never reach the model
        hits = p.search(q["question"])
        if refusal.before_generation(q["question"], hits, p.index.bm25.vocab, p.initials())[0]:
            continue
        whole, _, _ = build_messages(q["question"], hits, count, budget)
        scores = p._sentence_scores(q["question"], hits, _memo(p.embedder.embed))
        focus = [_top(s, config.compact_sentences) for s in scores] if config.compact_sentences else None
        compact, _, _ = build_messages(q["question"], hits, count, budget, focus,
                                       examples=EXAMPLES if config.examples else ())
        examples, _, _ = build_messages(q["question"], hits, count, budget, focus, examples=EXAMPLES)
        out.append({"question": q["question"], "previous": whole, "new": compact, "examples": examples})
        if limit and len(out) == limit:
            break
    return out


def worker(mode: str, path: Path) -> None:
    """Time one setup on every prompt of `path`; print JSON rows. Runs in its own process."""
    import llama_cpp

    from rag import Config
    from rag.config import threads
    from rag.generate import LlamaGenerator

    config = Config()
    items = json.loads(path.read_text(encoding="utf-8"))
    gen = LlamaGenerator(config.llm, config.n_ctx, threads(config), config.temperature, config.seed,
                         reuse_prefix=(mode in ("new", "examples")))
    key = mode if mode in ("previous", "examples") else "new"
    rows = []
    for i, item in enumerate(items):
        messages = item[key]
        prompt_tokens = len(gen.render(messages)[0])
        t0, first, pieces = now(), None, []
        if mode == "raw":
            gen.llm.reset()
            stream = gen.llm.create_chat_completion(messages=messages, max_tokens=config.max_tokens,
                                                    temperature=config.temperature, top_k=1, seed=config.seed,
                                                    stream=True)
            texts = (c["choices"][0]["delta"].get("content") for c in stream)
        else:
            texts = gen.stream(messages, config.max_tokens)
        for piece in texts:
            if piece:
                first = first if first is not None else now() - t0
                pieces.append(piece)
        total = now() - t0
        if i == 0:
            continue  # warm-up: first decode of the process
        rows.append({"question": item["question"], "prompt_tokens": prompt_tokens, "ttft_s": first or total,
                     "total_s": total, "tokens": len(pieces),
                     "decode_tok_s": (len(pieces) - 1) / max(total - (first or total), 1e-9),
                     "text": "".join(pieces)})
    print(json.dumps({"mode": mode, "llama_cpp": llama_cpp.__file__, "rows": rows}))


def engine(items: list[dict]) -> list[dict]:
    """Pipeline.ask end to end, as a user calls it; the part outside the llama.cpp call is what we add."""
    from rag import Pipeline

    p = Pipeline()
    p.warm()
    rows = []
    for i, item in enumerate(items):
        t0 = now()
        answer = p.ask(item["question"])
        total = now() - t0
        if i == 0:
            continue
        t = answer.timings
        rows.append({"question": item["question"], "ttft_s": t.get("first_token", total), "total_s": total,
                     "outside_llama_pct": 100 * (t["total"] - t.get("generate", 0.0)) / t["total"],
                     "search_ms": 1000 * t["retrieve"]})
    return rows


def run(mode: str, path: Path) -> dict:
    env = dict(os.environ)
    if mode == "previous":
        if not (PORTABLE / "llama_cpp").is_dir():
            return {"mode": mode, "skipped": f"no portable build at {PORTABLE}: run scripts/setup --bench", "rows": []}
        env["PYTHONPATH"] = os.pathsep.join([str(PORTABLE), str(HERE.parent)])
    out = subprocess.run([sys.executable, __file__, "--worker", mode, str(path)], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows) if rows else float("nan")


def search_p50(n: int = 200) -> dict:
    """Search latency (ms) on the five articles, new questions each time (no cache hits), beside the raw
    library on the same questions: sentence-transformers `encode` of the question alone (the query embedding
    the engine replaces with its onnxruntime export)."""
    from rag import Pipeline

    p = Pipeline()
    questions = [json.loads(line)["question"] for line in open(HERE.parent / "eval" / "questions.jsonl")]
    questions = [f"{questions[i % len(questions)]} ({i})" for i in range(n)]  # distinct: no cache hits
    p.search("warm up")
    model = p.embedder.model
    model.encode(["warm up"], normalize_embeddings=True)
    def timed(f) -> list[float]:  # one loop per path: torch's threads still spinning after an encode
        out = []                   # would slow the next path down, which the engine never sees
        for q in questions:
            t0 = now()
            f(q)
            out.append(1000 * (now() - t0))
        return out

    search = timed(p.search)
    p._vectors.clear()
    embed = timed(p.embedder.embed_query)
    raw = timed(lambda q: model.encode([q], normalize_embeddings=True, convert_to_numpy=True))
    return {"search_ms": statistics.median(search), "embed_query_ms": statistics.median(embed),
            "raw_encode_ms": statistics.median(raw)}


def search_lines(s: dict) -> list[str]:
    return [f"search p50 (five articles, distinct questions, query embedding included): {s['search_ms']:.1f} ms",
            f"query embedding p50: engine {s['embed_query_ms']:.1f} ms, raw sentence-transformers encode "
            f"{s['raw_encode_ms']:.1f} ms ({s['embed_query_ms'] / s['raw_encode_ms']:.2f}x)"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="first N questions that reach the model")
    parser.add_argument("--search", action="store_true", help="only the search latency (no model loaded)")
    parser.add_argument("--worker", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker[0], Path(args.worker[1]))
    if args.search:
        print("\n".join(search_lines(search_p50())))
        return None
    items = prompts(args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prompts.json"
        path.write_text(json.dumps(items), encoding="utf-8")
        results = {mode: run(mode, path) for mode in ("previous", "new", "examples", "raw")}
    results["engine"] = {"rows": engine(items)}
    results["search"] = search_p50()
    results["load_avg"] = os.getloadavg()[0]
    prev, new, examples, raw, eng = (results[m]["rows"] for m in ("previous", "new", "examples", "raw", "engine"))
    lines = [f"# Answer speed ({len(new)} questions, medians; load average {results['load_avg']:.1f} at end)", "",
             "| setup | prompt tokens | first token s | decode tok/s | total s |", "|---|---:|---:|---:|---:|"]
    for name, rows in (("previous (portable, reset, whole passages)", prev), ("new (this CPU, prefix state, "
                       "compact passages)", new), ("new with the worked examples (RAG_EXAMPLES=1)", examples),
                      ("raw llama-cpp-python on the new prompt", raw)):
        if rows:
            lines.append(f"| {name} | {median(rows, 'prompt_tokens'):.0f} | {median(rows, 'ttft_s'):.2f} | "
                         f"{median(rows, 'decode_tok_s'):.1f} | {median(rows, 'total_s'):.2f} |")
        else:
            lines.append(f"| {name} | {results['previous'].get('skipped', 'no rows')} | | | |")
    lines.append(f"| engine: Pipeline.ask end to end | | {median(eng, 'ttft_s'):.2f} | | {median(eng, 'total_s'):.2f} |")
    if prev and new:
        lines += ["", f"new / previous: prompt tokens {median(new, 'prompt_tokens') / median(prev, 'prompt_tokens'):.2f}x, "
                  f"first token {median(new, 'ttft_s') / median(prev, 'ttft_s'):.2f}x, "
                  f"total {median(new, 'total_s') / median(prev, 'total_s'):.2f}x"]
    if examples and new:
        lines += [f"with examples / new: first token {median(examples, 'ttft_s') / median(new, 'ttft_s'):.2f}x, "
                  f"total {median(examples, 'total_s') / median(new, 'total_s'):.2f}x"]
    lines += [f"engine / raw: total {median(eng, 'total_s') / median(raw, 'total_s'):.2f}x; time outside the "
              f"llama.cpp call {median(eng, 'outside_llama_pct'):.2f}% of ask", *search_lines(results["search"])]
    text = "\n".join(lines) + "\n"
    (HERE / "answer_speed.md").write_text(text, encoding="utf-8")
    (HERE / "answer_speed.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
