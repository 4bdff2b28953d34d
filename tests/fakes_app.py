"""A scripted stand-in for rag.Pipeline, with the same methods the web chat calls (stream, ask, warm, with_model).

Answers are canned per question; anything else gets an answer that names the question, so a test
can tell whose answer it is. It records calls and how many generations ever overlapped.
"""
from __future__ import annotations

import threading
import time
from typing import Iterator

from rag import Answer, Chunk, Citation, Evidence, Hit, QuestionError

KIRBY = Chunk(
    id="000_d23a82ec91eb8c2b:7",
    doc_id="000_d23a82ec91eb8c2b",
    title="Xi Jinping says China ready to work with Russia to ‘safeguard the world order’",
    text="“This is a relationship that has been burgeoning of late. These two countries have grown closer,” "
    "National Security Council coordinator John Kirby told reporters on Monday.",
    start=0,
    end=170,
    publisher="NBC News",
    date="2023-03-20",
    speakers=("John Kirby",),
)
EXPORTS = Chunk(
    id="001_899089616a540f22:3",
    doc_id="001_899089616a540f22",
    title="Xi Jinping: Russia, China should bolster ties at multilateral groups",
    text="Trade has boomed. China’s exports to Russia hit a record in April, jumping 153% from a year earlier.",
    start=0,
    end=101,
    publisher="Bloomberg",
    date="2023-05-24",
)
HOSTILE = Chunk(  # an article carrying markup that must show as text
    id="666_evil:0",
    doc_id="666_evil",
    title="<img src=x onerror=\"window.__xss='title'\">Evil & Co",
    text="Intro. <script>window.__xss='script'</script> The quote <b>here</b> ${window.__xss='tpl'} end.",
    start=0,
    end=90,
    publisher="<i>Pub</i>",
    date="2024-01-01",
)


def _cite(n: int, chunk: Chunk, quote: str, score: float) -> Citation:
    return Citation(n=n, chunk=chunk, quote=quote, quote_start=chunk.text.index(quote), score=score)


def scripted(question: str, searched: str, k: int, model: str) -> tuple[list[str], Answer]:
    """(pieces streamed, final Answer) for a question."""
    q = searched.lower()
    if "kirby" in q and "role" in q:
        pieces = ["John Kirby is the National Security ", "Council coordinator [1]."]
        cites = [_cite(1, KIRBY, "National Security Council coordinator John Kirby told reporters on Monday.", 0.031)]
    elif "kirby" in q:
        pieces = ["Kirby said the two countries ", "“have grown closer” [1]", " and their relationship is burgeoning [1]."]
        cites = [_cite(1, KIRBY, "These two countries have grown closer,”", 0.033)]
    elif "export" in q:
        pieces = ["They jumped 153% ", "from a year earlier [1]."]
        cites = [_cite(1, EXPORTS, "China’s exports to Russia hit a record in April, jumping 153% from a year earlier.", 0.032)]
    elif "<" in q or "hostile" in q:
        pieces = ["The article says <b>here</b> ", "<script>window.__xss='answer'</script>[1]."]
        cites = [_cite(1, HOSTILE, "The quote <b>here</b> ${window.__xss='tpl'} end.", 0.02)]
    elif "world cup" in q:
        hits = [Hit(chunk=EXPORTS, score=0.01, similarity=0.1)]
        answer = Answer(question=question, text="The articles don't say.", refused=True, hits=hits,
                        timings={"retrieve": 0.01, "total": 0.01}, searched=searched, model=model)
        return [], answer
    else:
        pieces = [f"About “{question}”: ", "the articles say something [1]."]
        cites = [_cite(1, EXPORTS, "Trade has boomed.", 0.01)]
    hits = [Hit(chunk=c.chunk, score=c.score, similarity=0.6) for c in cites][:k]
    answer = Answer(
        question=question,
        text="".join(pieces),
        citations=cites,
        hits=hits,
        timings={"retrieve": 0.012, "first_token": 0.25, "total": 1.5},
        searched=searched,
        prompt_tokens=321,
        model=model,
    )
    return pieces, answer


class FakeEngine:
    """Streams scripted answers `delay` seconds per piece, one generation at a time (like llama.cpp)."""

    def __init__(self, model: str = "fake-small", delay: float = 0.05, warm_seconds: float = 0.0,
                 max_question_chars: int = 2000):
        self.model = model
        self.delay = delay
        self.warm_seconds = warm_seconds
        self.max_question_chars = max_question_chars
        self.calls: list[dict] = []
        self.warmed = threading.Event()
        self.active = 0
        self.max_active = 0
        self.users = 0  # generations running or waiting for the lock
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._others: dict[str, FakeEngine] = {}

    def warm(self) -> None:
        time.sleep(self.warm_seconds)
        self.warmed.set()

    def with_model(self, name: str) -> "FakeEngine":
        if name == self.model:
            return self
        if name not in self._others:
            self._others[name] = FakeEngine(name, self.delay, self.warm_seconds, self.max_question_chars)
        return self._others[name]

    def standalone(self, question: str, history: list[dict]) -> str:
        """A follow-up that says 'his'/'he' is rewritten with the last person asked about."""
        words = question.lower().replace("?", " ").split()
        if history and ({"he", "his", "him"} & set(words)) and "kirby" in " ".join(m["content"] for m in history).lower():
            return question.replace("his", "John Kirby's").replace("he ", "John Kirby ")
        return question

    def stream(self, question: str, history: list[dict] | None = None, k: int = 4) -> Iterator[str | Answer]:
        history = list(history or [])
        if not question.strip():
            raise QuestionError("The question is empty: type a question about the articles.")
        if len(question) > self.max_question_chars:
            raise QuestionError(
                f"The question is too long ({len(question):,} characters; the limit is {self.max_question_chars:,})."
            )
        self.calls.append({"question": question, "history": history, "k": k})
        searched = self.standalone(question, history)
        pieces, answer = scripted(question, searched, k, self.model)
        if not pieces:  # refused before generation: like the real pipeline, no model, so no waiting for it
            yield answer.text
            yield answer
            return
        with self._count_lock:
            self.users += 1
        try:
            yield from self._generate(pieces, answer)
        finally:
            with self._count_lock:
                self.users -= 1

    def waiting(self) -> int:
        return self.users

    def _generate(self, pieces: list[str], answer: Answer) -> Iterator[str | Answer]:
        with self._lock:
            with self._count_lock:
                self.active += 1
                self.max_active = max(self.max_active, self.active)
            try:
                # like the real pipeline: the passages it reads, before the first token (which takes a while)
                yield Evidence(answer.hits, [(0, min(len(h.chunk.text), 40)) for h in answer.hits])
                time.sleep(4 * self.delay)
                for piece in pieces:
                    time.sleep(self.delay)
                    yield piece
                yield answer
            finally:
                with self._count_lock:
                    self.active -= 1

    def ask(self, question: str, history: list[dict] | None = None, k: int = 4) -> Answer:
        result = None
        for item in self.stream(question, history=history, k=k):
            if isinstance(item, Answer):
                result = item
        return result
