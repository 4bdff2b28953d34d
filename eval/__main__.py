"""`rag eval` and `python -m eval`: parse flags, build one pipeline per setting, write and print results.

    python -m eval                           # the three sets: news dev, news test (held out), wiki (held out)
    python -m eval --set news-dev            # only the split we tune on
    python -m eval --questions q.jsonl --corpus my_articles --model smollm2-135m --limit 20 --out /tmp/ev
    python -m eval --set news-dev --distractors 0 --distractors 3000   # its corpus alone and with 3,000 others
    python -m eval --speakers                # the speaker index against the hand-checked lists (eval.speakers)

`--model` and `--retrieval` may repeat or hold comma-separated lists; the run is their cross product
and the table puts the settings side by side. The markdown table goes to stdout, the progress bar to
stderr, results.json and results.md to --out.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from eval.distractors import DistractorError, with_distractors
from eval.harness import Question, Setting, load_questions, run_eval, select, settings
from eval.judge import Embed, cached
from eval.replay import Replies, ReplayError
from eval.report import markdown_table, summaries, write

HERE = Path(__file__).resolve().parent
RETRIEVALS = ("hybrid", "dense", "bm25")


@dataclass(frozen=True)
class QuestionSet:
    """A named question set and the corpus it asks about."""

    name: str
    questions: tuple[Question, ...]
    corpus: Path | None  # None: the engine's configured corpus


def builtin_sets() -> list[QuestionSet]:
    """news-dev (tuned on), news-test (held out) over corpus/, and wiki (held out) over eval/wiki/corpus/."""
    news = load_questions(HERE / "questions.jsonl")
    for extra in ("questions_new.jsonl", "questions_dev.jsonl"):
        if (HERE / extra).is_file():
            news += load_questions(HERE / extra)
    split = json.loads((HERE / "split.json").read_text(encoding="utf-8"))
    sets = [QuestionSet("news-dev", tuple(select(news, split["dev"])), None),
            QuestionSet("news-test", tuple(select(news, split["test"])), None)]
    if (HERE / "wiki" / "questions.jsonl").is_file():
        sets.append(QuestionSet("wiki", tuple(load_questions(HERE / "wiki" / "questions.jsonl")), HERE / "wiki" / "corpus"))
    return sets


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="rag eval", description="Score the engine on a question set.")
    p.add_argument("--questions", type=Path, default=None,
                   help="JSONL question file (default: the built-in sets news-dev, news-test and wiki)")
    p.add_argument("--corpus", type=Path, default=None, help="the articles --questions asks about (default: corpus/)")
    p.add_argument("--set", action="append", default=[], help="built-in set(s) to run: news-dev, news-test, wiki")
    p.add_argument("--baseline", type=Path, default=None,
                   help="a results.json of another engine, shown beside this run (e.g. eval/results/previous)")
    p.add_argument("--engine", default="", help="name this engine's columns (e.g. 'previous')")
    p.add_argument("--model", action="append", default=[], help="LLM name(s); repeat or comma-separate")
    p.add_argument("--retrieval", action="append", default=[], help="hybrid, dense, bm25; repeat or comma-separate")
    p.add_argument("--k", type=int, default=None, help="passages shown to the model (Config.k)")
    p.add_argument("--limit", type=int, default=None, help="only the first N questions (for CI)")
    p.add_argument("--out", type=Path, default=HERE / "results", help="folder for results.json and results.md")
    p.add_argument("--judge", choices=("lexical", "embed"), default="lexical",
                   help="citation support judge: word overlap (default) or the index's embedding model")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--distractors", action="append", default=[],
                   help="run each set with N unrelated encyclopedia articles beside its corpus; repeat or "
                        "comma-separate for columns side by side (0: the corpus alone)")
    p.add_argument("--replay", type=Path, default=None,
                   help="JSON file of model replies: replay those recorded, record the rest (for changes after "
                        "the model; latencies are then not real)")
    p.add_argument("--speakers", action="store_true",
                   help="score the speaker index (the Quotes view) against eval/quotes/*/gold.jsonl instead")
    return p.parse_args(argv)


def listed(values: list[str]) -> list[str]:
    """Flatten repeated and comma-separated flags, first occurrence wins: ['a,b', 'a', 'c'] -> ['a', 'b', 'c']."""
    return list(dict.fromkeys(v.strip() for raw in values for v in raw.split(",") if v.strip()))


def pipeline_factory(base: Any, replies: Replies | None = None) -> Callable[[Setting], Any]:
    """Setting -> a Pipeline on `base` with that model and retrieval (its model's replies replayed from
    `replies` where recorded); rag is imported only when used."""
    def make(setting: Setting):
        from rag import Pipeline

        pipeline = Pipeline(replace(base, llm=setting.model, retrieval=setting.retrieval))
        if replies is None:
            return pipeline
        return Pipeline(pipeline.config, pipeline.embedder, replies.wrap(pipeline.generator))

    return make


def for_corpus(base: Any, corpus: Path | None) -> Any:
    """The config for a set's corpus: its own index folder under the project's index/ (never committed)."""
    if corpus is None:
        return base
    return replace(base, corpus_dir=corpus, index_dir=base.index_dir / f"eval-{corpus.parent.name}-{corpus.name}",
                   index_named=False)


def at_sizes(qsets: list[QuestionSet], sizes: list[str], base: Any) -> list[QuestionSet]:
    """Each set once per distractor count: 0 is its corpus alone, N its corpus and N unrelated articles
    (eval.distractors), named 'news-dev +3000'. No sizes: the sets as they are."""
    out = []
    for q in qsets:
        for size in sizes or ["0"]:
            if not size.isdigit():
                raise ValueError(f"--distractors takes a count of articles, not {size!r}")
            n = int(size)
            if n == 0:
                out.append(q)
                continue
            corpus = with_distractors(q.corpus or base.corpus_dir, n, base.index_dir / "distractors")
            out.append(QuestionSet(f"{q.name} +{n}", q.questions, corpus))
    return out


def load_embed(config: Any) -> Embed:
    """The embedding model the index was built with (Config.embed_model), as `texts -> normalized vectors`."""
    from rag.embed import SentenceTransformerEmbedder  # the engine owns model loading and packaged names

    return cached(SentenceTransformerEmbedder(config.embed_model, config.embed_batch).embed)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from rag.config import Config

    base = Config().with_env()
    if args.speakers:
        return _speakers(base, args.out)
    if args.k is not None:
        base = replace(base, k=args.k)
    models = listed(args.model) or [base.llm]
    retrievals = listed(args.retrieval) or [base.retrieval]
    bad = [r for r in retrievals if r not in RETRIEVALS]
    if bad:
        print(f"rag eval: unknown retrieval {', '.join(bad)} (choose from {', '.join(RETRIEVALS)})", file=sys.stderr)
        return 2
    if args.questions is not None:
        if not args.questions.is_file():
            print(f"rag eval: no question file at {args.questions}", file=sys.stderr)
            return 2
        qsets = [QuestionSet("", tuple(load_questions(args.questions)), args.corpus)]
    else:
        qsets = builtin_sets()
        wanted = listed(args.set)
        unknown = [w for w in wanted if w not in {q.name for q in qsets}]
        if unknown:
            print(f"rag eval: unknown set {', '.join(unknown)} (choose from "
                  f"{', '.join(q.name for q in qsets)})", file=sys.stderr)
            return 2
        qsets = [q for q in qsets if not wanted or q.name in wanted]
    qsets = [QuestionSet(q.name, q.questions[:args.limit] if args.limit else q.questions, q.corpus) for q in qsets]
    try:
        qsets = at_sizes(qsets, listed(args.distractors), base)
    except (DistractorError, ValueError) as e:
        print(f"rag eval: {e}", file=sys.stderr)
        return 2
    if not any(q.questions for q in qsets):
        print("rag eval: the question set holds no questions", file=sys.stderr)
        return 2
    try:
        replies = Replies(args.replay) if args.replay else None
    except ReplayError as e:
        print(f"rag eval: {e}", file=sys.stderr)
        return 2
    embed = load_embed(base) if args.judge == "embed" else None
    results = []
    try:
        for q in qsets:
            runs = [Setting(s.model, s.retrieval, q.name, args.engine) for s in settings(models, retrievals)]
            results += run_eval(q.questions, pipeline_factory(for_corpus(base, q.corpus), replies), runs,
                                embed=embed, progress=not args.no_progress)
    finally:
        if replies is not None:
            replies.save()
            print(f"replies: {replies.replayed} replayed, {replies.recorded} recorded ({args.replay}); "
                  "latencies of replayed replies are not real", file=sys.stderr)
    baseline = summaries(args.baseline) if args.baseline else []
    # Only inputs go in the metadata (no clock, no host), so equal runs write equal files.
    meta = {"sets": {q.name: {"questions": len(q.questions), "corpus": str(q.corpus or base.corpus_dir.name)}
                     for q in qsets}, "limit": args.limit, "k": base.k, "judge": args.judge}
    if replies is not None:
        meta["replayed"] = replies.replayed  # model replies not generated in this run: its latencies are not real
    out = write(results, args.out, meta, baseline)
    print(markdown_table(results))
    print(f"wrote {out / 'results.json'} and {out / 'results.md'}", file=sys.stderr)
    return 0


def _speakers(base: Any, out: Path) -> int:
    from eval.speakers import run, table

    scores = run(base)
    out.mkdir(parents=True, exist_ok=True)
    (out / "speakers.json").write_text(json.dumps([s.__dict__ for s in scores], ensure_ascii=False, indent=1) + "\n",
                                       encoding="utf-8")
    print(table(scores))
    print(f"wrote {out / 'speakers.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
