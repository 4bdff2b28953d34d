"""Generator protocol + the llama.cpp one: streamed, deterministic, all cores, one caller at a time.

The fixed start of every prompt (chat template + system prompt) is evaluated once and its KV state
kept; each question restores that state and evaluates only its own tokens. Restoring the same saved
state, rather than reusing whatever the previous question left, keeps answers identical token for
token whether a question is asked first, after another, or after a reload.

With a passage cache (`passage_cache` MB, off by default) each passage is also read only once: its KV is computed
alone after the fixed start, kept, and placed at its place in later prompts by shifting its positions (RoPE), so a
question reads only its own words. Passages then do not attend to one another: faster, and the answers differ
(eval/README.md, stop 28).
"""
from __future__ import annotations

import ctypes
import logging
import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from itertools import accumulate
from pathlib import Path
from typing import Iterator, Protocol

from .errors import ModelError
from .models import resolve

log = logging.getLogger(__name__)
_LOAD_LOCK = threading.Lock()  # llama-cpp-python swaps fds 1/2 while it loads: never two loads at once
_SENTINEL = "\x00RAG-USER\x00"


class Generator(Protocol):
    name: str
    n_ctx: int

    def count_tokens(self, text: str) -> int: ...

    def stream(self, messages: list[dict], max_tokens: int) -> Iterator[str]:
        """Yield the reply's text pieces as they are generated."""


def from_config(config) -> Generator:
    """The generator a Config names: an OpenAI-compatible server when `llm_url` is set, else llama.cpp here."""
    from .config import threads
    c = config
    if c.llm_url:
        from .llm_server import OpenAIGenerator
        return OpenAIGenerator(c.llm_url, c.llm_model, c.llm_key, c.llm, c.n_ctx, c.temperature, c.seed)
    return LlamaGenerator(c.llm, c.n_ctx, threads(c), c.temperature, c.seed, reuse_prefix=c.reuse_prefix,
                          lookup=c.lookup, passage_cache=c.passage_cache, flash_attn=c.flash_attn)


