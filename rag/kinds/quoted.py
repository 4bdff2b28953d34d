"""'Who said “...”?' and 'Who said <what>?': the sentences saying it, with the speaker the articles record."""
from __future__ import annotations

from typing import Iterator

from .. import cite
from ..attribution import quoted_by, saying
from ..route import Route
from ..turn import Turn
from . import verbatim

CANDIDATES = 50  # chunks BM25 ranks best for the words, read for the sentence holding them


def answer_quoted(turn: Turn, route: Route) -> Iterator:
    """The sentences of any article holding the quoted words, each with its recorded speaker."""
    found = quoted_by(route.quote, turn.keyword_chunks(route.quote, CANDIDATES))
    yield from verbatim.or_model(turn, route, found)


def answer_said(turn: Turn, route: Route) -> Iterator:
    """The recorded speakers of the sentences that say what the unquoted clause says."""
    found = saying(route.clause, turn.keyword_chunks(route.clause, CANDIDATES), turn.embed, cite.agrees)
    yield from verbatim.or_model(turn, route, found)
