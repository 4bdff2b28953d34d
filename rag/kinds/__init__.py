"""One handler per question kind (rag.route): each turns a searched question into the answer's pieces.

A handler is `answer(turn, route) -> Iterator[Evidence | str | Answer]`: it may yield an Evidence (the
passages the model is about to read), then text pieces, and always ends with the Answer.
"""
from __future__ import annotations

from typing import Callable, Iterator

from ..route import Kind, Route
from ..turn import Turn
from ..types import Answer, Evidence
from . import article, model, quoted, speaker, survey, two_part

Handler = Callable[[Turn, Route], Iterator[Evidence | str | Answer]]

HANDLERS: dict[Kind, Handler] = {
    "two_part": two_part.answer,
    "speaker": speaker.answer,
    "survey": survey.answer,
    "quoted": quoted.answer_quoted,
    "said": quoted.answer_said,
    "article": article.answer,
    "figure": model.answer,
    "free": model.answer,
}
