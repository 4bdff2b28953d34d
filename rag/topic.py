"""'What do the articles say about Y?' answered with what each article says of Y, quoted and cited.

A small model asked to survey several articles answers from one of them. The question asks what the
articles report, so the answer is their sentences about Y, verbatim: the best of every article that
speaks of Y first, then the next best, one line each with its citation (which names the article).
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

import numpy as np

from .attribution import MAX_STATEMENTS, MIN_RELEVANCE, Statement, once, same_person
from .chunk import split_sentences
from .prompt import posing
from .terms import content, mentions, names
from .types import Chunk

_SOURCES = r"(?:articles?|reports?|stories|story|coverage|sources?|pieces?|texts?|documents?|passages?|news)"
_ASK = re.compile(
    r"^\s*(?:and\s+|so\s+)?(?:"
    rf"(?:what|how\s+much)\s+(?:do|does|did)\s+(?:the\s+|these\s+|those\s+|all\s+(?:the\s+)?|both\s+|other\s+)?{_SOURCES}"
    r"\s+(?:say|report|write|tell\s+(?:us|me)|mention|state)"
    r"|what\s+(?:is|was|has\s+been|have\s+been|are|were)\s+(?:said|reported|written|mentioned)"
    rf"|(?:summari[sz]e|tell\s+me|show\s+me)\s+what\s+the\s+{_SOURCES}\s+(?:say|report|write))"
    r"\s+(?:about|on|regarding|concerning|of)\s+(?P<topic>.+?)\s*[?.!]*\s*$",
    re.I,
)


def parse(question: str) -> str:
    """The topic of a question asking what the articles report on it, or '':
    'What do the articles say about Taiwan?' -> 'Taiwan'; 'What is reported about the G7 summit?' ->
    'the G7 summit'; 'What did Kirby say about Taiwan?' -> '' (one speaker: rag.attribution)"""
    m = _ASK.match(question)
    return m.group("topic").strip() if m else ""


def about(topic: str, candidates: Sequence[Chunk], embed: Callable[[list[str]], np.ndarray],
          limit: int = MAX_STATEMENTS) -> list[Statement]:
    """The sentences of `candidates` about `topic`, in the order an answer lists them: each article's best
    first (articles by their best), then each one's next best, at most `limit`.

    A sentence is about the topic when it mentions every name the topic holds (aliases count), or is
    the words of the one person the topic names ('he added', recorded by the chunker), and is
    close to it in meaning or holds its words (`relevance`, as for 'What did X say about Y?'). It must say
    more than the topic (a heading 'Taiwan' says nothing), and a sentence posing as an instruction is no
    evidence. Sentences repeated by overlapping chunks or syndicated copies are listed once.
    """
    words = content(topic)
    if not words:
        return []
    wanted = names(topic)  # a topic is a fragment: its capitalised first word is a name

    def spoken(s: Statement) -> bool:  # the recorded words of the one person the topic names
        return len(wanted) == 1 and any(same_person(wanted[0], who) for a, b, who in s.chunk.said
                                        if (a, b) == (s.start, s.end))

    found = once(s for chunk in candidates for s in _sentences(chunk)
                 if content(s.text) - words and not posing(s.text)
                 and (spoken(s) or all(mentions(s.text, n) for n in wanted)))
    if not found:
        return []
    vectors = embed([topic] + [s.text for s in found])
    scored = []
    for s, cos in zip(found, vectors[1:] @ vectors[0]):
        lexical = 1.0 if spoken(s) else sum(1 for w in words if mentions(s.text, w)) / len(words)
        if max(float(cos), lexical) >= MIN_RELEVANCE:  # the words tie many sentences: meaning orders them
            scored.append(Statement(s.chunk, s.start, s.end, s.speaker, round(float(cos) + lexical, 4)))
    return _by_article(scored)[:limit]


def _sentences(chunk: Chunk) -> list[Statement]:
    """Every sentence of the chunk, no speaker named (its citation names the article)."""
    return [Statement(chunk, start, end, "") for start, end in split_sentences(chunk.text)]


def _by_article(found: list[Statement]) -> list[Statement]:
    """Round by round, the best remaining sentence of each article; articles ordered by their best one.
    [a:0.9, a:0.8, b:0.5] -> [a:0.9, b:0.5, a:0.8]"""
    per: dict[str, list[Statement]] = {}
    for s in sorted(found, key=lambda s: -s.relevance):
        per.setdefault(s.chunk.doc_id, []).append(s)
    out, depth = [], 0
    while any(len(v) > depth for v in per.values()):
        out += [v[depth] for v in per.values() if len(v) > depth]
        depth += 1
    return out
