"""What each article says of a topic, side by side: the topic survey's sentences (rag.topic, the same
reading the chat's 'What do the articles say about Y?' answers with), grouped by article, each exact.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..topic import about
from . import Line, line_of

CANDIDATES = 200  # chunks BM25 ranks best for the topic, read for sentences about it (as the survey kind)
PER_ARTICLE = 4  # sentences shown for each article: its best, not every mention


@dataclass(frozen=True)
class Coverage:
    """One article's sentences about the topic, most relevant first."""

    doc_id: str
    title: str
    publisher: str
    date: str
    lines: tuple[Line, ...]


def coverage(topic: str, index, embed: Callable[[list[str]], np.ndarray], per_article: int = PER_ARTICLE,
             candidates: int = CANDIDATES) -> list[Coverage]:
    """Articles in the order of their best sentence about `topic`, each with up to `per_article` sentences.

    ('Ukraine', index of 5 news articles, embed) -> [Coverage('003_…', 'Xi’s trip to Russia …', 'NBC News', …, lines=(…)), …]
    """
    chunks = [index.chunks[row] for row, _ in index.search_bm25(topic, candidates)]
    found = about(topic, chunks, embed, limit=len(chunks) * 8)
    per: dict[str, list[Line]] = {}
    for s in found:  # `about` lists each article's best first, then each one's next best
        lines = per.setdefault(s.chunk.doc_id, [])
        if len(lines) < per_article:
            lines.append(line_of(s.chunk, s.start, s.end))
    return [Coverage(doc, lines[0].title, lines[0].publisher, lines[0].date, tuple(lines)) for doc, lines in per.items()]
