"""The desk over one pipeline's index: each view computed from the index alone (no language model), once
per index build (adding or removing an article makes a new index, and the views are read again)."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

from ..store import rows_by_doc
from .coverage import Coverage, coverage
from .differences import Difference, differences
from .quotes import Quote, quotes, wanted
from .timeline import Event, events


class Desk:
    def __init__(self, pipeline):
        self.pipeline = pipeline
        self._lock = threading.Lock()
        self._memo: dict[str, tuple[object, Any]] = {}

    def _once(self, name: str, read: Callable[[list], Any]) -> Any:
        """`read(all chunks)` for the current index, remembered until the index changes; the chunks themselves
        are read from the index once for all views."""
        index = self.pipeline.index
        with self._lock:
            held = self._memo.get(name)
            if held is None or held[0] is not index:
                held = self._memo[name] = (index, read(self._chunks(index)))
            return held[1]

    def _chunks(self, index) -> list:
        """Every chunk of `index`, read from it once for all views."""
        held = self._memo.get("chunks")
        if held is None or held[0] is not index:
            held = self._memo["chunks"] = (index, list(index.chunks))
        return held[1]

    def quotes(self, speaker: str = "", article: str = "", word: str = "") -> list[Quote]:
        every = self._once("quotes", quotes)
        if not (speaker.strip() or article.strip() or word.strip()):
            return list(every)
        return [q for q in every if wanted(q, speaker, article, word)]

    def coverage(self, topic: str) -> list[Coverage]:
        if not topic.strip():
            return []
        return coverage(topic.strip(), self.pipeline.index, self.pipeline.embedder.embed)

    def timeline(self) -> list[Event]:
        return list(self._once("timeline", events))

    def differences(self) -> list[Difference]:
        return list(self._once("differences", differences))

    def article(self, doc_id: str) -> Article | None:
        """An article's cleaned text as the index holds it (its chunks laid back at their offsets), so a
        row's `Line.offset` points into `text`; None for an id the index does not hold."""
        index = self.pipeline.index
        rows = self._once("articles", rows_by_doc)
        if doc_id not in rows:
            return None
        every = self._chunks(index)
        chunks = sorted((every[r] for r in rows[doc_id]), key=lambda c: c.start)
        text = ["\n"] * max(c.end for c in chunks)  # a gap between chunks is the whitespace between sentences
        for c in chunks:
            text[c.start:c.end] = c.text
        first = chunks[0]
        return Article(doc_id, first.title, first.publisher, first.date, "".join(text))


@dataclass(frozen=True)
class Article:
    doc_id: str
    title: str
    publisher: str
    date: str
    text: str
