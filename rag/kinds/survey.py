"""'What do the articles say about Y?': each article's sentences about Y, quoted and cited (rag.topic)."""
from __future__ import annotations

from typing import Iterator

from ..route import Route
from ..topic import about
from ..turn import Turn
from . import verbatim

CANDIDATES = 200  # chunks BM25 ranks best for the subject, read for sentences about it


def answer(turn: Turn, route: Route) -> Iterator:
    found = about(route.subject, turn.keyword_chunks(route.subject, CANDIDATES), turn.embed)
    yield from verbatim.or_model(turn, route, found)
