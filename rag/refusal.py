"""Every decision to refuse, in one place, each with its reason (`Answer.reason`).

A refusal is decided by evidence, never by a word list: a name the corpus never mentions under any
spelling, a question whose names, numbers or dates the cited passages do not hold, a model that says
the passages don't answer, or an answer none of whose sentences the passages support.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Container, NamedTuple, Sequence

from .terms import (ASKS_COUNT, ASKS_LENGTH, MARKER_GROUP, TIME_UNIT, content, dates, mentions, names, numbers, turned,
                    variants)
from .types import Hit, Reason

if TYPE_CHECKING:
    from .cite import Checked

REFUSAL = "The articles don't say."

EXPLAIN: dict[str, str] = {
    "no_passages": "no article passage matched the question",
    "not_in_corpus": "the question names something no article mentions",
    "nothing_relevant": "the passages found are about something other than what was asked",
    "model_refused": "the model found no answer in the passages",
    "nothing_verifiable": "no sentence of the model's answer is supported by the passages",
    "not_answered": "the answer does not give what the question asks for (a figure, a length of time)",
}

_REFUSING = re.compile(
    r"(articles?|passages?|sources?|texts?|context)\s+(do not|don't|does not|doesn't|did not|didn't)\s+"
    r"(say|contain|mention|provide|specify|include|state|answer|address|give)|no information|not mentioned|"
    r"cannot answer|can't answer|unable to (answer|find|determine)|there is no (mention|information)|"
    r"(is|are) not (provided|specified|stated|given)|not (provided|specified|stated|given) in the",
    re.I,
)


def explain(reason: Reason) -> str:
    """'not_in_corpus' -> 'the question names something no article mentions'; '' -> ''"""
    return EXPLAIN.get(reason, "")


def is_refusal(text: str) -> bool:
    """'The articles don't say.' -> True; 'Kirby said X [1].' -> False"""
    return bool(_REFUSING.search(text)) or not text.strip()


def unknown_names(question: str, hits: Sequence[Hit], vocabulary: Container[str],
                  initials: Container[str] = ()) -> list[str]:
    """Names in the question that no article mentions under any spelling.

    The vocabulary (every word of the corpus) answers for plain spellings; `initials` (of every capitalised
    phrase in the corpus, `terms.phrase_initials`) and the retrieved passages for acronyms ('SCO' is found
    in 'the Shanghai Cooperation Organization summit', 'G7' in 'the Group of Seven').
    ('Who won the FIFA World Cup?', ...) -> ['FIFA World Cup'] on a corpus about Xi and Putin.
    """
    texts = [f"{h.chunk.title}\n{h.chunk.text}" for h in hits]
    unknown = []
    for name in names(question, opening=False):
        spelled = any(v.split() and all(w in vocabulary for w in v.split()) for v in variants(name))
        spelled = spelled or any(v in initials for v in variants(name) if " " not in v)
        if not spelled and not any(mentions(t, name) for t in texts):
            unknown.append(name)
    return unknown


def before_generation(question: str, hits: Sequence[Hit], vocabulary: Container[str],
                      initials: Container[str] = ()) -> "Verdict":
    """Go on (a Verdict that does not refuse), or the reason to refuse now, with no model call."""
    if not hits:
        return Verdict("no_passages")
    missing = unknown_names(question, hits, vocabulary, initials)
    if missing:
        return Verdict("not_in_corpus", f"No article mentions {', '.join(f'“{m}”' for m in missing)}.")
    return Verdict()


# What 'how many', 'how much' and 'how old' ask for is a figure ('12 points', '153%', 'twenty-six'); 'how long' is
# answered by a figure or by a unit of time ('weeks before', 'hours before'). These are the question words
# of English, not words of any corpus. An answer holding none of it answers another question.
_MARKERS = re.compile(MARKER_GROUP)


