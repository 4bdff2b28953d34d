"""The newsroom desk: a story seen whole, from the index alone (no language model): who said what (quotes),
what each outlet reports on a topic (coverage), what happened when (timeline) and where the articles give
different figures for the same thing (differences). Every row is an exact sentence of an article.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from ..chunk import split_sentences
from ..types import Chunk


@dataclass(frozen=True)
class Line:
    """One exact sentence of an article and where it is: `chunk.text[start:end] == text`, and
    `offset` is where it starts in the article's cleaned text (what the Articles view shows)."""

    doc_id: str
    title: str
    publisher: str
    date: str
    chunk_id: str
    start: int
    end: int
    text: str
    offset: int = 0


def line_of(chunk: Chunk, start: int, end: int) -> Line:
    """Chunk('a:0', text='Xi met Putin. He left.', start=100), 0, 13 -> Line(..., text='Xi met Putin.', offset=100)"""
    return Line(chunk.doc_id, chunk.title, chunk.publisher, chunk.date, chunk.id, start, end,
                chunk.text[start:end], chunk.start + start)


def sentences(chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, int, int]]:
    """Each sentence of the articles once, as (chunk, start, end): chunks overlap by a sentence."""
    seen = set()
    for chunk in chunks:
        for start, end in split_sentences(chunk.text):
            if (chunk.doc_id, chunk.start + start) not in seen:
                seen.add((chunk.doc_id, chunk.start + start))
                yield chunk, start, end
