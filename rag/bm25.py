"""Okapi BM25 as one sparse matrix of per-(chunk, term) weights: a query is a column sum."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from scipy import sparse

_STOP = frozenset(
    "a an and are as at be been but by did do does for from had has have he her him his how i in into is it its "
    "me my of on or our she so than that the their them then there these they this to was we were what when "
    "where which who whom why will with would you your about after also any can could more most other over "
    "said say says should some such tell told up".split()
)


def tokenize(text: str) -> list[str]:
    """'What did Kirby say about China’s exports?' -> ['kirby', 'china', 'export']"""
    out = []
    text = re.sub(r"\b(?:[a-z]\.){2,}", lambda m: m.group().replace(".", ""), text.lower())  # 'u.s.' -> 'us'
    for word in re.findall(r"[a-z0-9]+", text.replace("’", "'")):
        if len(word) < 2 or word in _STOP:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]  # plural-insensitive without a stemmer dependency
        out.append(word)
    return out


class BM25:
    def __init__(self, weights: sparse.csc_matrix, vocab: dict[str, int]):
        self.weights = weights  # (n_chunks, n_terms), column-major so a query reads only its terms
        self.vocab = vocab

    @classmethod
    def build(cls, texts: list[str], k1: float = 1.5, b: float = 0.75) -> "BM25":
        vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for row, text in enumerate(texts):
            tokens = tokenize(text)
            lengths[row] = len(tokens)
            counts: dict[int, int] = {}
            for t in tokens:
                col = vocab.setdefault(t, len(vocab))
                counts[col] = counts.get(col, 0) + 1
            rows += [row] * len(counts)
            cols += list(counts)
            tfs += list(counts.values())
        tf = np.asarray(tfs, dtype=np.float32)
        rows_a = np.asarray(rows, dtype=np.int64)
        cols_a = np.asarray(cols, dtype=np.int64)
        df = np.bincount(cols_a, minlength=len(vocab)).astype(np.float32)
        n = max(len(texts), 1)
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        norm = k1 * (1 - b + b * lengths / max(float(lengths.mean()) if len(texts) else 1.0, 1.0))
        w = idf[cols_a] * tf * (k1 + 1) / (tf + norm[rows_a])
        matrix = sparse.csc_matrix((w, (rows_a, cols_a)), shape=(len(texts), len(vocab)), dtype=np.float32)
        return cls(matrix, vocab)

    def search(self, query: str, n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Best n (row, score) with score > 0, best first; ties broken by row for determinism.
        With `rows`, only those rows can be returned (a filter applied before ranking)."""
        cols = [self.vocab[t] for t in dict.fromkeys(tokenize(query)) if t in self.vocab]
        if not cols or n <= 0:
            return []
        scores = np.asarray(self.weights[:, cols].sum(axis=1)).ravel()
        if rows is not None:
            allowed = np.zeros(len(scores), dtype=bool)
            allowed[rows] = True
            scores = np.where(allowed, scores, 0.0)
        nz = np.flatnonzero(scores > 0)
        order = nz[np.lexsort((nz, -scores[nz]))][:n]
        return [(int(i), float(scores[i])) for i in order]

    def save(self, folder: Path) -> None:
        sparse.save_npz(folder / "bm25.npz", self.weights.tocsc())
        (folder / "bm25_vocab.json").write_text(json.dumps(self.vocab), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "BM25":
        weights = sparse.load_npz(folder / "bm25.npz").tocsc()
        vocab = json.loads((folder / "bm25_vocab.json").read_text(encoding="utf-8"))
        return cls(weights, vocab)
