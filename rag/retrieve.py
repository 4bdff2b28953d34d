"""Hybrid search: dense and BM25 candidate lists fused by reciprocal rank, near-duplicates collapsed;
a Filter (articles, publishers, date range) restricts both lists before ranking, not after."""
from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from functools import lru_cache
from datetime import date as Date, datetime

import numpy as np

from .errors import QuestionError
from .store import Index
from .terms import mentions, names, phrase_initials
from .types import Chunk, Hit

INITIALS_MAX = 50_000  # chunks read once for the corpus's acronyms (about a second at that size)
_INITIALS: "weakref.WeakKeyDictionary[object, frozenset[str]]" = weakref.WeakKeyDictionary()

_MONTHS = {m: i for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}


@lru_cache(maxsize=65536)  # a filter reads every chunk's date on every query; articles share few distinct dates
def iso_date(text: str) -> str:
    """An article's date as YYYY-MM-DD, or '' when it cannot be read.

    '21 March 2023' -> '2023-03-21'; 'Mar. 20, 2023' -> '2023-03-20'; '2023-05-24T10:00:00Z' -> '2023-05-24'
    """
    text = (text or "").strip()
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if m:
        y, mo, d = map(int, m.groups())
    else:
        m = (re.fullmatch(r"([A-Za-z]+)\.? (\d{1,2}),? (\d{4})", text)
             or re.fullmatch(r"(\d{1,2}) ([A-Za-z]+)\.? (\d{4})", text))
        if not m:
            return ""
        a, b, y = m.groups()
        month, d = (a, b) if a[0].isalpha() else (b, a)
        mo, d, y = _MONTHS.get(month[:3].lower(), 0), int(d), int(y)
    try:
        return Date(y, mo, d).isoformat()
    except ValueError:
        return ""


@dataclass(frozen=True)
class Filter:
    """Which articles a search may return: any of `articles` (doc ids), any of `publishers` (case-insensitive),
    dated within [since, until] (YYYY-MM-DD, inclusive; an undated article is outside any date range).
    Empty fields do not restrict: Filter() allows everything."""

    articles: tuple[str, ...] = ()
    publishers: tuple[str, ...] = ()
    since: str = ""
    until: str = ""

    def __post_init__(self):
        for name in ("articles", "publishers"):  # Filter(articles="a") means ("a",)
            value = getattr(self, name)
            value = (value,) if isinstance(value, str) else tuple(value or ())
            object.__setattr__(self, name, tuple(v.strip() for v in value if v and v.strip()))
        for name in ("since", "until"):
            value = (getattr(self, name) or "").strip()
            if value and not _is_day(value):
                raise QuestionError(f"{name} must be a date like 2023-03-21, not {value[:40]!r}")
            object.__setattr__(self, name, value)

    @property
    def _publishers(self) -> frozenset[str]:
        return frozenset(p.casefold() for p in self.publishers)

    def __bool__(self) -> bool:
        return bool(self.articles or self.publishers or self.since or self.until)

    def allows(self, chunk: Chunk) -> bool:
        if self.articles and chunk.doc_id not in self.articles:
            return False
        if self.publishers and chunk.publisher.casefold() not in self._publishers:
            return False
        if self.since or self.until:
            day = iso_date(chunk.date)
            if not day or (self.since and day < self.since) or (self.until and day > self.until):
                return False
        return True

    def rows(self, chunks: list[Chunk]) -> np.ndarray:
        """Row numbers of the chunks this filter allows, ascending (decided once per article: its chunks share
        publisher and date)."""
        decided: dict[str, bool] = {}
        keep = []
        for row, c in enumerate(chunks):
            allowed = decided.get(c.doc_id)
            if allowed is None:
                allowed = decided[c.doc_id] = self.allows(c)
            if allowed:
                keep.append(row)
        return np.asarray(keep, dtype=np.int64)

    def describe(self, chunks: list[Chunk]) -> str:
        """'2 of 6 articles': how many articles of the index this filter lets a search see."""
        every = {c.doc_id for c in chunks}
        allowed = {c.doc_id for c in chunks if self.allows(c)}
        return f"{len(allowed)} of {len(every)} article{'s' if len(every) != 1 else ''}"


def _is_day(text: str) -> bool:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date().isoformat() == text
    except ValueError:
        return False


def allowed_rows(index: Index, where: Filter) -> np.ndarray:
    """The rows `where` allows; a store whose rows are keys rather than positions (Milvus) answers itself."""
    own = getattr(index, "rows_where", None)
    return own(where) if own is not None else where.rows(index.chunks)


