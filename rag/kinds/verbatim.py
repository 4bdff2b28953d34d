"""The articles' own sentences as the answer: quoted, one line each, every line cited and checked."""
from __future__ import annotations

from typing import Iterator

from .. import cite, refusal
from ..attribution import Statement, compose
from ..route import Route
from ..turn import Turn
from ..types import Answer
from . import model


def answer(turn: Turn, found: list[Statement]) -> Iterator[str | Answer]:
    """The statements as the answer, or the refusal when not one checks out."""
    text, shown = compose(found)
    checked = cite.check(text, shown)
    verdict = refusal.unsupported(checked)
    yield refusal.REFUSAL if verdict.refused else checked.text
    yield turn.answer_checked(checked, verdict, shown)


def or_model(turn: Turn, route: Route, found: list[Statement]) -> Iterator:
    """The statements as the answer when any checks out, else the model reads the passages."""
    if found:
        text, shown = compose(found)
        checked = cite.check(text, shown)
        if checked.supported:
            yield checked.text
            yield turn.answer_checked(checked, refusal.Verdict(), shown)
            return
    yield from model.answer(turn, route)
