"""Follow-up questions -> standalone questions, only when they refer back ('What else did he say?')."""
from __future__ import annotations

import re

_REFERS_BACK = re.compile(
    r"\b(he|she|him|her|his|hers|they|them|their|theirs|else|also|too|more|other|same)\b", re.I
)
_PERSON = {"he": "{}", "she": "{}", "him": "{}", "her": "{}", "his": "{}’s", "hers": "{}’s"}
_GROUP = {"they": "{}", "them": "{}", "their": "{}’s", "theirs": "{}’s"}
_NAME = r"[A-Z][\w’'-]*(?:\s+(?:of\s+)?[A-Z][\w’'-]*)*"
_ENTITY = re.compile(rf"{_NAME}(?:\s+and\s+{_NAME})?")  # 'Xi and Putin' is one subject
_NOT_ENTITY = {"What", "Who", "Whom", "How", "When", "Where", "Why", "Which", "Did", "Does", "Do", "Is", "Are",
               "Was", "Were", "Tell", "The", "And", "Can", "Could", "Has", "Have", "In", "On", "According", "A", "I"}


def entities(text: str) -> list[str]:
    """Capitalised names in a question, question words removed.

    'What did John Kirby say about Xi?' -> ['John Kirby', 'Xi']
    """
    out = []
    for m in _ENTITY.finditer(text):
        words = m.group().split()
        while words and words[0] in _NOT_ENTITY:
            words = words[1:]
        name = re.sub(r"[’']s$", "", " ".join(words))
        if name:
            out.append(name)
    return out


def _replace(m: re.Match, table: dict[str, str], subject: str) -> str:
    """'her' before a noun is possessive: 'her think tank' -> 'Bonnie Glaser’s think tank'."""
    word = m.group().lower()
    after = m.string[m.end():].split()
    if word == "her" and after and after[0].lower().strip("?.,!") not in ("about", "to", "for", "on", "in", "at", "with", "", "say", "said"):
        return f"{subject}’s"
    return table[word].format(subject)


def standalone(question: str, history: list[dict] | None) -> str:
    """The question to search. Unchanged unless it refers back; then pronouns become the last named subject.

    ('What else did he say about Putin?', [user: 'What did Kirby say?']) -> 'What else did Kirby say about Putin?'
    ('Who is Brian Hart?', [...anything]) -> 'Who is Brian Hart?'
    """
    earlier: list[str] = []
    for m in history or []:  # resolve earlier turns first, so a chain of follow-ups keeps its subject
        if m.get("role") == "user" and m.get("content"):
            earlier.append(standalone(m["content"], [{"role": "user", "content": e} for e in earlier]))
    back = _REFERS_BACK.search(question)
    if not earlier or not back or entities(question[:back.start()]):
        return question  # no earlier turn, nothing refers back, or it names its own subject first
    previous = earlier[-1]
    subject = next((e[0] for e in map(entities, reversed(earlier)) if e), "")
    for table, fits in ((_PERSON, bool(subject)), (_GROUP, " and " in subject)):
        pronouns = re.compile(r"\b(" + "|".join(table) + r")\b", re.I)
        if fits and pronouns.search(question):
            # only the first pronoun: later ones then read naturally ('did Kirby say he ...')
            return pronouns.sub(lambda m: _replace(m, table, subject), question, count=1)
    return f"{question} ({previous})"  # 'And what were they worth?' needs the whole earlier question
