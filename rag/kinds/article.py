"""'Who wrote the article about X?', 'When was it published?', 'Which outlet ran the story on Y?': the article
the question describes is the one a search for that description ranks first, and its header (rag.header)
answers, cited to the line of its file that says so. An article that never writes it -> a refusal saying so.
"""
from __future__ import annotations

from typing import Iterator

from .. import header, refusal
from ..route import Route
from ..turn import Turn
from ..types import Citation, Header, Hit

CANDIDATES = 5  # passages searched for the article the question describes


def answer(turn: Turn, route: Route) -> Iterator:
    asked = route.header
    found = turn.pipeline.search(asked.about, CANDIDATES, turn.where) if asked.about else turn.hits
    found = found or turn.hits
    if not found:
        yield from turn.refuse(refusal.Verdict("no_passages"))
        return
    best = found[0]
    head = turn.index.articles.get(best.chunk.doc_id) or Header(best.chunk.doc_id, best.chunk.title)
    passage = header.passage(head)
    shown = [Hit(chunk=passage, score=best.score, similarity=best.similarity), best]
    line = header.line_for(head, asked.field)
    if line is None:
        yield from turn.refuse(refusal.no_header(asked.field, head.title), shown)
        return
    text = header.sentence(asked.field, head.title, line.value, "[1]")
    yield text
    yield turn.answer(text=text, hits=shown,
                      citations=[Citation(1, passage, line.text, passage.text.index(line.text), best.score)])