def lacks_asked_kind(question: str, text: str) -> bool:
    """The question asks how many, how much, how old or how long, and the text (markers aside) gives no figure, nor
    for how long a unit of time: ('How many points?', 'It has 12 points [1].') -> False;
    ('How long before the games did they meet?', 'They met in Beijing [1].') -> True;
    ('How long before the games did they meet?', 'They met hours before [1].') -> False"""
    text = _MARKERS.sub(" ", text)
    if numbers(text):
        return False
    if ASKS_LENGTH.search(question):
        return not TIME_UNIT.search(text)
    return bool(ASKS_COUNT.search(question))


def missing_constraints(question: str, passages: Sequence[Hit]) -> list[str]:
    """What the question pins down (names, numbers, months and weekdays) that the passages an answer
    cites never mention: such an answer is about something else.

    ('How much did exports grow in March?', passages saying 'in April') -> ['march']
    """
    text = "\n".join(f"{h.chunk.title}\n{h.chunk.text}\n{' '.join(h.chunk.speakers)}" for h in passages)
    missing = [n for n in names(question, opening=False) if not mentions(text, n)]
    missing += sorted(numbers(question, words=False) - numbers(text))
    missing += sorted(dates(question) - dates(text))
    return list({m.lower(): m for m in reversed(missing)}.values())[::-1]  # 'March' the name, 'march' the date: once


class Verdict(NamedTuple):
    """Why an answer is refused (`reason`, '' when it stands) and a sentence for the reader (`note`)."""

    reason: Reason = ""
    note: str = ""

    @property
    def refused(self) -> bool:
        return bool(self.reason)


def unsupported(checked: "Checked") -> Verdict:
    """A checked text that stands on nothing: the model declined, or none of its sentences is supported."""
    if checked.declined:
        return Verdict("model_refused")
    if not checked.supported:
        return Verdict("nothing_verifiable")
    return Verdict()


def after_answer(question: str, checked: "Checked", cited: Sequence[Hit]) -> Verdict:
    """Whether the model's checked answer stands, or why it becomes a refusal.

    `cited` are the passages of the articles the answer cites (a name may sit in a neighbouring passage of
    the same article); an answer whose passages lack what the question pins down answers something else,
    and so does one that gives no figure when asked how many (`lacks_asked_kind`).
    """
    if (verdict := unsupported(checked)).refused:
        return verdict
    if lacks_asked_kind(question, checked.text):
        return Verdict("not_answered")
    if flipped := the_opposite(question, checked.text):
        asked, said = flipped
        return Verdict("not_answered", f"The answer speaks of “{said}”; the question asks about “{asked}”.")
    return unpinned(question, cited)


def the_opposite(question: str, text: str) -> tuple[str, str] | None:
    """A word the question asks about whose opposite the answer gives instead, neither word in the other:
    ('How much did imports from Russia grow?', 'Exports to Russia jumped 153% [1].') -> ('import', 'export');
    ('Did imports rise or fall?', 'Imports rose [1].') -> None"""
    return turned(content(question), content(_MARKERS.sub(" ", text)))


def unpinned(question: str, passages: Sequence[Hit]) -> Verdict:
    """The passages an answer quotes (with the rest of their articles' passages at hand) lack a name, number or
    date the question pins down: 'What did Kirby say about North Korea?' answered with Kirby's words on China."""
    missing = missing_constraints(question, passages)
    if missing:
        return Verdict("nothing_relevant", f"The passages cited never mention {', '.join(f'“{m}”' for m in missing)}.")
    return Verdict()


def about_nobody_quoted(who: str, topic: str, more: bool) -> Verdict:
    """'What did Hart say about Taiwan?' when the articles quote Hart, never on Taiwan."""
    about = f" about {topic}" if topic else ""
    return Verdict("nothing_relevant", f"The articles quote {who}, but nothing{' new' if more else ''}{about}.")


def no_header(field: str, title: str) -> Verdict:
    """'Who wrote the article about X?' when the article found never writes its byline (nor its date or publisher)."""
    what = {"byline": "who wrote it", "date": "when it was published", "publisher": "who published it"}.get(field, field)
    return Verdict("not_answered", f"The article this is about, “{title}”, does not say {what}.")
