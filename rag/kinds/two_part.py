"""A question that asks of two different things: each part searched, answered and checked as a question of
its own, the earlier parts its chat history ('..., and what did he say?'), then the answers joined."""
from __future__ import annotations

import time
from typing import Iterator

from ..compound import join
from ..route import Route
from ..turn import Turn
from ..types import Answer, Evidence


def answer(turn: Turn, route: Route) -> Iterator[Evidence | str | Answer]:
    answers: list[Answer] = []
    history = list(turn.history or [])
    first_token = None
    for i, part in enumerate(route.parts):
        if i:
            yield "\n"
        for piece in turn.pipeline.stream(part, history, turn.k, turn.where):
            if isinstance(piece, Answer):
                answers.append(piece)
            elif isinstance(piece, Evidence):
                yield piece
            else:
                first_token = first_token or time.perf_counter() - turn.t0
                yield piece
        history += [{"role": "user", "content": part}, {"role": "assistant", "content": answers[-1].text}]
    timings = {"retrieve": sum(a.timings.get("retrieve", 0.0) for a in answers), "total": time.perf_counter() - turn.t0}
    if first_token is not None:
        timings["first_token"] = first_token
    yield join(turn.question, answers, list(route.parts), timings)
