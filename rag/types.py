"""The values that flow through the pipeline: Document -> Chunk -> Hit -> Answer with Citations.

All are frozen dataclasses, so `dataclasses.asdict(answer)` is the JSON form of any result.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class HeaderLine:
    """A line of an article's header as its file has it: `decode(file bytes)[start:end] == text`.
    start == end == -1 for a value that comes from an HTML page's metadata, not from its visible text."""

    field: Literal["title", "byline", "date", "publisher"]
    text: str  # the whole line as written: "By Andrea Mitchell and Dan De Luce", "© 2023 Washington Examiner"
    value: str  # what it says of the field: "Andrea Mitchell and Dan De Luce", "Washington Examiner"
    start: int = -1
    end: int = -1


@dataclass(frozen=True)
class Document:
    """One article, cleaned. `doc_id` is the file stem, stable across rebuilds."""

    doc_id: str
    title: str
    text: str  # cleaned body; chunk offsets index into this string
    path: str = ""
    publisher: str = ""
    date: str = ""
    byline: str = ""
    header: tuple[HeaderLine, ...] = ()  # where title, byline, date and publisher are written in the file


@dataclass(frozen=True)
class Header:
    """What an article says of itself (the index keeps one per article): its title, byline, date and
    publisher, and the lines of its file that say so, which an answer about the article cites."""

    doc_id: str
    title: str
    publisher: str = ""
    date: str = ""
    byline: str = ""
    file: str = ""  # the file's name in the corpus folder
    lines: tuple[HeaderLine, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one Document: `document.text[start:end] == text`."""

    id: str  # "<doc_id>:<n>", unique in an index
    doc_id: str
    title: str
    text: str
    start: int
    end: int
    publisher: str = ""
    date: str = ""
    speakers: tuple[str, ...] = ()  # people quoted in this chunk (speaker-aware retrieval)
    said: tuple[tuple[int, int, str], ...] = ()  # (start, end, speaker) of each attributed sentence in text

    def __post_init__(self):  # rows read back from JSON hold lists: keep the dataclass hashable
        object.__setattr__(self, "speakers", tuple(self.speakers))
        object.__setattr__(self, "said", tuple(tuple(x) for x in self.said))


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk. `score` is the fused rank score (higher is better);
    `similarity` is the cosine between question and chunk, used for the refusal threshold."""

    chunk: Chunk
    score: float
    similarity: float = 0.0
    dense_rank: int | None = None  # 1-based rank in the dense list, None if absent
    bm25_rank: int | None = None


@dataclass(frozen=True)
class Citation:
    """Marker [n] of an answer, pointing at the passage shown as [n].
    `quote` is the supporting sentence(s): always an exact substring of `chunk.text`."""

    n: int
    chunk: Chunk
    quote: str
    quote_start: int = 0  # offset of quote inside chunk.text
    score: float = 0.0  # retrieval score of the cited hit


@dataclass(frozen=True)
class Evidence:
    """What the model is about to read, yielded by `stream` before the answer's first text piece, so the web
    chat and `rag ask` show the sources at once: the passages as [1]..[n] and, in each, the (start, end) in
    `chunk.text` of the sentence that best matches the question."""

    hits: list[Hit]
    best: list[tuple[int, int]]


# Why an answer is a refusal (rag.refusal decides; "" when the question was answered).
Reason = Literal["", "no_passages", "not_in_corpus", "nothing_relevant", "model_refused", "nothing_verifiable",
                 "not_answered"]


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # the answer with [n] markers (or the refusal text)
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    hits: list[Hit] = field(default_factory=list)  # the passages shown to the model, as [1]..[k]
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    searched: str = ""  # the standalone question that was actually searched
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""
    reason: Reason = ""  # why it was refused; rag.refusal.explain(reason) says it in words
    note: str = ""  # a sentence for the reader beside the answer, e.g. which name the articles never mention
    scope: str = ""  # what a filter let the search see, e.g. "2 of 6 articles"; "" when unfiltered
