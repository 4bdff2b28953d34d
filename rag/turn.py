"""One question being answered: what every kind's handler reads, and the one way each ends in an Answer.

A handler (rag/kinds/) gets a Turn whose passages are already searched: `hits` (the k shown) and
`context` (a wider list, to check that an answer's articles hold what the question pins down). It looks
further with `keyword_chunks`, reads `embed` (memoised for this question) and `generator`, and finishes
with `answer(...)`, `answer_checked(...)` or `refuse(...)`.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Iterator

from .embed import memo
from .refusal import REFUSAL, Verdict
from .retrieve import Filter, allowed_rows, bm25_within
from .types import Answer, Chunk, Hit

if TYPE_CHECKING:
    from .cite import Checked
    from .pipeline import Pipeline

CONTEXT = 12  # passages read to check that an answer's articles hold what the question pins down


class Turn:
    def __init__(self, pipeline: "Pipeline", question: str, searched: str, history: list[dict] | None,
                 k: int | None, where: Filter | None, t0: float):
        self.pipeline, self.config = pipeline, pipeline.config
        self.question, self.searched, self.history, self.where, self.t0 = question, searched, history, where, t0
        self.k = k or self.config.k
        self.timings: dict[str, float] = {}
        self.embed = memo(pipeline.embedder.embed)
        self.hits: list[Hit] = []
        self.context: list[Hit] = []
        self.scope = ""

    @property
    def index(self):
        return self.pipeline.index

    @property
    def generator(self):
        return self.pipeline.generator

    def search(self) -> None:
        """One search serves both lists: the k best are shown, the wider context checks an answer's articles
        (the k best of a longer list are the same k: fusion ranks the same candidate lists)."""
        self.context = self.pipeline.search(self.searched, max(self.k, CONTEXT), self.where, shown=self.k)
        self.hits = self.context[:self.k]
        self.scope = self.where.describe(self.index.chunks) if self.where else ""
        self.timings["retrieve"] = time.perf_counter() - self.t0

    def keyword_chunks(self, words: str, n: int) -> list[Chunk]:
        """The n chunks of any article (within `where`) BM25 ranks best for `words`, then the hits' chunks,
        each once: what a speaker or a quote is looked up in beyond the few passages a search shows."""
        index = self.index
        found = (bm25_within(index, words, n, allowed_rows(index, self.where)) if self.where
                 else index.search_bm25(words, n))
        return list(dict.fromkeys([index.chunks[r] for r, _ in found] + [h.chunk for h in self.hits]))

    def with_their_articles(self, hits: list[Hit]) -> list[Hit]:
        """The hits, then the wider context's passages of the same articles: where a name the question pins
        down may sit beside the passage an answer quotes."""
        docs = {h.chunk.doc_id for h in hits}
        return hits + [h for h in self.context if h.chunk.doc_id in docs]

    def answer(self, **fields) -> Answer:
        """The Answer to this question; a refused one has the refusal text and no citations."""
        self.timings["total"] = time.perf_counter() - self.t0
        if fields.get("refused"):
            fields.update(text=REFUSAL, citations=[])
        return Answer(question=self.question, searched=self.searched, model=self.config.llm, timings=self.timings,
                      scope=self.scope, **fields)

    def answer_checked(self, checked: "Checked", verdict: Verdict, shown: list[Hit], **fields) -> Answer:
        """The Answer of a checked text and refusal's verdict on it."""
        return self.answer(text=checked.text, citations=checked.citations, refused=verdict.refused,
                           reason=verdict.reason, note=verdict.note, hits=shown, **fields)

    def refuse(self, verdict: Verdict, shown: list[Hit] | None = None) -> Iterator[str | Answer]:
        """Say the refusal, then end with it (the passages found, or `shown`, stay shown for the reader)."""
        yield REFUSAL
        yield self.answer(refused=True, reason=verdict.reason, note=verdict.note,
                          hits=self.hits if shown is None else shown)
