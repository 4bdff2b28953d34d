"""Where the articles disagree on a figure: two articles on the same story (their headlines share a name) whose
sentences about the same thing (a shared name, most of the same words) count the same unit (hours, %, people) and
give different values. The figures are
read as the chat's how-many check reads them (`cite.quantities`, `cite.by_unit`), so a difference the
chat would point out under an answer is listed here too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Iterable

from ..cite import by_unit, quantities
from ..terms import content, names, numbers, tokenize
from ..types import Chunk
from . import Line, line_of, sentences

# |shared words| / |words of the shorter sentence|, figures and units left out: the two sentences report the
# same event ('held talks in Moscow for almost four and a half hours Monday, Tass reported' ~ 'met with on
# Monday for more than four hours, according to TASS'), not two different things counted in the same unit.
MIN_SHARED = 0.3
_DIGIT = re.compile(r"\d")
_NUMBER_WORDS = frozenset("one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty "
                          "hundred dozen dozens".split())  # the words cite's figure pattern counts with
COMMON_NAME = 50  # a name in more sentences of a unit than this says too little to pair on ('U.S.')


@dataclass(frozen=True)
class Figure:
    value: str  # as the sentence gives it: 'more than four hours'
    line: Line


@dataclass(frozen=True)
class Difference:
    """One quantity the articles give differently: what is counted, the words the sentences share, and
    one figure per article."""

    unit: str  # 'hour', '%', 'people'
    about: str  # the words the sentences share: 'monday, talks, tass'
    figures: tuple[Figure, ...]


@dataclass
class _Said:
    line: Line
    values: dict[str, set[str]]  # unit -> comparable values
    phrases: dict[str, str]  # unit -> the figure as written
    words: set[str]
    names: set[str]


def differences(chunks: Iterable[Chunk]) -> list[Difference]:
    """Figures of the same unit about the same thing that differ between articles, most shared words first.

    [a: 'Xi and Putin met on Monday for more than four hours, TASS said.',
     b: 'The two leaders met in Moscow for almost four and a half hours Monday, Tass reported.']
    -> [Difference('hour', 'met, monday, tass', (Figure('more than four hours', …), Figure('almost four and a half hours', …)))]
    """
    by_unit_said: dict[str, list[_Said]] = {}
    for chunk, start, end in sentences(chunks):
        said = _read(chunk, start, end)
        for unit in said.values if said else ():
            by_unit_said.setdefault(unit, []).append(said)
    out = []
    for unit, group in by_unit_said.items():
        out += _differing(unit, group)
    return sorted(out, key=lambda d: (-len(d.about.split(", ")), d.unit))


def _read(chunk: Chunk, start: int, end: int) -> _Said | None:
    """A sentence's figures by unit, with its words and names; None when it counts nothing (most sentences)."""
    text = chunk.text[start:end]
    if not _DIGIT.search(text) and _NUMBER_WORDS.isdisjoint(text.lower().split()):
        return None  # cheaper than the figure pattern, which most sentences would fail anyway
    phrases = {}
    for phrase in quantities(text):
        for unit in by_unit({phrase}):
            phrases.setdefault(unit, phrase)
    if not phrases:
        return None
    values = by_unit(set(phrases.values()))
    figure_words = {w for p in phrases.values() for w in tokenize(p)}
    words = {w for w in content(text) - figure_words if not numbers(w)}
    return _Said(line_of(chunk, start, end), values, phrases, words,
                 {w for n in names(text, opening=False) for w in tokenize(n)})


@lru_cache(maxsize=4096)
def _headline_names(title: str) -> frozenset[str]:
    """'Xi Jinping says China ready to work with Russia' -> {'xi', 'jinping', 'china', 'russia'}"""
    return frozenset(w for n in names(title) for w in tokenize(n))


def _differing(unit: str, group: list[_Said]) -> list[Difference]:
    """Pairs of sentences from two articles sharing a name and MIN_SHARED of their words whose values of
    `unit` differ, joined into one Difference when they share a sentence."""
    posting: dict[str, list[int]] = {}
    for i, s in enumerate(group):
        for n in s.names:
            posting.setdefault(n, []).append(i)
    pairs = set()
    for rows in posting.values():
        if len(rows) <= COMMON_NAME:
            pairs.update(combinations(rows, 2))
    edges = []
    for i, j in sorted(pairs):
        a, b = group[i], group[j]
        if a.line.doc_id == b.line.doc_id or not a.values[unit].isdisjoint(b.values[unit]):
            continue
        if not _headline_names(a.line.title) & _headline_names(b.line.title):
            continue  # 'Asparagus' and 'Lettuce' both give China's share of world production: two subjects
        shared = a.words & b.words
        if shared and len(shared) >= MIN_SHARED * min(len(a.words), len(b.words)):
            edges.append((i, j, shared))
    parent = list(range(len(group)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, _ in edges:
        parent[root(j)] = root(i)
    clusters: dict[int, set[int]] = {}
    about: dict[int, set[str]] = {}
    for i, j, shared in edges:
        r = root(i)
        clusters.setdefault(r, set()).update((i, j))
        about[r] = about[r] & shared if r in about else shared
    out = []
    for r, members in clusters.items():
        per_doc: dict[str, _Said] = {}
        for i in sorted(members):
            per_doc.setdefault(group[i].line.doc_id, group[i])
        if len(per_doc) < 2:
            continue
        figures = tuple(Figure(s.phrases[unit], s.line) for s in per_doc.values())
        if len({f.value for f in figures}) < 2:
            continue
        out.append(Difference(unit, ", ".join(sorted(about[r])), figures))
    return out