class LlamaGenerator:
    """A GGUF chat model run by llama-cpp-python. llama.cpp contexts are not thread-safe, so `stream`
    holds a lock for the whole generation: concurrent callers wait their turn instead of corrupting state."""

    def __init__(self, model: str, n_ctx: int = 2048, n_threads: int | None = None, temperature: float = 0.0,
                 seed: int = 0, reuse_prefix: bool = True, lookup: int = 0, passage_cache: int = 0,
                 flash_attn: bool = False):
        self.name = model
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.temperature = temperature
        self.seed = seed
        self.reuse_prefix = reuse_prefix  # False: evaluate every prompt from scratch (the bench's baseline)
        self.lookup = lookup  # >0: prompt-lookup decoding, drafting this many tokens copied from the prompt
        self.flash_attn = flash_attn  # llama.cpp's fused attention kernel (llama-cpp-python leaves it off)
        self.lock = threading.Lock()
        self._users = 0  # streams generating or waiting for the lock
        self._users_lock = threading.Lock()
        self._llm = None
        self._format = None
        self._prefixes: dict[tuple, object] = {}  # turns before the question -> saved KV state of the fixed start
        # (fixed start, passage) -> (its KV cells as llama.cpp saves one sequence, its token count), least recent first
        self.passage_cache = passage_cache if reuse_prefix else 0  # MB; 0 = read every passage in every prompt
        self._passages: OrderedDict[tuple, tuple[bytes, int]] = OrderedDict()
        self._passage_bytes = 0
        self.placed = 0  # prompt tokens the last generation took from the passage cache instead of reading
        self._load_lock = threading.Lock()

    @property
    def llm(self):
        with self._load_lock:
            if self._llm is None:
                self._llm = self._load()
                if self.passage_cache and not _can_place(self._llm):
                    log.warning("passage cache off: model %s cannot have its cached positions shifted", self.name)
                    self.passage_cache = 0
        return self._llm

    def _load(self):
        try:
            from llama_cpp import Llama
        except ImportError as e:
            raise ModelError("llama-cpp-python is not installed: run scripts/setup (it builds it for this CPU)") from e
        _silence_llama_log()
        where = resolve(self.name)
        kwargs = dict(n_ctx=self.n_ctx, n_threads=self.n_threads, n_threads_batch=self.n_threads, seed=self.seed,
                      flash_attn=self.flash_attn, verbose=False)
        if self.lookup:
            from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

            kwargs["draft_model"] = LlamaPromptLookupDecoding(num_pred_tokens=self.lookup)
        try:
            with _LOAD_LOCK, _two_sequences(self.passage_cache > 0):
                if isinstance(where, Path):
                    return Llama(model_path=str(where), **kwargs)
                return Llama.from_pretrained(repo_id=where[0], filename=where[1], **kwargs)
        except Exception as e:
            raise ModelError(f"cannot load model {self.name!r}: {e}") from e

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def render(self, messages: list[dict]) -> tuple[list[int], list[str]]:
        """The prompt tokens the model's own chat template makes of `messages`, and its stop strings."""
        result = self._formatter()(messages=messages)
        tokens = self.llm.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)
        stop = result.stop if isinstance(result.stop, list) else [result.stop] if result.stop else []
        return tokens, stop

    def waiting(self) -> int:
        """How many streams are generating or waiting for their turn (the web chat shows the queue)."""
        return self._users

    def stream(self, messages: list[dict], max_tokens: int) -> Iterator[str]:
        with self._users_lock:
            self._users += 1
        try:
            yield from self._stream(messages, max_tokens)
        finally:
            with self._users_lock:
                self._users -= 1

    def _stream(self, messages: list[dict], max_tokens: int) -> Iterator[str]:
        with self.lock:
            llm = self.llm
            tokens, stop = self.render(messages)
            if len(tokens) + max_tokens > self.n_ctx:
                raise ModelError(f"the prompt ({len(tokens)} tokens) and answer ({max_tokens}) do not fit the "
                                 f"model's context of {self.n_ctx} tokens: ask a shorter question or lower k")
            self.placed = 0
            if self.reuse_prefix:
                state = self._prefix_state(messages)
                llm.load_state(state)  # same start state for every question
                if self.passage_cache:
                    self.placed = self._placed_or_read(messages, tokens, state)
            else:
                llm.reset()
            try:
                chunks = llm.create_completion(
                    prompt=tokens, max_tokens=max_tokens, temperature=self.temperature, top_k=1, top_p=0.95,
                    min_p=0.05, repeat_penalty=1.0, seed=self.seed, stop=stop, stream=True,
                )
                for chunk in chunks:
                    piece = chunk["choices"][0]["text"]
                    if piece:
                        yield piece
            except ValueError as e:  # llama-cpp-python reports a context overflow as ValueError
                raise ModelError(f"the model could not read the prompt: {e}") from e

    def prefix_tokens(self, messages: list[dict]) -> int:
        """How many of the prompt's tokens are its fixed start, restored from the saved state instead of read."""
        return len(self._prefix_head(messages)[1]) if self.reuse_prefix else 0

    @staticmethod
    def _fixed(messages: list[dict]) -> tuple:
        """The turns before the question (every turn before the last user turn), as a key."""
        fixed = messages[:-1] if messages and messages[-1]["role"] == "user" else messages
        return tuple((m["role"], m["content"]) for m in fixed)

    def _prefix_head(self, messages: list[dict]) -> tuple[tuple, list[int]]:
        """(key, tokens) of the prompt's fixed start: every turn before the last, and the last user turn's opening."""
        key = self._fixed(messages)
        probe = list(messages[:len(key)]) + [{"role": "user", "content": _SENTINEL}]
        result = self._formatter()(messages=probe)
        head = result.prompt[:result.prompt.index(_SENTINEL)]
        tokens = self.llm.tokenize(head.encode("utf-8"), add_bos=not result.added_special, special=True)
        return key, tokens

    def _prefix_state(self, messages: list[dict]):
        """The saved KV state after the prompt's fixed start: template + system prompt + the worked examples
        (every turn before the last) + the last user turn's opening. Evaluated once per fixed start."""
        key = self._fixed(messages)
        if key not in self._prefixes:
            key, tokens = self._prefix_head(messages)
            self.llm.reset()
            self.llm.eval(tokens)
            self._prefixes[key] = self.llm.save_state()
        return self._prefixes[key]

    def _placed_or_read(self, messages: list[dict], tokens: list[int], state) -> int:
        """Place the cached passages; if llama.cpp fails at it, read the whole prompt as without the cache."""
        import llama_cpp

        try:
            return self._place_passages(messages, tokens, state)
        except Exception as e:  # a failed placement must not cost the answer: back to the restored fixed start
            log.warning("passage cache skipped: %s", e)
            llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(self.llm._ctx.ctx), 1, -1, -1)
            self.llm.load_state(state)
            return 0

    def _place_passages(self, messages: list[dict], tokens: list[int], state) -> int:
        """After the fixed start (`state`, restored) comes: put each passage's cached KV at its place in this
        prompt (reading the ones not cached), so generation reads only what follows them. Returns the tokens placed
        (0 when the prompt does not open with passages or its tokens cannot be told apart at their edges)."""
        import llama_cpp

        llm = self.llm
        start = state.n_tokens  # the fixed start's tokens, as saved with it
        if state.input_ids[:start].tolist() != tokens[:start]:
            return 0
        spans = self._passage_spans(messages, tokens, start)
        if not spans:
            return 0
        key = self._fixed(messages)
        kv = [self._passage_kv(key, span, start, state) for span in spans]
        llm.load_state(state)
        ctx = llm._ctx.ctx
        memory = llama_cpp.llama_get_memory(ctx)
        at = start
        for data, n in kv:
            buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
            if not data or llama_cpp.llama_state_seq_set_data(ctx, buffer, len(data), 1) != len(data):
                raise ModelError("llama.cpp could not restore a cached passage")
            if at != start:
                llama_cpp.llama_memory_seq_add(memory, 1, start, start + n, at - start)
            llama_cpp.llama_memory_seq_cp(memory, 1, 0, at, at + n)
            llama_cpp.llama_memory_seq_rm(memory, 1, -1, -1)
            at += n
        llm.input_ids[:at] = tokens[:at]  # create_completion sees these tokens as read and reads the rest
        llm.n_tokens = at
        return at - start

    def _passage_spans(self, messages: list[dict], tokens: list[int], head: int) -> list[tuple[int, ...]]:
        """The prompt's own tokens cut where its passages end (a token that straddles an edge goes with what
        follows), so placing them reads exactly the tokens the whole prompt holds; [] when there are none."""
        from . import prompt

        if not messages or messages[-1]["role"] != "user":
            return []
        content = messages[-1]["content"].encode("utf-8")
        ends = list(accumulate(len(unit.encode("utf-8")) for unit in prompt.passage_units(messages[-1]["content"])))
        spans, begin, at, done = [], head, head, 0
        for end in ends:
            while at < len(tokens) and done + len(piece := self.llm.detokenize([tokens[at]], special=True)) <= end:
                if content[done:done + len(piece)] != piece:
                    return []  # the tokens do not spell the message here (a template that rewrites it)
                done += len(piece)
                at += 1
            if at == begin or at >= len(tokens):
                return []
            spans.append(tuple(tokens[begin:at]))
            begin = at
        return spans

    def _passage_kv(self, key: tuple, piece: tuple[int, ...], start: int, state) -> tuple[bytes, int]:
        """The KV cells of one passage read alone after the fixed start (sequence 1, positions from `start`)."""
        import llama_cpp

        cached = self._passages.get((key, piece))
        if cached is not None:
            self._passages.move_to_end((key, piece))
            return cached
        llm = self.llm
        llm.load_state(state)
        ctx = llm._ctx.ctx
        memory = llama_cpp.llama_get_memory(ctx)
        llama_cpp.llama_memory_seq_rm(memory, 1, -1, -1)
        llama_cpp.llama_memory_seq_cp(memory, 0, 1, 0, start)  # the passage attends to the fixed start
        batch = llama_cpp.llama_batch_init(llm.n_batch, 0, 1)
        try:
            for i in range(0, len(piece), llm.n_batch):
                part = piece[i:i + llm.n_batch]
                batch.n_tokens = len(part)
                for j, token in enumerate(part):
                    batch.token[j], batch.pos[j], batch.n_seq_id[j] = token, start + i + j, 1
                    batch.seq_id[j][0], batch.logits[j] = 1, False
                if llama_cpp.llama_decode(ctx, batch) != 0:
                    raise ModelError("llama.cpp could not read a passage")
        finally:
            llama_cpp.llama_batch_free(batch)
        llama_cpp.llama_memory_seq_rm(memory, 1, 0, start)  # keep the passage's own cells only
        held = (llama_cpp.llama_memory_seq_pos_min(memory, 1), llama_cpp.llama_memory_seq_pos_max(memory, 1))
        size = llama_cpp.llama_state_seq_get_size(ctx, 1)
        buffer = (ctypes.c_uint8 * size)()
        got = llama_cpp.llama_state_seq_get_data(ctx, buffer, size, 1)
        llama_cpp.llama_memory_seq_rm(memory, 1, -1, -1)
        if held != (start, start + len(piece) - 1) or not 0 < got <= size:
            raise ModelError("llama.cpp did not keep a passage's cells")
        entry = (ctypes.string_at(buffer, got), len(piece))
        self._passages[(key, piece)] = entry
        self._passage_bytes += got
        while self._passage_bytes > self.passage_cache * 2**20 and len(self._passages) > 1:
            _, (old, _) = self._passages.popitem(last=False)
            self._passage_bytes -= len(old)
        return entry

    def _formatter(self):
        """The chat formatter llama-cpp-python would use for this model (its GGUF template, or a named format)."""
        if self._format is None:
            from llama_cpp import llama_chat_format as fmt

            llm = self.llm
            template = llm.metadata.get("tokenizer.chat_template")
            if template:
                def token(i: int) -> str:
                    return llm._model.token_get_text(i) if i >= 0 else ""

                self._format = fmt.Jinja2ChatFormatter(template=template, eos_token=token(llm.token_eos()),
                                                       bos_token=token(llm.token_bos()),
                                                       stop_token_ids=[llm.token_eos()])
            else:
                name = (llm.chat_format or "llama-2").replace("-", "_")
                format_fn = getattr(fmt, f"format_{name}", None)
                if format_fn is None:
                    raise ModelError(f"model {self.name!r} has no chat template llama-cpp-python can render")
                self._format = format_fn
        return self._format


