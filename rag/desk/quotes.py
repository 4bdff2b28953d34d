"""Who said what: every sentence the articles attribute to someone, from the speaker index the chunker
records (`Chunk.said`, read through `attribution.said_in`: the same index the chat's 'What did X say?'
answers from), one row per sentence per article, with the speaker's role where the article gives one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from ..attribution import in_article_order, said_in, same_person
from ..terms import ROLE_WORDS, fold, is_role, title_end
from ..types import Chunk
from . import Line, line_of

# words that may stand in a title before a name besides capitalised ones: 'coordinator', 'of the'
_TITLE_JOINERS = {"of", "the", "for", "and", "on"}
# 'Brian Hart, a fellow with the China Power Project, said': what stands between the commas after a name
_APPOSITION = re.compile(r",\s+((?:a|an|the)\s+[^,;“”\"]{3,140}?|[^,;“”\"]{0,40}\b(?:" + "|".join(sorted(ROLE_WORDS))
                         + r")\b[^,;“”\"]{0,60}?),", re.I)


@dataclass(frozen=True)
class Quote:
    """One statement: who (as the articles name them across the corpus), their role, the exact sentence."""

    speaker: str
    role: str
    line: Line


def quotes(chunks: Iterable[Chunk], speaker: str = "", article: str = "", word: str = "") -> list[Quote]:
    """Every attributed sentence of `chunks` in article order, each once per article (chunks overlap),
    narrowed to a `speaker` (any part of the name: 'Kirby'), an `article` (doc id or words of its title)
    and a `word` (in the sentence, any case).

    [chunk 'a:0' '“Yes,” Kirby said. Xi left.' said=((0, 18, 'John Kirby'),)] -> [Quote('John Kirby', '', Line('“Yes,” Kirby said.'))]
    """
    chunks = list(chunks)
    found, seen = [], set()
    for s in said_in(chunks):
        key = (s.chunk.doc_id, s.chunk.start + s.start, s.speaker)  # 'They stated': a row for each of the two
        if key not in seen:
            seen.add(key)
            found.append(s)
    found = in_article_order(found)
    full = canonical_names({s.speaker for s in found})
    roles = _roles(chunks, {(s.chunk.doc_id, full[s.speaker]) for s in found})
    out = []
    for s in found:
        name = full[s.speaker]
        out.append(Quote(name, roles.get((s.chunk.doc_id, name), ""), line_of(s.chunk, s.start, s.end)))
    return [q for q in out if wanted(q, speaker, article, word)]


def wanted(q: Quote, speaker: str, article: str, word: str) -> bool:
    if speaker.strip() and not same_person(speaker, q.speaker):
        return False
    if article.strip() and article.strip() != q.line.doc_id and fold(article.strip()) not in fold(q.line.title):
        return False
    return not word.strip() or fold(word.strip()) in fold(q.line.text)


def canonical_names(speakers: set[str]) -> dict[str, str]:
    """Each speaker under the fullest name the corpus gives them, when only one fuller name fits:
    {'Xi', 'Xi Jinping', 'Putin', 'Vladimir Putin', 'Li'} -> {'Xi': 'Xi Jinping', 'Putin': 'Vladimir Putin', 'Li': 'Li', ...};
    {'Li', 'Li Qiang', 'Li Hui'} -> 'Li' stays 'Li' (two people could be meant)"""
    out = {}
    for name in speakers:
        fuller = {n for n in speakers if n != name and same_person(name, n) and len(n) > len(name)}
        longest = {n for n in fuller if not any(m != n and same_person(n, m) and len(m) > len(n) for m in fuller)}
        out[name] = longest.pop() if len(longest) == 1 else name
    return out


def _roles(chunks: list[Chunk], quoted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(doc id, speaker) -> the role the article gives them where it first names them with one, looked for in
    the articles that quote them only: 'National Security Council coordinator John Kirby told reporters' ->
    'National Security Council coordinator'."""
    wanted: dict[str, set[str]] = {}
    for doc_id, name in quoted:
        wanted.setdefault(doc_id, set()).add(name)
    out: dict[tuple[str, str], str] = {}
    for chunk in sorted((c for c in chunks if c.doc_id in wanted), key=lambda c: (c.doc_id, c.start)):
        for name in wanted[chunk.doc_id]:
            if (chunk.doc_id, name) not in out and name in chunk.text and (role := role_in(chunk.text, name)):
                out[(chunk.doc_id, name)] = role
    return out


def role_in(text: str, name: str) -> str:
    """The title before a name, or the apposition after it, when it holds a role word:
    ('Chinese President Xi Jinping said', 'Xi Jinping') -> 'Chinese President';
    ('Brian Hart, a fellow with the China Power Project, said', 'Brian Hart') -> 'a fellow with the China Power Project';
    ('Russian President Vladimir Putin said', 'Putin') -> 'Russian President'; ('Xi Jinping said', 'Xi Jinping') -> ''"""
    for m in re.finditer(rf"\b{re.escape(name)}\b", text):
        before = _title_before(text[:m.start()])
        if before:
            return before
        after = _APPOSITION.match(text[m.end():])
        if after:
            return after.group(1).strip()
    return ""


def _title_before(head: str) -> str:
    """'... said National Security Council coordinator ' -> 'National Security Council coordinator'; 'Xi and ' -> ''"""
    words = head.split()
    if head and not head[-1].isspace():
        return ""
    run: list[str] = []
    for w in reversed(words):
        bare = w.strip("“”\"‘’'(")
        if bare != w or not bare or bare[-1] in ":;,":  # a quote mark or a dateline ('BEIJING:') ends the title
            break
        if bare[:1].isupper() or is_role(bare) or (run and bare.lower() in _TITLE_JOINERS):
            run.insert(0, bare)
            continue
        break
    while run and run[0].lower() in _TITLE_JOINERS:
        run = run[1:]
    end = title_end(run)  # 'Russian President Vladimir ' before 'Putin': 'Vladimir' is the rest of the name
    return re.sub(r"[’']s$", "", " ".join(run[:end])) if end else ""
