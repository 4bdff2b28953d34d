"""Generator protocol + the llama.cpp one: streamed, deterministic, all cores, one caller at a time."""
from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Iterator, Protocol

from .errors import ModelError
from .models import resolve


class Generator(Protocol):
    name: str
    n_ctx: int

    def count_tokens(self, text: str) -> int: ...

    def stream(self, messages: list[dict], max_tokens: int) -> Iterator[str]:
        """Yield the reply's text pieces as they are generated."""


class LlamaGenerator:
    """A GGUF chat model run by llama-cpp-python. llama.cpp contexts are not thread-safe, so `stream`
    holds a lock for the whole generation: concurrent callers wait their turn instead of corrupting state."""

    def __init__(self, model: str, n_ctx: int = 2048, n_threads: int | None = None, temperature: float = 0.0,
                 seed: int = 0):
        self.name = model
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.temperature = temperature
        self.seed = seed
        self.lock = threading.Lock()
        self._llm = None
        self._load_lock = threading.Lock()

    @property
    def llm(self):
        with self._load_lock:
            if self._llm is None:
                self._llm = self._load()
        return self._llm

    def _load(self):
        try:
            from llama_cpp import Llama
        except ImportError as e:
            raise ModelError("llama-cpp-python is not installed: run scripts/setup (it builds it for this CPU)") from e
        where = resolve(self.name)
        kwargs = dict(n_ctx=self.n_ctx, n_threads=self.n_threads, n_threads_batch=self.n_threads, seed=self.seed,
                      verbose=False)
        try:
            with _quiet():
                if isinstance(where, Path):
                    return Llama(model_path=str(where), **kwargs)
                return Llama.from_pretrained(repo_id=where[0], filename=where[1], **kwargs)
        except Exception as e:
            raise ModelError(f"cannot load model {self.name!r}: {e}") from e

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(self, messages: list[dict], max_tokens: int) -> Iterator[str]:
        with self.lock:
            self.llm.reset()  # same prompt, same answer: no state carried over from the previous call
            chunks = self.llm.create_chat_completion(
                messages=messages, max_tokens=max_tokens, temperature=self.temperature, top_k=1, seed=self.seed,
                stream=True,
            )
            for chunk in chunks:
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece


@contextlib.contextmanager
def _quiet():
    """llama.cpp prints its load log on fd 2 even with verbose=False in some builds; keep the CLI clean."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