def _can_place(llm) -> bool:
    """Can this model's KV be shifted to new positions (llama.cpp aborts the process when asked otherwise)?"""
    import llama_cpp

    model = llm._model.model
    return (bool(llama_cpp.llama_memory_can_shift(llama_cpp.llama_get_memory(llm._ctx.ctx)))
            and not llama_cpp.llama_model_is_recurrent(model) and not llama_cpp.llama_model_is_hybrid(model))


@contextmanager
def _two_sequences(on: bool):
    """While a model loads: contexts with two sequences sharing one KV buffer (the passage cache reads a passage in
    the second and copies it into the first). llama-cpp-python's Llama takes neither setting as an argument, so
    its default context parameters are amended for the load (under _LOAD_LOCK)."""
    if not on:
        yield
        return
    import llama_cpp.llama_cpp as low  # the module llama_cpp.llama reads its defaults from

    default = low.llama_context_default_params

    def amended():
        params = default()
        params.n_seq_max, params.kv_unified = 2, True
        return params

    low.llama_context_default_params = amended
    try:
        yield
    finally:
        low.llama_context_default_params = default


_log_callback = None


def _silence_llama_log() -> None:
    """Route llama.cpp's own log to Python logging (debug) instead of fd 2, once per process: unlike
    swapping file descriptors, this cannot leave stderr pointing at /dev/null when two threads load models."""
    global _log_callback
    if _log_callback is not None:
        return
    import llama_cpp

    @llama_cpp.llama_log_callback
    def callback(level, text, user_data):
        log.debug("llama.cpp: %s", text.decode("utf-8", "replace").rstrip())

    _log_callback = callback  # keep a reference: ctypes does not, and a freed callback crashes
    llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))
