"""Scores for one question at a time: retrieval ranks, keyword answers, quotes, and percentiles.

Evidence spans are compared after `normalize` (whitespace runs collapsed, typographic quotes
straightened), because the corpus cleaner may reflow lines or quotes that a question writer copied
from the raw article; everything else about the span must match exactly (case included).
"""
from __future__ import annotations

import math
import re
import unicodedata
from typing import Sequence

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})
_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")  # with the space before it: 'ready [1].' -> 'ready.'


def normalize(text: str) -> str:
    """'He said  \u201cno\u201d\\n' -> 'He said "no"'. NFKC, straight quotes, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_QUOTES).split())


def contains(text: str, span: str) -> bool:
    """True when the whole (normalized, nonempty) span sits inside text: ('a  b c', 'b c') -> True."""
    span = normalize(span)
    return bool(span) and span in normalize(text)


def relevant(text: str, evidence: Sequence[str]) -> bool:
    """A chunk is relevant when it holds at least one evidence span whole: ('x y z', ['y', 'q']) -> True."""
    return any(contains(text, span) for span in evidence)


def recall_at_k(ranked: Sequence[str], evidence: Sequence[str], k: int) -> float:
    """Share of the evidence spans found whole inside at least one of the top-k chunk texts.

    ranked=['a b', 'c d'], evidence=['c', 'e'], k=1 -> 0.0; k=2 -> 0.5 (c found, e never).
    No evidence -> 0.0 (the harness leaves such questions out of retrieval metrics).
    """
    if not evidence:
        return 0.0
    top = ranked[:k]
    return sum(any(contains(t, span) for t in top) for span in evidence) / len(evidence)


def reciprocal_rank(ranked: Sequence[str], evidence: Sequence[str], k: int = 10) -> float:
    """1 / rank of the first relevant chunk within the top k, else 0: (['a', 'b c'], ['c']) -> 0.5."""
    for rank, text in enumerate(ranked[:k], start=1):
        if relevant(text, evidence):
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], evidence: Sequence[str], k: int, n_relevant: int) -> float:
    """Binary-relevance nDCG@k, with the ideal ranking drawn from the whole index.

    DCG = sum over ranks i <= k of rel_i / log2(i + 1); the ideal puts min(k, n_relevant) relevant
    chunks first, where n_relevant counts chunks of the index holding an evidence span (so a second,
    overlapping chunk with the same span is relevant too, as in TREC qrels).
    ranked=['a', 'b c'], evidence=['c'], k=10, n_relevant=1 -> (1/log2 3) / 1 = 0.6309.
    """
    gains = [relevant(t, evidence) for t in ranked[:k]]
    # Guard: a ranking can't hold more relevant chunks than the index; a stale count must not give > 1.
    ideal = min(k, max(n_relevant, sum(gains)))
    if ideal == 0:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, g in enumerate(gains) if g)
    return dcg / sum(1.0 / math.log2(i + 2) for i in range(ideal))


def reachable(spans: Sequence[str], chunk_texts: Sequence[str]) -> list[bool]:
    """For each span, whether some chunk of the index holds it whole: (['b', 'z'], ['a b']) -> [True, False].

    A span cut by a chunk boundary can never be retrieved whole, so this bounds every recall above.
    """
    texts = [normalize(t) for t in chunk_texts]  # normalize once: the index may be large
    return [any(normalize(s) in t for t in texts) if normalize(s) else False for s in spans]


def count_relevant(chunk_texts: Sequence[str], evidence: Sequence[str]) -> int:
    """How many chunks hold some evidence span whole: (['a b', 'b c', 'd'], ['b']) -> 2."""
    return sum(relevant(t, evidence) for t in chunk_texts)


def strip_markers(text: str) -> str:
    """'Xi spoke [1]. Putin [2, 3] too.' -> 'Xi spoke. Putin too.'; '5 [1] million' -> '5 million'."""
    return normalize(_MARKER.sub("", text))


def keywords_match(text: str, keywords: Sequence[str | Sequence[str]]) -> bool:
    """Every entry must occur, case-insensitively, as a substring of text; a list entry is a set of
    alternatives of which one suffices. Citation markers are removed first so '5 [1] million' reads
    as '5 million'.

    ('Xi met Putin [1] in Moscow.', ['putin', ['Moscow', 'Kremlin']]) -> True; ('', ['x']) -> False.
    """
    hay = strip_markers(text).lower()
    for entry in keywords:
        options = [entry] if isinstance(entry, str) else list(entry)
        if not any(normalize(o).lower() in hay for o in options if normalize(o)):
            return False
    return True


# A template slot left in an answer (written here apart from the engine's own check, which it measures).
_SLOT = re.compile(r"\[\s*insert\b[^\]]*\]|\[\s*(?:date|name|number|place|person|source|year|time|title|"
                   r"location|organization|amount)\s*\]|<\s*(?:date|name|number|place)\s*>|\bXX+\b|\bTBD\b", re.I)


def has_placeholder(text: str) -> bool:
    """'It opens on [insert date] [2].' -> True; 'It opens on 15 May [2].' -> False"""
    return bool(_SLOT.search(text))


def quote_exact(quote: str, chunk_text: str) -> bool:
    """A citation quote is exact when nonempty and verbatim in its passage: ('b c', 'a b c d') -> True."""
    return bool(quote.strip()) and quote in chunk_text


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default): ([1, 2, 3, 4], 50) -> 2.5;
    ([1, 2, 3, 4], 90) -> 3.7. Raises ValueError on an empty list: a percentile of nothing is a bug."""
    if not values:
        raise ValueError("percentile of an empty list")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def share(flags: Sequence[bool]) -> float | None:
    """Fraction of True, or None when there is nothing to count: ([True, False, False, True]) -> 0.5."""
    return sum(flags) / len(flags) if flags else None


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, or None for no values: ([0.5, 1.0]) -> 0.75."""
    return sum(values) / len(values) if values else None
