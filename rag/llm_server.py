"""A Generator that streams chat completions from any OpenAI-compatible server (llama.cpp's server, vLLM, Ollama,
TGI) through the `openai` client. No lock here: the server queues concurrent requests, so the web chat serves
several users at once. Chosen with `RAG_LLM_URL` (plus optional `RAG_LLM_KEY`, `RAG_LLM_MODEL`).

Token counts for the prompt budget come, in order of preference, from a local copy of the GGUF the server
names (`RAG_LLM` naming the same file; vocabulary only, no weights loaded: llama-cpp-python's server answers
its tokenize endpoint only between generations, so with several users each count would queue), from the
server itself (`/extras/tokenize/count` of llama-cpp-python's server, `/tokenize` of llama.cpp's and vLLM's),
from a local GGUF that may not be the served one, or from a conservative estimate of one token per two UTF-8 bytes (English runs ~4 bytes a token, so this shows
fewer passages rather than overflow the context).
"""
from __future__ import annotations

import math
import threading
from typing import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ModelError


def api_base(url: str) -> str:
    """'http://h:8000' -> 'http://h:8000/v1'; a URL that already has a path is kept as given."""
    url = url.rstrip("/")
    return url + "/v1" if urlsplit(url).path in ("", "/") else url


def server_root(url: str) -> str:
    """'http://h:8000/v1' -> 'http://h:8000' (the tokenize endpoints live outside /v1)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def estimate_tokens(text: str) -> int:
    """The fallback count: one token per two UTF-8 bytes, rounded up. 'Hello world' (11 bytes) -> 6"""
    return math.ceil(len(text.encode("utf-8")) / 2)


class OpenAIGenerator:
    """`name`, `n_ctx`, `count_tokens`, `stream` (rag.generate.Generator) over an OpenAI-compatible server.
    `n_ctx` is ours to state (the API does not report it): set RAG_N_CTX to the server's context size."""

    def __init__(self, url: str, model: str = "", key: str = "", local_model: str = "", n_ctx: int = 2048,
                 temperature: float = 0.0, seed: int = 0, timeout: float = 600.0):
        self.url, self.key, self.local_model = api_base(url), key or "none", local_model
        self.n_ctx, self.temperature, self.seed, self.timeout = n_ctx, temperature, seed, timeout
        self._model = model
        self._client = None
        self._counter: Callable[[str], int] | None = None
        self.counting = ""  # which token counter is in use: 'server', 'local gguf' or 'estimate'
        self._init_lock = threading.Lock()

    @property
    def client(self):
        with self._init_lock:
            if self._client is None:
                try:
                    from openai import OpenAI
                except ImportError as e:
                    raise ModelError("an LLM server needs the openai client: pip install 'rag-news[scale]'") from e
                self._client = OpenAI(base_url=self.url, api_key=self.key, timeout=self.timeout, max_retries=1)
        return self._client

    @property
    def name(self) -> str:
        """The served model: RAG_LLM_MODEL, else the first the server lists."""
        if not self._model:
            try:
                models = self.client.models.list().data
            except Exception as e:
                raise ModelError(f"cannot reach the LLM server at {self.url}: {e}") from e
            if not models:
                raise ModelError(f"the LLM server at {self.url} serves no model")
            self._model = models[0].id
        return self._model

    def count_tokens(self, text: str) -> int:
        if self._counter is None:
            self._counter, self.counting = self._pick_counter()
        return self._counter(text)

    def _pick_counter(self) -> tuple[Callable[[str], int], str]:
        import httpx

        local = _local_tokenizer(self.local_model)
        if local is not None and _same_file(self.name, self.local_model):
            return local, "local gguf"  # exact, and no round trip queued behind other users' generations
        http = httpx.Client(base_url=server_root(self.url), timeout=self.timeout,
                            headers={"Authorization": f"Bearer {self.key}"})
        # (path, request body, token count from the reply); each server answers one of these
        shapes = [
            ("/extras/tokenize/count", lambda t: {"input": t}, lambda r: r["count"]),  # llama-cpp-python
            ("/tokenize", lambda t: {"content": t}, lambda r: len(r["tokens"])),  # llama.cpp server
            ("/tokenize", lambda t: {"model": self.name, "prompt": t, "add_special_tokens": False},
             lambda r: r["count"]),  # vLLM
        ]
        for path, body, count in shapes:
            try:
                def ask(t, path=path, body=body, count=count) -> int:
                    response = http.post(path, json=body(t))
                    response.raise_for_status()
                    return int(count(response.json()))
                bos = ask("")  # servers that add BOS count it for every text: subtract it
                ask("probe")
            except Exception:
                continue
            return (lambda t, ask=ask, bos=bos: max(ask(t) - bos, 0)), "server"
        if local is not None:
            return local, "local gguf"
        return estimate_tokens, "estimate"

    def stream(self, messages: list[dict], max_tokens: int) -> Iterator[str]:
        # Greedy and unpenalized where the server supports it, as the in-process generator decodes
        # (llama-cpp-python's server defaults to repeat_penalty 1.1, which changes answers after a sentence).
        extra = {"top_k": 1, "repeat_penalty": 1.0} if self.temperature == 0 else {}
        try:
            chunks = self.client.chat.completions.create(
                model=self.name, messages=messages, max_tokens=max_tokens, temperature=self.temperature,
                seed=self.seed, stream=True, extra_body=extra)
        except Exception as e:
            raise ModelError(f"the LLM server at {self.url} failed: {e}") from e
        for chunk in chunks:
            if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content


def _same_file(served: str, local_model: str) -> bool:
    """Does the server name the GGUF that RAG_LLM names here? llama-cpp-python's server lists the model by
    its path: '/models/SmolLM2-135M-Instruct.Q4_1.gguf' and 'smollm2-135m' (packaged) -> True."""
    try:
        from .models import resolve

        where = resolve(local_model)
    except Exception:
        return False
    return hasattr(where, "name") and Path(served).name == where.name


def _local_tokenizer(model: str) -> Callable[[str], int] | None:
    """The tokenizer of a local GGUF (vocabulary only), or None when there is none to load."""
    if not model:
        return None
    try:
        from llama_cpp import Llama

        from .models import resolve

        where = resolve(model)
        if not hasattr(where, "is_file"):
            return None  # a hub id: nothing local
        llm = Llama(model_path=str(where), vocab_only=True, verbose=False)
    except Exception:
        return None
    return lambda t: len(llm.tokenize(t.encode("utf-8"), add_bos=False, special=True))
