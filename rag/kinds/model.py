"""The free question (and the figure question): the model reads the passages and answers; every sentence
is checked (rag.cite) and refusal decides (rag.refusal). A refusal the passages may not deserve earns one
narrower second pass (rag.second_pass); a figure other articles give differently is cited beside it.
"""
from __future__ import annotations

import time
from typing import Callable, Iterator

import numpy as np

from .. import cite, refusal, second_pass
from ..chunk import split_sentences
from ..prompt import EXAMPLES, build_messages
from ..refusal import Verdict
from ..route import Route
from ..terms import content, share
from ..turn import Turn
from ..types import Answer, Evidence, Hit

Scores = list[list[tuple[tuple[int, int], float]]]


def answer(turn: Turn, route: Route) -> Iterator[Evidence | str | Answer]:
    config, gen = turn.config, turn.generator
    budget = gen.n_ctx - config.max_tokens
    scores = sentence_scores(turn.searched, turn.hits, turn.embed)
    messages, shown, prompt_tokens = build_messages(turn.searched, turn.hits, gen.count_tokens, budget,
                                                    examples=EXAMPLES if config.examples else (),
                                                    target=config.prompt_tokens, scores=scores)
    yield Evidence(shown, [max(row, key=lambda x: x[1])[0] if row else (0, 0) for row in scores[:len(shown)]])
    pieces: list[str] = []
    t_gen = time.perf_counter()
    for piece in gen.stream(messages, config.max_tokens):
        if not pieces:
            turn.timings["first_token"] = time.perf_counter() - turn.t0
        pieces.append(piece)
        yield piece
    turn.timings["generate"] = time.perf_counter() - t_gen
    checked, verdict = verify(turn, "".join(pieces), shown)
    if verdict.refused:  # a sentence that strongly matches the question earns one narrower pass
        t_retry = time.perf_counter()
        retried = second_pass.retry(turn, shown, scores, budget, verify)
        turn.timings["second_pass"] = time.perf_counter() - t_retry
        if retried is not None:
            checked, verdict, tokens = retried
            prompt_tokens += tokens
            turn.timings["generate"] = time.perf_counter() - t_gen
    if route.figure and not verdict.refused:
        checked, verdict = _with_other_figures(turn, checked, verdict, shown, scores)
    yield turn.answer_checked(checked, verdict, shown, prompt_tokens=prompt_tokens, completion_tokens=len(pieces))


def verify(turn: Turn, text: str, shown: list[Hit]) -> tuple[cite.Checked, Verdict]:
    """Every sentence checked against the passages, then refusal's verdict: an answer whose articles (their
    passages among the shown and the turn's wider context) lack what the question pins down (a name,
    number, month or weekday) answers something else."""
    checked = cite.check(text, shown, turn.embed, turn.searched)
    docs = {c.chunk.doc_id for c in checked.citations}
    cited = turn.with_their_articles([h for h in shown if h.chunk.doc_id in docs])
    return checked, refusal.after_answer(turn.searched, checked, cited)


def _with_other_figures(turn: Turn, checked: cite.Checked, verdict: Verdict, shown: list[Hit], scores: Scores
                        ) -> tuple[cite.Checked, Verdict]:
    """Other articles give another figure: the answer says so, citing them."""
    differ = cite.conflicting(checked, shown, scores)
    if not differ:
        return checked, verdict
    quotes = "; ".join(f"“{shown[n - 1].chunk.text[s:e]}” [{n}]" for n, (s, e) in differ)
    checked = cite.check(f"{checked.text}\nThe articles differ: {quotes}", shown, turn.embed)
    return checked, refusal.unsupported(checked)


def sentence_scores(question: str, hits: list[Hit], embed: Callable[[list[str]], np.ndarray]) -> Scores:
    """For each hit, its sentences' relevance to the question: cosine, plus half the share of the
    question's content words the sentence holds."""
    spans = [split_sentences(h.chunk.text) for h in hits]
    texts = [h.chunk.text[s:e] for h, ss in zip(hits, spans) for s, e in ss]
    if not texts:
        return [[] for _ in hits]
    vectors = embed([question] + texts)
    cos = vectors[1:] @ vectors[0]
    words = content(question)
    out, k = [], 0
    for h, ss in zip(hits, spans):
        row = []
        for s, e in ss:
            row.append(((s, e), float(cos[k]) + 0.5 * share(words, h.chunk.text[s:e])))
            k += 1
        out.append(row)
    return out
