"""Model replies replayed from a file, for trying a change that happens after the model (checking, refusal
rules, tidying) on a whole question set in seconds instead of a quarter of an hour.

    rag eval --set news-dev --replay /tmp/replies.json   # first run records every reply
    rag eval --set news-dev --replay /tmp/replies.json   # later runs replay the replies asked before

Decoding is greedy (temperature 0), so the same messages give the same reply: a reply is keyed by the
model's name, the messages and the token cap, and any prompt the change alters is sent to the model and
recorded. Latencies of a replayed run are not real (a replayed reply takes no time): report figures only
from a run without --replay.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterator


class ReplayError(Exception):
    """The replies file cannot be read: one line, no traceback."""


class Replies:
    """The file of recorded replies: {key: [text pieces]}. `wrap` a generator to replay and record."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.replayed = self.recorded = 0
        try:
            self._replies: dict[str, list[str]] = (
                json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {})
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ReplayError(f"cannot read the replies file {self.path}: {e}") from e
        if not isinstance(self._replies, dict):
            raise ReplayError(f"{self.path} is not a replies file (a JSON object of recorded replies)")

    def wrap(self, generator: Any) -> "Replaying":
        return Replaying(generator, self)

    def save(self) -> None:
        """Write the file atomically (a run cut short leaves the previous file whole)."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self._replies, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)

    def reply(self, generator: Any, messages: list[dict], max_tokens: int) -> Iterator[str]:
        key = hashlib.sha256(json.dumps([generator.name, messages, max_tokens], ensure_ascii=False)
                             .encode("utf-8")).hexdigest()
        if key in self._replies:
            self.replayed += 1
            yield from self._replies[key]
            return
        pieces = []
        for piece in generator.stream(messages, max_tokens):
            pieces.append(piece)
            yield piece
        self._replies[key] = pieces  # only a reply read to its end is recorded
        self.recorded += 1


class Replaying:
    """A Generator that answers from `Replies` what was asked before and asks `inner` the rest."""

    def __init__(self, inner: Any, replies: Replies):
        self.inner, self.replies = inner, replies
        self.name, self.n_ctx = inner.name, inner.n_ctx

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def stream(self, messages: list[dict], max_tokens: int) -> Iterator[str]:
        return self.replies.reply(self.inner, messages, max_tokens)
