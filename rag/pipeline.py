"""The one place the stages are wired: question -> search -> prompt -> generate -> cite -> Answer."""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Iterator

from . import cite, store
from .config import Config, threads
from .embed import Embedder, SentenceTransformerEmbedder
from .errors import QuestionError
from .followup import standalone
from .generate import Generator, LlamaGenerator
from .prompt import REFUSAL, build_messages
from .retrieve import Filter, search
from .types import Answer, Chunk, Hit


class Pipeline:
    """Corpus, index and models for one Config; everything heavy loads on first use, once."""

    def __init__(self, config: Config | None = None, embedder: Embedder | None = None,
                 generator: Generator | None = None, index: store.Index | None = None):
        self.config = config or Config()
        self.embedder = embedder or SentenceTransformerEmbedder(self.config.embed_model, self.config.embed_batch)
        self._generator = generator
        self._index = index
        self._lock = threading.RLock()
        self._siblings: dict[str, Pipeline] = {}
        self.build_report: store.BuildReport | None = None

    @property
    def index(self) -> store.Index:
        with self._lock:
            if self._index is None:
                c = self.config
                self._index, self.build_report = store.open_index(
                    c.corpus_dir, c.index_dir, self.embedder, c.chunk_chars, c.chunk_overlap, named=c.index_named)
            return self._index

    @property
    def generator(self) -> Generator:
        with self._lock:
            if self._generator is None:
                c = self.config
                self._generator = LlamaGenerator(c.llm, c.n_ctx, threads(c), c.temperature, c.seed)
            return self._generator

    def warm(self) -> None:
        """Load index, embedder and LLM now (the web chat calls this at start-up)."""
        self.embedder.embed(["warm up"])
        self.generator.count_tokens("warm up")
        _ = self.index

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

    def search(self, question: str, k: int | None = None, where: Filter | None = None) -> list[Hit]:
        question = self._check(question)
        c = self.config
        vector = self.embedder.embed([question])[0] if c.retrieval != "bm25" else None
        return search(self.index, question, vector, k or c.k, c.retrieval, c.candidates, c.rrf_k, where=where)

    def ask(self, question: str, history: list[dict] | None = None, k: int | None = None,
            where: Filter | None = None) -> Answer:
        *_, answer = self.stream(question, history, k, where)
        return answer

    def stream(self, question: str, history: list[dict] | None = None, k: int | None = None,
               where: Filter | None = None) -> Iterator[str | Answer]:
        """Yield answer text pieces as they are generated, then the checked Answer (always last)."""
        t0 = time.perf_counter()
        searched = self.standalone(question, history)
        hits = self.search(searched, k, where)
        scope = where.describe(self.index.chunks) if where else ""
        timings = {"retrieve": time.perf_counter() - t0}
        done = lambda **kw: Answer(question=question, searched=searched, model=self.config.llm, scope=scope,  # noqa: E731
                                   timings={**timings, "total": time.perf_counter() - t0}, **kw)
        best = max((h.similarity for h in hits), default=0.0)
        if not hits or (self.config.retrieval != "bm25" and best < self.config.min_similarity) \
                or cite.off_topic(searched, hits, self.index.bm25.vocab):
            yield REFUSAL
            yield done(text=REFUSAL, refused=True, hits=hits)
            return
        gen = self.generator
        messages, shown, prompt_tokens = build_messages(searched, hits, gen.count_tokens,
                                                        gen.n_ctx - self.config.max_tokens)
        pieces: list[str] = []
        t_gen = time.perf_counter()
        for piece in gen.stream(messages, self.config.max_tokens):
            if not pieces:
                timings["first_token"] = time.perf_counter() - t0
            pieces.append(piece)
            yield piece
        timings["generate"] = time.perf_counter() - t_gen
        checked = cite.check("".join(pieces), shown)
        if not checked.refused and cite.off_subject(searched, [shown[c.n - 1] for c in checked.citations]):
            checked = cite.Checked(REFUSAL, [], True)
        yield done(text=checked.text, citations=checked.citations, refused=checked.refused, hits=shown,
                   prompt_tokens=prompt_tokens, completion_tokens=len(pieces))

    def use_index(self, index: store.Index, report: store.BuildReport | None = None) -> None:
        """Answer from `index` from now on (built elsewhere, e.g. by rag.library), here and in with_model() siblings."""
        with self._lock:
            self._index, self.build_report = index, report
            for sibling in self._siblings.values():
                sibling.use_index(index, report)

    def reindex(self, progress: bool = False) -> store.BuildReport:
        """Build or update the index now, even if the user named it (`rag index`)."""
        c = self.config
        with self._lock:
            self._index, self.build_report = store.open_index(
                c.corpus_dir, c.index_dir, self.embedder, c.chunk_chars, c.chunk_overlap, named=False,
                progress=progress)
            return self.build_report

    def _check(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise QuestionError("the question is empty")
        if len(question) > self.config.max_question_chars:
            raise QuestionError(f"the question is too long ({len(question):,} characters; the limit is "
                                f"{self.config.max_question_chars:,})")
        return " ".join(question.split())
