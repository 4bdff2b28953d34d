"""Okapi BM25 by `bm25s` (a sparse score matrix, memory-mapped on load, built for millions of chunks) over our
tokenizer, so 'U.S.' still matches 'US' and plurals fold."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .terms import tokenize


class BM25:
    """Build once from texts, search by query string; rows are the positions of the texts."""

    def __init__(self, model, n_docs: int):
        self.model = model  # a bm25s.BM25, or None for an empty corpus
        self.n_docs = n_docs
        self.vocab: dict[str, int] = model.vocab_dict if model is not None else {}

    @classmethod
    def build(cls, texts: list[str], k1: float = 1.5, b: float = 0.75) -> "BM25":
        """Lucene's BM25: idf = log(1 + (N - df + 0.5) / (df + 0.5)), term weight tf / (tf + k1 * norm)."""
        if not texts:
            return cls(None, 0)
        import bm25s

        model = bm25s.BM25(k1=k1, b=b, method="lucene")
        model.index([tokenize(t) for t in texts], show_progress=False)
        return cls(model, len(texts))

    def search(self, query: str, n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Best n (row, score) with score > 0, best first; ties broken by row for determinism.
        With `rows`, only those rows can be returned (a filter applied before ranking)."""
        ids = [self.vocab[t] for t in dict.fromkeys(tokenize(query)) if t in self.vocab]
        if not ids or n <= 0:
            return []
        scores = self.model.get_scores_from_ids(ids)
        if rows is not None:
            allowed = np.zeros(len(scores), dtype=bool)
            allowed[rows] = True
            scores = np.where(allowed, scores, 0.0)
        nz = np.flatnonzero(scores > 0)
        order = nz[np.lexsort((nz, -scores[nz]))][:n]
        return [(int(i), float(scores[i])) for i in order]

    def save(self, folder: Path) -> None:
        (Path(folder) / "bm25").mkdir(exist_ok=True)
        (Path(folder) / "bm25" / "n_docs").write_text(str(self.n_docs), encoding="utf-8")
        if self.model is not None:
            self.model.save(str(Path(folder) / "bm25"))

    @classmethod
    def load(cls, folder: Path) -> "BM25":
        """Memory-mapped: a million-chunk index opens in milliseconds and pages in what queries touch."""
        n_docs = int((Path(folder) / "bm25" / "n_docs").read_text(encoding="utf-8"))
        if n_docs == 0:
            return cls(None, 0)
        import bm25s

        model = bm25s.BM25.load(str(Path(folder) / "bm25"), mmap=True)
        if int(model.scores["num_docs"]) != n_docs:
            raise ValueError(f"BM25 index holds {model.scores['num_docs']} chunks, expected {n_docs}")
        return cls(model, n_docs)
