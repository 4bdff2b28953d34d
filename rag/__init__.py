"""Cited question answering over news articles, offline: `rag.ask("What did Kirby say?")`.

search/ask/stream use the default corpus, index and models (RAG_* environment variables apply), loaded
on first use and reused; `Pipeline(config)` does the same for another corpus, index or model.
"""
from __future__ import annotations

import threading
from typing import Iterator

from .config import Config
from .errors import CorpusError, ModelError, QuestionError, RagError, StoreError
from .models import available_models
from .pipeline import Pipeline
from .refusal import REFUSAL
from .retrieve import Filter
from .types import Answer, Chunk, Citation, Document, Evidence, Hit

__all__ = [
    "Answer", "Chunk", "Citation", "Config", "CorpusError", "Document", "Evidence", "Filter", "Hit", "ModelError", "Pipeline",
    "QuestionError", "REFUSAL", "RagError", "StoreError", "ask", "available_models", "default_pipeline", "search", "stream",
]

_default: Pipeline | None = None
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
