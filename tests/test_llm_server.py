"""rag/llm_server.py: answers streamed from an OpenAI-compatible server. Fast tests talk to a tiny fake server in
a thread; the slow ones start `python -m llama_cpp.server` with SmolLM2 on a loopback port and run the pipeline's
answer and citation checks through it."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import HashEmbedder, stop

from rag import Evidence, Pipeline
from rag.llm_server import OpenAIGenerator, api_base, estimate_tokens, server_root

pytest.importorskip("openai")

KIRBY_Q = "How did Kirby describe the two countries?"  # answered by the LLM (not a who-said listing)


def test_urls():
    assert api_base("http://h:8000") == api_base("http://h:8000/") == "http://h:8000/v1"
    assert api_base("http://h:11434/v1/") == "http://h:11434/v1"
    assert server_root("http://h:8000/v1") == "http://h:8000"


def test_the_estimate_over_counts_english():
    assert estimate_tokens("Hello world") == 6
    assert estimate_tokens("") == 0
    assert estimate_tokens("é") == 1  # 2 bytes


class FakeServer(BaseHTTPRequestHandler):
    """/v1/models, streaming /v1/chat/completions (the reply is a class attribute), and, when `tokenize` is on,
    llama-cpp-python's /extras/tokenize/count with one token per word plus a BOS."""

    reply = "Kirby said these two countries have grown closer [1]."
    tokenize = True
    requests: list[dict] = []

    def log_message(self, *args):
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/v1/models":
            return self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model",
                                                                "created": 0, "owned_by": "me"}]})
        self._json(404, {"error": "not found"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        type(self).requests.append({"path": self.path, **body})
        if self.path == "/extras/tokenize/count" and self.tokenize:
            return self._json(200, {"count": len(body["input"].split()) + 1})
        if self.path != "/v1/chat/completions":
            return self._json(404, {"error": "not found"})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for word in self.reply.split(" "):
            chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                     "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture
def fake():
    FakeServer.requests, FakeServer.tokenize = [], True
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_streams_the_reply_from_the_first_listed_model(fake):
    gen = OpenAIGenerator(fake)
    pieces = list(gen.stream([{"role": "user", "content": "hi"}], max_tokens=50))
    assert "".join(pieces).strip() == FakeServer.reply and len(pieces) > 3
    [chat] = [r for r in FakeServer.requests if r["path"] == "/v1/chat/completions"]
    assert chat["model"] == "fake-model" and chat["max_tokens"] == 50 and chat["stream"] is True
    assert chat["temperature"] == 0 and chat["top_k"] == 1 and chat["seed"] == 0 and chat["repeat_penalty"] == 1.0


def test_counts_tokens_with_the_server_without_its_bos(fake):
    gen = OpenAIGenerator(fake, model="m")
    assert gen.count_tokens("one two three") == 3 and gen.counting == "server"


def test_without_a_tokenize_endpoint_the_local_gguf_or_the_estimate_counts(fake):
    FakeServer.tokenize = False
    gen = OpenAIGenerator(fake, model="m")
    assert gen.count_tokens("Hello world") == 6 and gen.counting == "estimate"


def test_a_server_running_our_gguf_is_counted_here_without_round_trips(fake):
    from rag.models import resolve

    gen = OpenAIGenerator(fake, model=str(resolve("smollm2-135m")), local_model="smollm2-135m")
    assert gen.count_tokens("Kirby said these two countries have grown closer.") > 5
    assert gen.counting == "local gguf"
    assert not [r for r in FakeServer.requests if "tokenize" in r["path"]]  # none queued behind generations


def test_the_pipeline_answers_through_the_server_with_citations(fake, config):
    p = Pipeline(replace(config, llm_url=fake), embedder=HashEmbedder())
    assert isinstance(p.generator, OpenAIGenerator)
    answer = p.ask(KIRBY_Q)
    assert not answer.refused and answer.citations and "grown closer" in answer.citations[0].quote
    assert 0 < answer.prompt_tokens <= config.n_ctx - config.max_tokens


# ---- the real thing: llama-cpp-python's server with SmolLM2 -----------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server():
    """`python -m llama_cpp.server` with SmolLM2 on a free loopback port; stopped after the module."""
    from rag.models import resolve

    port = free_port()
    log = open(os.devnull, "w")
    server = subprocess.Popen(
        ["nice", "-n", "19", sys.executable, "-m", "llama_cpp.server", "--model", str(resolve("smollm2-135m")),
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--seed", "0"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(url + "/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"llama_cpp.server did not start (exit code {server.poll()})")
            time.sleep(0.5)
        yield url
    finally:
        stop(server, 15)
        log.close()


@pytest.mark.slow
def test_llama_cpp_server_answers_with_checked_citations(llama_server, config):
    from test_real_models import assert_well_formed

    p = Pipeline(replace(config, llm_url=llama_server, llm="smollm2-135m"), embedder=HashEmbedder())
    gen = p.generator
    assert isinstance(gen, OpenAIGenerator)
    # the server's own tokenizer, and it agrees with the same GGUF loaded here
    from rag.generate import LlamaGenerator

    local = LlamaGenerator("smollm2-135m")
    text = "Kirby said these two countries have grown closer, citing AUKUS."
    import httpx

    served = httpx.post(llama_server + "/extras/tokenize/count", json={"input": text}).json()["count"]
    bos = httpx.post(llama_server + "/extras/tokenize/count", json={"input": ""}).json()["count"]
    # the server serves the GGUF RAG_LLM names: counted here, exactly as the server counts
    assert gen.count_tokens(text) == local.count_tokens(text) == served - bos and gen.counting == "local gguf"
    first = p.ask(KIRBY_Q)
    assert_well_formed(first)
    assert first.prompt_tokens > 0 and "first_token" in first.timings
    # Not asserted: the same text on a second call. The server re-reads only the part of a prompt that differs
    # from the previous one, and that changes the float sums enough for greedy decoding to part ways.
    parts = list(p.stream("How much did China's exports to Russia grow in April?"))
    assert isinstance(parts[0], Evidence) and all(isinstance(x, str) for x in parts[1:-1])
    assert_well_formed(parts[-1])
    refused = p.ask("Who won the 2022 FIFA World Cup?")
    assert refused.refused and not refused.citations
    # the same GGUF in-process: the same passages shown, budgeted with the same token counts, and both
    # answers pass the same checks (the texts may part ways after a while, for the reason above)
    in_process = Pipeline(replace(config, llm="smollm2-135m"), embedder=HashEmbedder(), index=p.index)
    for question in (KIRBY_Q, "How much did China's exports to Russia grow in April?"):
        here, there = in_process.ask(question), p.ask(question)
        assert there.prompt_tokens == here.prompt_tokens > 0
        assert [h.chunk.id for h in there.hits] == [h.chunk.id for h in here.hits]
        assert_well_formed(here)
        assert_well_formed(there)
