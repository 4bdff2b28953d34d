"""Retrieval with another embedding model, no language model: recall@1 and recall@5 of the eval sets' answerable
questions, alone and beside N unrelated articles, with the index's build time and size for each model.

    .venv/bin/python bench/embedders.py --embedder all-MiniLM-L6-v2 --embedder /path/to/all-mpnet-base-v2 \
        [--distractors 0,3000] [--set news-dev,news-test,wiki]

Each (model, corpus) index is built once under index/embedders/ and reused ("cached" in the build column). Recall
is scored as `rag eval` scores it (eval.metrics.recall_at_k over the hybrid search of the question the engine
searches). The build column is the wall time of the whole build (chunking, embedding, FAISS, BM25, writing), on
whatever else the machine runs: compare models by it only when both were built under the same load.
"""
from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--embedder", action="append", default=[], help="packaged name, folder or hub id; repeat")
    p.add_argument("--distractors", default="0,3000")
    p.add_argument("--set", default="news-dev,news-test,wiki")
    args = p.parse_args()
    warnings.simplefilter("ignore")
    from eval import metrics
    from eval.__main__ import at_sizes, builtin_sets, for_corpus
    from rag.config import Config
    from rag.pipeline import Pipeline

    models = args.embedder or ["all-MiniLM-L6-v2"]
    wanted = args.set.split(",")
    base = Config()
    qsets = at_sizes([q for q in builtin_sets() if q.name in wanted], args.distractors.split(","), base)
    print("| embedder | set | chunks | index build s | index MB | recall@1 | recall@5 | questions |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for model in models:
        tag = Path(model).name + "-" + hashlib.sha256(model.encode()).hexdigest()[:6]
        for q in qsets:
            config = for_corpus(base, q.corpus)
            config = replace(config, embed_model=model, index_named=False,
                             index_dir=ROOT / "index" / "embedders" / tag / config.index_dir.name)
            cached = config.index_dir.is_dir()
            pipeline = Pipeline(config)
            started = time.perf_counter()
            index = pipeline.index  # built here the first time
            built = time.perf_counter() - started
            r1, r5 = [], []
            for question in q.questions:
                if not (question.answerable and question.evidence):
                    continue
                searched = pipeline.standalone(question.question, [dict(m) for m in question.history])
                ranked = [h.chunk.text for h in pipeline.search(searched, k=5)]
                r1.append(metrics.recall_at_k(ranked, question.evidence, 1))
                r5.append(metrics.recall_at_k(ranked, question.evidence, 5))
            print(f"| {Path(model).name} | {q.name} | {len(index.chunks)} | {'cached' if cached else f'{built:.0f}'} | "
                  f"{folder_size(config.index_dir) / 1e6:.1f} | {statistics.mean(r1):.3f} | {statistics.mean(r5):.3f} | "
                  f"{len(r1)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
