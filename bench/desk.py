"""How long each desk view takes to open: on the five shipped articles and beside 3,000 unrelated ones.

    .venv/bin/python bench/desk.py [--distractors 3000] [--runs 5]

Each view is timed cold (nothing remembered: what the first open after an index build costs) over the chunks an
index holds (chunked as `rag index` chunks them; reading them from SQLite is timed apart), median of --runs, wall
and CPU seconds. No model is loaded: the views never call one. Coverage needs the index's embedder and BM25, so
it is timed on real indexes: the five articles (built under a temporary folder) and the +N corpus (the index
`rag eval --distractors N` keeps under index/, built once).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(f, runs: int) -> tuple[float, float, int]:
    walls, cpus, n = [], [], 0
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        n = len(f())
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), n


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--distractors", type=int, default=3000)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    warnings.simplefilter("ignore")
    from eval.distractors import with_distractors
    from rag.chunk import chunk_document
    from rag.config import Config
    from rag.corpus import load_corpus
    from rag.desk.differences import differences
    from rag.desk.quotes import quotes
    from rag.desk.timeline import events

    config = Config()
    corpora = [("five articles", ROOT / "corpus")]
    if args.distractors:
        corpora.append((f"+{args.distractors}", with_distractors(ROOT / "corpus", args.distractors,
                                                                 ROOT / "index" / "distractors")))
    print("| corpus | articles | chunks | view | rows | wall s (median) | CPU s |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for name, folder in corpora:
        docs = load_corpus(folder)
        chunks = [c for d in docs for c in chunk_document(d, config.chunk_chars, config.chunk_overlap)]
        for view, f in (("quotes", quotes), ("timeline", events), ("differences", differences)):
            wall, cpu, n = timed(lambda: f(chunks), args.runs)
            print(f"| {name} | {len(docs)} | {len(chunks)} | {view} | {n} | {wall:.3f} | {cpu:.3f} |", flush=True)
    from rag.desk.views import Desk
    from rag.pipeline import Pipeline

    with tempfile.TemporaryDirectory() as tmp:
        for name, folder in corpora:
            # the +N index is the one `rag eval --distractors N` keeps (eval.__main__.for_corpus): built once
            where = Path(tmp) / "index" if folder == ROOT / "corpus" else \
                ROOT / "index" / f"eval-{folder.parent.name}-{folder.name}"
            pipeline = Pipeline(replace(config, corpus_dir=folder, index_dir=where))
            desk = Desk(pipeline)
            chunks = len(pipeline.index.chunks)
            desk.coverage("warm up")  # the embedder's first call loads it
            for topic in ("Ukraine", "sanctions"):
                wall, cpu, n = timed(lambda: desk.coverage(topic), args.runs)  # Desk remembers nothing per topic
                print(f"| {name} | {len(pipeline.index.articles) or '-'} | {chunks} | coverage '{topic}' | {n} | "
                      f"{wall:.3f} | {cpu:.3f} |", flush=True)
            wall, cpu, n = timed(lambda: list(pipeline.index.chunks), args.runs)
            print(f"| {name} | - | {chunks} | chunks read from SQLite | {n} | {wall:.3f} | {cpu:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
