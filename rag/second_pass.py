"""One narrower pass after the model refused, when a passage sentence strongly matches the question.

The sentences closest to the question (at most RETRY_CANDIDATES, each passage holding what the question
pins down) are judged one at a time with their neighbours ("does this answer the question exactly as
asked?"); on a yes the model answers from that alone, and the answer is kept only if it checks out.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Callable

from . import cite
from .chunk import split_sentences
from .prompt import SYSTEM_JUDGE, SYSTEM_RETRY, build_messages
from .refusal import Verdict, missing_constraints
from .terms import content, inflected_in, share, unnamed
from .types import Hit

if TYPE_CHECKING:
    from .turn import Turn

# A sentence this close to the question (cosine + half its share of the question's words) earns a second
# pass when the model refused; the model's own yes/no on that sentence then decides.
RECOVER_SIMILARITY = 0.55
RETRY_CANDIDATES = 2  # sentences judged at most (each costs a short model call, only after a refusal)

Scores = list[list[tuple[tuple[int, int], float]]]
Verify = Callable[["Turn", str, list[Hit]], tuple[cite.Checked, Verdict]]


def retry(turn: "Turn", shown: list[Hit], scores: Scores, budget: int, verify: Verify
          ) -> tuple[cite.Checked, Verdict, int] | None:
    """(checked answer, its verdict, prompt tokens spent) from the first candidate sentence the model judges
    to answer and whose answer checks out (its markers renumbered to that passage's number among `shown`);
    None keeps the refusal."""
    question, gen = turn.searched, turn.generator
    ranked = judging_order(question, shown, scores)
    tokens = 0

    def usable(sc: float, i: int) -> bool:
        return sc >= RECOVER_SIMILARITY and not missing_constraints(question, [shown[i]])

    for sc, i, span in distinct(ranked, shown, usable)[:RETRY_CANDIDATES]:
        hit = shown[i]
        if not usable(sc, i):
            continue
        spans = split_sentences(hit.chunk.text)
        j = spans.index(span)
        near = spans[max(0, j - 1):j + 2]  # the sentence with its neighbours, for "he", "it" and "then"
        messages, one, used = build_messages(question, [hit], gen.count_tokens, budget, [near], system=SYSTEM_JUDGE)
        tokens += used
        if not "".join(gen.stream(messages, 3)).strip().lower().startswith("yes"):
            continue
        messages, one, used = build_messages(question, [hit], gen.count_tokens, budget, [near], system=SYSTEM_RETRY)
        tokens += used
        checked, verdict = verify(turn, "".join(gen.stream(messages, turn.config.max_tokens)), one)
        if not verdict.refused:  # cited as the passage it is among all those shown: [1] of one -> [i + 1]
            return renumbered(checked, i + 1), verdict, tokens
    return None


def judging_order(question: str, hits: list[Hit], scores: Scores) -> list[tuple[float, int, tuple[int, int]]]:
    """(score, passage index, span) of every sentence, best first, the lexical half of each score counting
    the share of all the question's words or of what it asks of its names, whichever is higher: every
    passage judged holds the names (`refusal.missing_constraints`), so a sentence saying what was asked
    ('Calling each other “dear friends”') is not outranked by all that only name them."""
    words, asked = content(question), asked_words(question)

    def lexical(text: str) -> float:
        return max(0.0, asked_share(asked, text) - share(words, text))

    return sorted(((sc + 0.5 * lexical(hit.chunk.text[a:b]), i, (a, b))
                   for i, (hit, ss) in enumerate(zip(hits, scores)) for (a, b), sc in ss), reverse=True)


def asked_words(question: str) -> set[str]:
    """What the question asks of its names: 'What did Xi and Putin call each other?' -> {'call', 'each'};
    a question of names only -> all its words"""
    return unnamed(question) or content(question)


def asked_share(asked: set[str], text: str) -> float:
    """Share of the asked words in the text, in any inflection: ({'call', 'each'}, 'Calling each other') -> 1.0"""
    there = content(text)
    held = [w for w in asked if inflected_in(w, there)]
    return len(held) / len(asked) if asked else 0.0


def renumbered(checked: cite.Checked, n: int) -> cite.Checked:
    """An answer from one passage, cited as passage n: 'Xi left [1].' -> 'Xi left [n].'"""
    text = cite.MARKER.sub(lambda m: re.sub(r"\d+", str(n), m.group()), checked.text)
    return replace(checked, text=text, citations=[replace(c, n=n) for c in checked.citations])


def distinct(ranked: list[tuple[float, int, tuple[int, int]]], hits: list[Hit],
             usable: Callable[[float, int], bool] = lambda sc, i: True) -> list[tuple[float, int, tuple[int, int]]]:
    """(score, passage index, span) in rank order without repeats of one sentence's text: the sentence two
    chunks share (their overlap) or a syndicated copy carries is judged once, leaving the next slot to the
    next sentence. Of the copies, the first `usable` one stands for them (its passage may hold a name the
    other copy's passage lacks), else the first."""
    groups: dict[str, list[tuple[float, int, tuple[int, int]]]] = {}
    for sc, i, (s, e) in ranked:
        groups.setdefault(" ".join(hits[i].chunk.text[s:e].lower().split()), []).append((sc, i, (s, e)))
    return [next((c for c in copies if usable(c[0], c[1])), copies[0]) for copies in groups.values()]
