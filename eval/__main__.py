"""`rag eval` and `python -m eval`: parse flags, build one pipeline per setting, write and print results.

    python -m eval --model smollm2-135m --retrieval bm25,hybrid --limit 20 --out /tmp/ev

`--model` and `--retrieval` may repeat or hold comma-separated lists; the run is their cross product
and the table puts the settings side by side. The markdown table goes to stdout, the progress bar to
stderr, results.json and results.md to --out.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from eval.harness import Setting, load_questions, run_eval, settings
from eval.judge import Embed, cached
from eval.report import markdown_table, write

HERE = Path(__file__).resolve().parent
RETRIEVALS = ("hybrid", "dense", "bm25")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="rag eval", description="Score the engine on a question set.")
    p.add_argument("--questions", type=Path, default=HERE / "questions.jsonl", help="JSONL question file")
    p.add_argument("--model", action="append", default=[], help="LLM name(s); repeat or comma-separate")
    p.add_argument("--retrieval", action="append", default=[], help="hybrid, dense, bm25; repeat or comma-separate")
    p.add_argument("--k", type=int, default=None, help="passages shown to the model (Config.k)")
    p.add_argument("--limit", type=int, default=None, help="only the first N questions (for CI)")
    p.add_argument("--out", type=Path, default=HERE / "results", help="folder for results.json and results.md")
    p.add_argument("--judge", choices=("lexical", "embed"), default="lexical",
                   help="citation support judge: word overlap (default) or the index's embedding model")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return p.parse_args(argv)


def listed(values: list[str]) -> list[str]:
    """Flatten repeated and comma-separated flags, first occurrence wins: ['a,b', 'a', 'c'] -> ['a', 'b', 'c']."""
    return list(dict.fromkeys(v.strip() for raw in values for v in raw.split(",") if v.strip()))


def pipeline_factory(base: Any) -> Callable[[Setting], Any]:
    """Setting -> a Pipeline on `base` with that model and retrieval; rag is imported only when used."""
    def make(setting: Setting):
        from rag import Pipeline

        return Pipeline(replace(base, llm=setting.model, retrieval=setting.retrieval))

    return make


def load_embed(config: Any) -> Embed:
    """The embedding model the index was built with (Config.embed_model), as `texts -> normalized vectors`."""
    from rag.embed import SentenceTransformerEmbedder  # the engine owns model loading and packaged names

    return cached(SentenceTransformerEmbedder(config.embed_model, config.embed_batch).embed)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from rag.config import Config

    base = Config().with_env()
    if args.k is not None:
        base = replace(base, k=args.k)
    models = listed(args.model) or [base.llm]
    retrievals = listed(args.retrieval) or [base.retrieval]
    bad = [r for r in retrievals if r not in RETRIEVALS]
    if bad:
        print(f"rag eval: unknown retrieval {', '.join(bad)} (choose from {', '.join(RETRIEVALS)})", file=sys.stderr)
        return 2
    if not args.questions.is_file():
        print(f"rag eval: no question file at {args.questions}", file=sys.stderr)
        return 2
    questions = load_questions(args.questions, args.limit)
    if not questions:
        print(f"rag eval: {args.questions} holds no questions", file=sys.stderr)
        return 2
    embed = load_embed(base) if args.judge == "embed" else None
    results = run_eval(questions, pipeline_factory(base), settings(models, retrievals), embed=embed,
                       progress=not args.no_progress)
    # Only inputs go in the metadata (no clock, no host), so equal runs write equal files.
    meta = {"questions_file": str(args.questions), "limit": args.limit, "k": base.k, "judge": args.judge}
    out = write(results, args.out, meta)
    print(markdown_table(results))
    print(f"wrote {out / 'results.json'} and {out / 'results.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
