"""Hybrid search: dense and BM25 candidate lists fused by reciprocal rank, near-duplicates collapsed."""
from __future__ import annotations

import numpy as np

from .store import Index
from .types import Chunk, Hit


def rrf(rankings: list[list[int]], k: int = 60) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: score(d) = sum over lists of 1 / (k + rank), rank 1-based.

    rankings=[[7, 3], [3, 9]], k=60 -> [(3, 1/62 + 1/61), (7, 1/61), (9, 1/62)]
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, 1):
            scores[row] = scores.get(row, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def overlap(a: Chunk, b: Chunk) -> float:
    """Share of the shorter chunk covered by the other: same-article windows, or the same text syndicated twice.

    chunks [0, 100) and [50, 250) of one doc -> 0.5
    """
    shorter = min(len(a.text), len(b.text)) or 1
    if a.doc_id == b.doc_id:
        return max(0, min(a.end, b.end) - max(a.start, b.start)) / shorter
    wa, wb = set(a.text.lower().split()), set(b.text.lower().split())
    return len(wa & wb) / (min(len(wa), len(wb)) or 1)


def search(index: Index, query: str, query_vector: np.ndarray | None, k: int, mode: str = "hybrid",
           candidates: int = 20, rrf_k: int = 60, max_overlap: float = 0.8) -> list[Hit]:
    """The k best distinct chunks for `query`, best first; `query_vector` is needed unless mode == 'bm25'."""
    if mode not in ("hybrid", "dense", "bm25"):
        raise ValueError(f"retrieval mode must be hybrid, dense or bm25, not {mode!r}")
    n = max(candidates, k)
    if mode == "hybrid" and hasattr(index, "search_hybrid"):  # Milvus fuses server-side: one round trip,
        dense, keyword, fused = [], [], index.search_hybrid(query, query_vector, n, rrf_k)  # no per-list ranks
    else:
        dense = index.search_dense(query_vector, n) if mode != "bm25" else []
        keyword = index.search_bm25(query, n) if mode != "dense" else []
        fused = rrf([[row for row, _ in dense], [row for row, _ in keyword]], rrf_k)
    dense_rank = {row: r for r, (row, _) in enumerate(dense, 1)}
    bm25_rank = {row: r for r, (row, _) in enumerate(keyword, 1)}
    rows = [row for row, _ in fused]
    sims = index.vectors(rows) @ query_vector if query_vector is not None and rows else np.zeros(len(rows))
    hits: list[Hit] = []
    for (row, score), sim in zip(fused, sims):
        chunk = index.chunks[row]
        if any(overlap(chunk, h.chunk) >= max_overlap for h in hits):
            continue
        hits.append(Hit(chunk=chunk, score=round(score, 6), similarity=round(float(sim), 4),
                        dense_rank=dense_rank.get(row), bm25_rank=bm25_rank.get(row)))
        if len(hits) == k:
            break
    return hits
