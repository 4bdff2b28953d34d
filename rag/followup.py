"""Follow-up questions -> standalone questions, only when they refer back ('What else did he say?')."""
from __future__ import annotations

import re

from .terms import REFERS_BACK, subjects

_PERSON = {"he": "{}", "she": "{}", "him": "{}", "her": "{}", "his": "{}’s", "hers": "{}’s"}
_GROUP = {"they": "{}", "them": "{}", "their": "{}’s", "theirs": "{}’s"}


def _replace(m: re.Match, table: dict[str, str], subject: str) -> str:
    """'her' before a noun is possessive: 'her think tank' -> 'Bonnie Glaser’s think tank'."""
    word = m.group().lower()
    after = m.string[m.end():].split()
    if word == "her" and after and after[0].lower().strip("?.,!") not in ("about", "to", "for", "on", "in", "at", "with", "", "say", "said"):
        return f"{subject}’s"
    return table[word].format(subject)


MAX_TURNS = 200  # earlier user turns read: enough for any real chat, and a 100,000-turn one costs no more
MAX_TURN_CHARS = 2000  # the question limit; a longer pasted turn is read only this far


def standalone(question: str, history: list[dict] | None) -> str:
    """The question to search. Unchanged unless it refers back; then pronouns become the last named subject.

    ('What else did he say about Putin?', [user: 'What did Kirby say?']) -> 'What else did Kirby say about Putin?'
    ('Who is Brian Hart?', [...anything]) -> 'Who is Brian Hart?'
    """
    subject, carried = "", ""
    for text in user_turns(history)[-MAX_TURNS:]:  # each turn once, in order: linear in the turns read
        _, subject, carried = _resolve(text, subject, carried)
    return _resolve(question, subject, carried)[0]


def user_turns(history: list[dict] | None) -> list[str]:
    """The user's earlier questions; anything that is not a {'role': 'user', 'content': str} is ignored.

    [{'role': 'user', 'content': 'Q1'}, {'role': 'assistant', 'content': 'A'}, 'junk'] -> ['Q1']
    """
    if not isinstance(history, (list, tuple)):
        return []
    return [m["content"][:MAX_TURN_CHARS] for m in history
            if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str)
            and m["content"].strip()]


def _resolve(question: str, subject: str, carried: str) -> tuple[str, str, str]:
    """One turn against what the turns before it left: the last named `subject` and the standalone question
    `carried` by the previous turn ('' before the first). -> (standalone question, subject, carried) after it.

    ('What else did he say?', 'Kirby', 'What did Kirby say?') -> ('What else did Kirby say?', 'Kirby', same)
    ('What else?', 'Kirby', 'What did Kirby say?') -> ('What else? (What did Kirby say?)', 'Kirby', 'What did Kirby say?')
    """
    text = question
    back = REFERS_BACK.search(question)
    if carried and back and not subjects(question[:back.start()]):
        # it refers back and does not name its own subject first
        for table, fits in ((_PERSON, bool(subject)), (_GROUP, " and " in subject)):
            pronouns = re.compile(r"\b(" + "|".join(table) + r")\b", re.I)
            if fits and pronouns.search(question):
                # only the first pronoun: later ones then read naturally ('did Kirby say he ...')
                text = pronouns.sub(lambda m: _replace(m, table, subject), question, count=1)
                break
        else:
            # 'And what were they worth?' needs the whole earlier question; a chain of these carries that one
            # question instead of nesting every earlier turn
            names = subjects(question)
            return f"{question} ({carried})", names[0] if names else subject, carried
    names = subjects(text)
    return text, names[0] if names else subject, text
