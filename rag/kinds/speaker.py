"""'What did X say (about Y)?': every statement the articles attribute to X, quoted verbatim and cited.

X's statements are gathered from the best BM25 matches for X's name in all articles, not only from the
passages the search shows. The articles quote nobody of that name -> the model answers; they quote X,
but nothing on Y, or X's articles never name Y -> a refusal that says so; 'What did X say Y share?' in other
words than X's -> the model.
"""
from __future__ import annotations

from typing import Iterator

from .. import refusal
from ..attribution import already_quoted, relevant, same_person, statements
from ..route import Route
from ..turn import Turn
from ..types import Hit
from . import model, verbatim

CANDIDATES = 200  # chunks BM25 ranks best for the speaker's name, read for their statements


def answer(turn: Turn, route: Route) -> Iterator:
    request = route.request
    candidates = [c for c in turn.keyword_chunks(request.who, CANDIDATES)
                  if any(same_person(request.who, s) for _, _, s in c.said)]
    if not candidates:  # nobody of that name is quoted: the model reads the passages
        yield from model.answer(turn, route)
        return
    found = statements(request, candidates)
    if request.more:
        found = already_quoted(found, turn.history)
    if request.topic:
        found = relevant(request.topic, found, turn.embed, request.clause)
        if not found and request.clause:  # 'What did X say Y share?' in other words than X's: the model reads
            yield from model.answer(turn, route)
            return
    if not found:
        yield from turn.refuse(refusal.about_nobody_quoted(request.who, request.topic, request.more))
        return
    # their articles must hold what the question pins down ('about Y')
    passages = turn.with_their_articles([Hit(chunk=s.chunk, score=0.0) for s in found])
    if (verdict := refusal.unpinned(turn.searched, passages)).refused:
        yield from turn.refuse(verdict)
        return
    yield from verbatim.answer(turn, found)
