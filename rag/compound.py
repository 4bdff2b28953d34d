"""A question that asks two things -> its parts, each answered on its own and the answers joined.

'Which country was Xi to visit, and in which city did Mishustin speak?' asks of two articles; searched
and answered whole, the passages and the one short answer of a small model serve one part (or mix them:
'Mishustin spoke in Samarkand'). Each part gets its own search, its own checks and its own refusal.

Only full questions are parts: the second must open with a question word and hold a verb of its own
('..., and which spacecraft did each fly?'). An ellipsis ('..., and in what year?') or a relative clause
('Yang Jiechi, who spoke to ...') is not split. These are the forms of English questions, not words
of any corpus.
"""
from __future__ import annotations

import re
from dataclasses import replace

from .cite import MARKER
from .refusal import REFUSAL
from .terms import POINTS_BACK, marker_numbers, subjects
from .types import Answer, Citation, Hit

MAX_PARTS = 3  # a longer list of questions is read whole
_WH = r"(?:what|which|who|whom|whose|where|when|why|how)"
# ', and which ...', ' and where ...', '; what ...', '? Who ...': where a second question starts
_JOIN = re.compile(rf"(?:,?\s+and\s+|\s*;\s*|\?\s+)(?=(?:(?:in|on|at|for|from|to|by|with|of)\s+)?{_WH}\b)", re.I)
_OWN_VERB = re.compile(r"\b(?:did|does|do|is|was|were|are|has|have|had|will|would|can|could|should|may|might)\b",
                       re.I)
MIN_WORDS = 3  # each part: 'Who is Kirby' is a question, 'How' is not


def parts(question: str) -> list[str]:
    """The questions a question asks, each ending in '?'; one part when it asks one thing.

    'What is Kirby's job, and what position does Glaser hold?' -> ["What is Kirby's job?",
    'What position does Glaser hold?']; 'Who led it, and in what year?' -> ['Who led it, and in what year?']
    A later part that names nothing and points back at nothing carries the first part with it, in brackets:
    'Who flew first, and which spacecraft did each fly?' -> [..., 'Which spacecraft did each fly? (Who flew first?)']
    """
    text = " ".join(question.split())
    cuts = [m for m in _JOIN.finditer(text) if text[:m.start()].count("“") == text[:m.start()].count("”")
            and text[:m.start()].count('"') % 2 == 0]
    if not cuts or len(cuts) + 1 > MAX_PARTS:
        return [question]
    pieces, last = [], 0
    for m in cuts:
        pieces.append(text[last:m.start()])
        last = m.end()
    pieces.append(text[last:])
    pieces = [p.strip(" ,;?") for p in pieces]
    if any(len(p.split()) < MIN_WORDS for p in pieces) or not all(_OWN_VERB.search(p) for p in pieces[1:]):
        return [question]
    out = [p[0].upper() + p[1:] + "?" for p in pieces]
    first = out[0]
    return [first] + [p if subjects(p) or POINTS_BACK.search(p) else f"{p} ({first})" for p in out[1:]]


def join(question: str, answers: list[Answer], asked: list[str], timings: dict[str, float]) -> Answer:
    """The parts' answers as one: their texts one after the other, markers renumbered over the passages of
    all parts (a passage two parts cite keeps one number); a part the articles do not answer is named in
    the note. Every part refused -> the first part's refusal."""
    shown = [a for a in answers if not a.refused]
    unanswered = [q for q, a in zip(asked, answers) if a.refused]
    common = dict(model=answers[0].model, timings=timings, scope=answers[0].scope,
                  searched=" / ".join(a.searched for a in answers),
                  prompt_tokens=sum(a.prompt_tokens for a in answers),
                  completion_tokens=sum(a.completion_tokens for a in answers))
    if not shown:  # no part answered: the first part's refusal, as rag.refusal gave its reason
        first = answers[0]
        return Answer(question=question, text=REFUSAL, refused=True, reason=first.reason, note=first.note,
                      hits=first.hits, **common)
    hits: list[Hit] = []
    number: dict[str, int] = {}
    texts: list[str] = []
    citations: list[Citation] = []
    for a in shown:
        renumber: dict[int, int] = {}
        for n, h in enumerate(a.hits, 1):
            if h.chunk.id not in number:
                hits.append(h)
                number[h.chunk.id] = len(hits)
            renumber[n] = number[h.chunk.id]
        texts.append(MARKER.sub(lambda m: "[" + ", ".join(str(renumber[x]) for x in marker_numbers(m[1]))
                                 + "]", a.text))
        citations += [replace(c, n=renumber[c.n]) for c in a.citations]
    seen, unique = set(), []
    for c in sorted(citations, key=lambda c: (c.n, c.quote_start)):
        if (c.n, c.quote_start) not in seen:
            seen.add((c.n, c.quote_start))
            unique.append(c)
    notes = [a.note for a in shown if a.note]
    if unanswered:
        which = ", nor ".join(f"“{q.split(' (')[0]}”" for q in unanswered)
        notes.append(f"The articles don't answer {which}.")
    return Answer(question=question, text="\n".join(texts), citations=unique, refused=False, hits=hits,
                  note=" ".join(dict.fromkeys(notes)), **common)




def separate(asked: list[str]) -> bool:
    """Are the parts about different things? A later part that points back ('what did he call ...?') asks
    more of the same subject, and so does one naming a subject of the first; one naming only others asks
    of something else, which another article may hold ('What is Kirby's job, and what position does Glaser
    hold?'). Parts about one thing are read whole: one passage often answers both."""
    def words(text: str) -> set[str]:
        return {w.lower() for name in subjects(text) for w in name.split()}

    first = words(asked[0])
    for part in asked[1:]:
        own = part.split(" (")[0]
        if POINTS_BACK.search(own) or not words(own) or words(own) & first:
            return False
    return True
