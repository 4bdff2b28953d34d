"""Fakes that plug in exactly where the real models do, and corpora/indexes built under tmp_path."""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag import Answer, Config, Pipeline

PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT / "corpus"


class HashEmbedder:
    """Deterministic bag-of-words embedder: each word hashes to a dimension; rows are L2-normalized.
    Texts sharing words get a positive cosine, so retrieval tests behave like the real thing, without weights."""

    def __init__(self, name: str = "fake-hash", dim: int = 256):
        self.name, self.dim = name, dim
        self.calls = 0  # texts embedded so far (incremental-build tests count these)

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


class ScriptedGenerator:
    """Replies with queued texts (or a function of the prompt), streamed word by word; records prompts."""

    def __init__(self, *replies, n_ctx: int = 2048):
        self.name, self.n_ctx = "scripted", n_ctx
        self.replies = list(replies)
        self.prompts: list[list[dict]] = []

    def enqueue(self, *replies: str) -> "ScriptedGenerator":
        self.replies += replies
        return self

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))

    def stream(self, messages: list[dict], max_tokens: int):
        self.prompts.append(messages)
        reply = self.replies.pop(0) if self.replies else "The articles don't say."
        reply = reply(messages) if callable(reply) else reply
        for piece in re.findall(r"\S+\s*", reply):
            yield piece


@pytest.fixture
def corpus_dir(tmp_path) -> Path:
    """A writable copy of the five shipped articles."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def config(tmp_path, corpus_dir) -> Config:
    return replace(Config(), corpus_dir=corpus_dir, index_dir=tmp_path / "index")


@pytest.fixture
def make_pipeline(config):
    """make_pipeline(*replies, **config_changes) -> Pipeline with the hash embedder and a scripted generator."""

    def make(*replies: str, embedder=None, **changes) -> Pipeline:
        return Pipeline(replace(config, **changes), embedder=embedder or HashEmbedder(),
                        generator=ScriptedGenerator(*replies))

    return make


def stop(process, timeout: float = 15) -> None:
    """End a server a test started: terminate, then kill if it does not exit within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ---- shared by the pipeline, kinds and second-pass tests ----
KIRBY_Q = "How did Kirby describe the two countries?"
# The first hit for KIRBY_Q (hash embedder) holds this sentence.
KIRBY_REPLY = "Kirby said these two countries have grown closer [1]."
EXPORTS_Q = "How much did China export to Russia in April?"
EXPORTS_REPLY = "China’s exports to Russia hit a record in April, jumping 153% [1]."


def user_prompt(generator: "ScriptedGenerator", i: int = -1) -> str:
    system, *examples, user = generator.prompts[i]
    assert system["role"] == "system" and user["role"] == "user"
    assert [m["role"] for m in examples] == ["user", "assistant"] * (len(examples) // 2)
    return user["content"]


def assert_exact_quotes(answer: Answer):
    for c in answer.citations:
        assert 1 <= c.n <= len(answer.hits)
        assert c.chunk == answer.hits[c.n - 1].chunk
        assert c.quote and c.quote in c.chunk.text
        assert c.chunk.text[c.quote_start:c.quote_start + len(c.quote)] == c.quote