def dense_within(index: Index, query_vector: np.ndarray, n: int, rows: np.ndarray) -> list[tuple[int, float]]:
    """Dense search over the allowed rows only (FAISS ID selector), best first: the rest are never scored,
    so a filtered search returns n allowed rows even when every other row scores higher."""
    if len(rows) == 0:
        return []
    import faiss

    query = query_vector.reshape(1, -1).astype(np.float32)
    try:
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(rows))
        scores, ids = index.dense.search(query, min(n, len(rows)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
    except (AttributeError, TypeError, RuntimeError):  # a dense index without selectors: score the rows exactly
        sims = index.vectors(rows.tolist()) @ query[0]
        order = np.lexsort((rows, -sims))[:n]
        return [(int(rows[i]), float(sims[i])) for i in order]


def candidates_within(index: Index, query: str, query_vector: np.ndarray | None, n: int, rows: np.ndarray,
                      mode: str) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """(dense, BM25) candidates among `rows` only, each list as the retriever ranks them ([] for the mode's other)."""
    dense = dense_within(index, query_vector, n, rows) if mode != "bm25" else []
    keyword = bm25_within(index, query, n, rows) if mode != "dense" else []
    return dense, keyword


def bm25_within(index: Index, query: str, n: int, rows: np.ndarray) -> list[tuple[int, float]]:
    """BM25 over the allowed rows only: the allowed rows' scores, best first (ties by row)."""
    if len(rows) == 0:
        return []
    return index.bm25.search(query, n, rows=rows)


def rrf(rankings: list[list[int]], k: int = 60) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: score(d) = sum over lists of 1 / (k + rank), rank 1-based.

    rankings=[[7, 3], [3, 9]], k=60 -> [(3, 1/62 + 1/61), (7, 1/61), (9, 1/62)]
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, 1):
            scores[row] = scores.get(row, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def promoted(fused: list[tuple[int, float]], rankings: list[list[int]], shown: int) -> list[tuple[int, float]]:
    """The fused ranking with each retriever's first row among its first `shown` places: a first row fusion ranked
    below them takes the last of those places (keeping its fused score), and the places it takes are those of the
    fused rows that are no retriever's first. Fusion rewards agreement, and one retriever's ranking drifts in a
    large archive: beside 3,000 encyclopedia entries the words of 'Since when has the ISS been continuously
    occupied?' are common, so the sentence that answers it, the embedder's first, came 35th by BM25 and fifth in
    all, behind two chunks of the Mir article.
    ([(7, .03), (8, .03), (9, .02)], [[9]], 2) -> [(7, .03), (9, .02), (8, .03)]"""
    if shown < 2 or not fused:
        return fused  # the fused first keeps the one place
    order = [row for row, _ in fused]
    firsts = [row for row in dict.fromkeys(r[0] for r in rankings if r) if row in order and row != order[0]]
    firsts = firsts[:shown - 1] + ([order[0]] if any(r and r[0] == order[0] for r in rankings) else [])
    late = [fused[order.index(row)] for row in firsts if order.index(row) >= shown]
    if not late:
        return fused
    head, room = [], shown - len(firsts)  # places left for rows that are no retriever's first
    for item in fused[:shown]:
        if item[0] in firsts or room > 0:
            room -= item[0] not in firsts
            head.append(item)
    taken = {row for row, _ in head + late}
    return head + late + [item for item in fused if item[0] not in taken]


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
           candidates: int = 40, rrf_k: int = 60, max_overlap: float = 0.8, where: Filter | None = None,
           anchor: bool = True, named_only: bool = False, shown: int = 0) -> list[Hit]:
    """The k best distinct chunks for `query`, best first; `query_vector` is needed unless mode == 'bm25'.
    With `where`, only the chunks it allows are searched. With `anchor`, when the query names someone or
    something (terms.names), chunks of articles that mention none of its names come after those of articles
    that do: in a large archive an encyclopedia entry full of 'role' or 'outlet' otherwise outranks the one
    article that names 'John Kirby' or 'Interfax', whose name the embedder does not know. With `named_only`, those
    chunks are left out altogether when any chunk's article names one of them. With `shown`, each retriever's
    best chunk is among the first `shown` (`promoted`)."""
    if mode not in ("hybrid", "dense", "bm25"):
        raise ValueError(f"retrieval mode must be hybrid, dense or bm25, not {mode!r}")
    n = max(candidates, k)
    fused = None
    if where:
        dense, keyword = candidates_within(index, query, query_vector, n, allowed_rows(index, where), mode)
    elif mode == "hybrid" and hasattr(index, "search_hybrid"):  # Milvus fuses server-side: one round trip,
        dense, keyword, fused = [], [], index.search_hybrid(query, query_vector, n, rrf_k)  # no per-list ranks
    else:
        dense = index.search_dense(query_vector, n) if mode != "bm25" else []
        keyword = index.search_bm25(query, n) if mode != "dense" else []
    dense_rank = {row: r for r, (row, _) in enumerate(dense, 1)}
    bm25_rank = {row: r for r, (row, _) in enumerate(keyword, 1)}
    rankings = [[row for row, _ in dense], [row for row, _ in keyword]]
    if fused is None:
        fused = rrf(rankings, rrf_k)
    if shown:
        fused = promoted(fused, rankings, shown)
    rows = [row for row, _ in fused]
    sims = index.vectors(rows) @ query_vector if query_vector is not None and rows else np.zeros(len(rows))
    named = Named(index, names(query, opening=False) if anchor else [])
    hits: list[Hit] = []
    held: list[Hit] = []  # distinct hits from articles that mention none of the query's names
    for (row, score), sim in zip(fused, sims):
        chunk = index.chunks[row]
        first = named(chunk)
        if not first and len(held) >= k:
            continue
        if any(overlap(chunk, h.chunk) >= max_overlap for h in (hits if first else hits + held)):
            continue
        hit = Hit(chunk=chunk, score=round(score, 6), similarity=round(float(sim), 4),
                  dense_rank=dense_rank.get(row), bm25_rank=bm25_rank.get(row))
        (hits if first else held).append(hit)
        if len(hits) == k:
            break
    if named_only and hits:
        if len(hits) < k and not where and not hasattr(index, "search_hybrid"):
            hits += within_named(index, query, query_vector, k - len(hits), hits, named, mode, n, rrf_k, max_overlap)
        return hits[:k]
    held = [h for h in held if not any(overlap(h.chunk, x.chunk) >= max_overlap for x in hits)]
    return (hits + held)[:k]


def within_named(index: Index, query: str, query_vector: np.ndarray | None, k: int, hits: list[Hit], named: "Named",
                 mode: str, n: int, rrf_k: int, max_overlap: float) -> list[Hit]:
    """Up to k more distinct hits from the articles the search found naming the question's names, ranked within
    those articles alone: in a large archive the candidates of the whole index may hold one chunk of the one
    article that names 'Brian Hart', and its other chunks (which say where his institute is) rank below
    thousands of others. Ranks and scores are those within the articles (no global ranks: None)."""
    taken = {h.chunk.id for h in hits}
    rows = np.array(index.article_rows({doc for doc, yes in named.decided.items() if yes}), dtype=np.int64)
    if not len(rows):
        return []
    dense, keyword = candidates_within(index, query, query_vector, n, rows, mode)
    fused = rrf([[row for row, _ in dense], [row for row, _ in keyword]], rrf_k)
    sims = index.vectors([r for r, _ in fused]) @ query_vector if query_vector is not None and fused else []
    more: list[Hit] = []
    for i, (row, score) in enumerate(fused):
        chunk = index.chunks[row]
        if chunk.id in taken or any(overlap(chunk, h.chunk) >= max_overlap for h in hits + more):
            continue
        more.append(Hit(chunk=chunk, score=round(score, 6), similarity=round(float(sims[i]), 4) if len(sims) else 0.0))
        if len(more) == k:
            break
    return more


class Named:
    """Does a chunk's article mention one of `wanted` (names, as terms.mentions reads them)? Decided once per
    article: the chunk itself first, its whole article only when the chunk does not. No names: always yes."""

    def __init__(self, index: Index, wanted: list[str]):
        self.index, self.wanted = index, wanted
        self.decided: dict[str, bool] = {}

    def __call__(self, chunk: Chunk) -> bool:
        if not self.wanted:
            return True
        found = self.decided.get(chunk.doc_id)
        if found is None:
            found = self._in(chunk.text) or self._in(chunk.title) or self._in(self.index.article_text(chunk.doc_id))
            self.decided[chunk.doc_id] = found
        return found

    def _in(self, text: str) -> bool:
        return any(_mentions(text, name) for name in self.wanted)


@lru_cache(maxsize=16384)  # the same articles come back query after query (index.article_text keeps the string)
def _mentions(text: str, name: str) -> bool:
    return mentions(text, name)


def corpus_initials(index: Index) -> frozenset[str]:
    """Initials of the corpus's capitalised phrases (an acronym in a question is found where the articles
    spell it out), computed once per index; above INITIALS_MAX chunks only retrieved passages are read."""
    found = _INITIALS.get(index)
    if found is None:
        chunks = index.chunks
        found = frozenset()
        if len(chunks) <= INITIALS_MAX:  # each article's title once, not once per chunk
            found = phrase_initials([c.text for c in chunks] + list(dict.fromkeys(c.title for c in chunks)))
        _INITIALS[index] = found
    return found
