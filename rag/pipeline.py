"""The flow of one question: check it, make it standalone, route it, search, refuse early or hand it to
its kind's handler.

    question -> standalone (rag.followup) -> Route (rag.route)
      two_part -> each part asked as a question of its own (rag.kinds.two_part)
      else     -> search -> refused before the model? (rag.refusal) -> HANDLERS[route.kind] (rag.kinds)

Pipeline also holds what the handlers share, each loaded on first use, once: the index (rag.build), the
embedder with its query cache (rag.embed) and the generator (rag.generate).
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Iterator

import numpy as np

from . import build, grammar, refusal, store
from .config import Config
from .embed import Embedder, QueryCache, SentenceTransformerEmbedder
from .errors import QuestionError
from .followup import standalone
from .generate import Generator, from_config
from .kinds import HANDLERS
from .retrieve import Filter, corpus_initials, search
from .route import route
from .turn import Turn
from .types import Answer, Chunk, Evidence, Hit


class Pipeline:
    """Corpus, index and models for one Config; everything heavy loads on first use, once."""

    def __init__(self, config: Config | None = None, embedder: Embedder | None = None,
                 generator: Generator | None = None, index: store.Index | None = None):
        self.config = config or Config()
        self.embedder = embedder or SentenceTransformerEmbedder(self.config.embed_model, self.config.embed_batch)
        self.queries = QueryCache(self.embedder)
        self._generator = generator
        self._index = index
        self._lock = threading.RLock()
        self._siblings: dict[str, Pipeline] = {}
        self.build_report: build.BuildReport | None = None

    @property
    def index(self) -> store.Index:
        with self._lock:
            if self._index is None:
                self._index, self.build_report = self.open_store(named=self.config.index_named)
            return self._index

    @property
    def generator(self) -> Generator:
        with self._lock:
            if self._generator is None:
                self._generator = from_config(self.config)
            return self._generator

    def warm(self) -> None:
        """Load index, embedder and LLM now (the web chat calls this at start-up); the figure parser loads beside."""
        self.embedder.embed(["warm up"])
        self.generator.count_tokens("warm up")
        grammar.preload()  # the parser rag.cite may ask (about 5 s to load), in the background
        _ = self.index

    def waiting(self) -> int:
        """Questions generating or waiting for this pipeline's model (0 for a generator that does not say,
        such as an LLM server, which queues on its own)."""
        count = getattr(self._generator, "waiting", None)
        return int(count()) if callable(count) else 0

    def with_model(self, llm: str) -> "Pipeline":
        """A pipeline for another LLM sharing this one's index and embedder."""
        if llm == self.config.llm:
            return self
        with self._lock:
            if llm not in self._siblings:
                self._siblings[llm] = Pipeline(replace(self.config, llm=llm), self.embedder, index=self.index)
            return self._siblings[llm]

    def chunks(self) -> list[Chunk]:
        return list(self.index.chunks)

    def standalone(self, question: str, history: list[dict] | None = None) -> str:
        return standalone(self._check(question), history)

    def search(self, question: str, k: int | None = None, where: Filter | None = None,
               shown: int | None = None) -> list[Hit]:
        """The k best hits; `shown` (default Config.k) is how many of them the model will see, where each
        retriever's first is placed (Config.top_each)."""
        question = self._check(question)
        c = self.config
        vector = self.query_vector(question) if c.retrieval != "bm25" else None
        return search(self.index, question, vector, k or c.k, c.retrieval, c.candidates, c.rrf_k, where=where,
                      anchor=c.anchor, named_only=c.named_only,
                      shown=(shown or c.k) if c.top_each else 0)

    def initials(self) -> frozenset[str]:
        """Initials of the corpus's capitalised phrases (rag.retrieve.corpus_initials)."""
        return corpus_initials(self.index)

    def query_vector(self, question: str) -> np.ndarray:
        return self.queries.vector(question)

    def ask(self, question: str, history: list[dict] | None = None, k: int | None = None,
            where: Filter | None = None) -> Answer:
        *_, answer = self.stream(question, history, k, where)
        return answer

    def stream(self, question: str, history: list[dict] | None = None, k: int | None = None,
               where: Filter | None = None) -> Iterator[Evidence | str | Answer]:
        """Yield an Evidence (the passages the model is about to read) when the model will answer, then the
        answer's text pieces as they are generated, then the checked Answer (always last)."""
        t0 = time.perf_counter()
        searched = self.standalone(question, history)
        way = route(searched)
        turn = Turn(self, question, searched, history, k, where, t0)
        if way.kind != "two_part":  # a question of two parts searches once per part
            turn.search()
            verdict = refusal.before_generation(searched, turn.hits, self.index.bm25.vocab, self.initials())
            if verdict.refused:
                yield from turn.refuse(verdict)
                return
        yield from HANDLERS[way.kind](turn, way)

    def use_index(self, index: store.Index, report: build.BuildReport | None = None) -> None:
        """Answer from `index` from now on (built elsewhere, e.g. by rag.library), here and in with_model() siblings."""
        with self._lock:
            self._index, self.build_report = index, report
            for sibling in self._siblings.values():
                sibling.use_index(index, report)

    def reindex(self, progress: bool = False) -> build.BuildReport:
        """Build or update the index now, even if the user named it (`rag index`)."""
        with self._lock:
            self._index, self.build_report = self.open_store(named=False, progress=progress)
            return self.build_report

    def open_store(self, named: bool, progress: bool = False, embedder: Embedder | None = None):
        """The configured store brought up to date with the corpus (rag.build.open_configured): (index, report);
        `embedder` stands in for the pipeline's (e.g. one that reports progress)."""
        return build.open_configured(self.config, embedder or self.embedder, named, progress)

    def _check(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise QuestionError("the question is empty")
        if len(question) > self.config.max_question_chars:
            raise QuestionError(f"the question is too long ({len(question):,} characters; the limit is "
                                f"{self.config.max_question_chars:,})")
        return " ".join(question.split())
