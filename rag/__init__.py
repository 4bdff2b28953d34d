"""Cited question answering over news articles, offline: `rag.ask("What did Kirby say?")`.

search/ask/stream use the default corpus, index and models (RAG_* environment variables apply), loaded
on first use and reused; `Pipeline(config)` does the same for another corpus, index or model.
quotes/coverage/timeline/differences are the newsroom desk's views of the same index, read without the
language model; `Desk(pipeline)` gives them for another pipeline.
"""
from __future__ import annotations

import threading
from typing import Iterator

from .config import Config
from .desk.coverage import Coverage
from .desk.differences import Difference
from .desk.quotes import Quote
from .desk.timeline import Event
from .desk.views import Desk
from .errors import CorpusError, ModelError, QuestionError, RagError, StoreError
from .models import available_models
from .pipeline import Pipeline
from .refusal import REFUSAL
from .retrieve import Filter
from .types import Answer, Chunk, Citation, Document, Evidence, Hit

__all__ = [
    "Answer", "Chunk", "Citation", "Config", "CorpusError", "Coverage", "Desk", "Difference", "Document", "Event",
    "Evidence", "Filter", "Hit", "ModelError", "Pipeline", "QuestionError", "Quote", "REFUSAL", "RagError", "StoreError",
    "ask", "available_models", "coverage", "default_desk", "default_pipeline", "differences", "quotes", "search", "stream",
    "timeline",
]

_default: Pipeline | None = None
_default_desk: Desk | None = None
_default_lock = threading.Lock()


def default_pipeline() -> Pipeline:
    global _default
    with _default_lock:
        if _default is None:
            _default = Pipeline(Config().with_env())
        return _default


def search(question: str, k: int = 5, where: Filter | None = None) -> list[Hit]:
    return default_pipeline().search(question, k, where)


def ask(question: str, history: list[dict] | None = None, k: int | None = None, where: Filter | None = None) -> Answer:
    return default_pipeline().ask(question, history, k, where)


def stream(question: str, history: list[dict] | None = None, k: int | None = None,
           where: Filter | None = None) -> Iterator[Evidence | str | Answer]:
    return default_pipeline().stream(question, history, k, where)


def default_desk() -> Desk:
    global _default_desk
    pipeline = default_pipeline()
    with _default_lock:
        if _default_desk is None:
            _default_desk = Desk(pipeline)
        return _default_desk


def quotes(speaker: str = "", article: str = "", word: str = "") -> list[Quote]:
    """Every statement the articles attribute to someone, in article order; narrowed by speaker (any part of
    the name), article (id or title words) and a word of the statement."""
    return default_desk().quotes(speaker, article, word)


def coverage(topic: str) -> list[Coverage]:
    """What each article says of `topic`: per article, its best sentences about it."""
    return default_desk().coverage(topic)


def timeline() -> list[Event]:
    """Dated events across the articles, oldest first, each with its sentence."""
    return default_desk().timeline()


def differences() -> list[Difference]:
    """Figures the articles give differently for the same thing, each article's figure with its sentence."""
    return default_desk().differences()
