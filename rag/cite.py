"""Generated text + shown hits -> checked Citations with exact quotes, or a refusal.

Every answer sentence is matched against the passages it cites: a marker whose passage does not share the
sentence's content words is dropped (or moved to the passage that does), and the quote is the passage
sentence that best supports the claim, sliced from chunk.text so it is always an exact substring.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Container

from .bm25 import tokenize
from .chunk import split_sentences
from .prompt import REFUSAL
from .types import Citation, Hit

MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_MARKER_AFTER_END = re.compile(r"([.!?])((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)")
_REFUSING = re.compile(
    r"(articles?|passages?|sources?|texts?|context)\s+(do not|don't|does not|doesn't|did not|didn't)\s+"
    r"(say|contain|mention|provide|specify|include|state|answer|address)|no information|not mentioned|"
    r"cannot answer|can't answer|unable to (answer|find)|there is no (mention|information)",
    re.I,
)
# Question words that say nothing about the topic ("What did X say about Y?" -> topic is X, Y).
_GENERIC = frozenset(tokenize(
    "according article articles report reported reports mention mentioned many much long often kind way "
    "happen happened else call called think thought make made give gave get got go went take took know"
))
MIN_SUPPORT = 0.25  # share of a sentence's content words found in one passage sentence to count as support
MOVE_SUPPORT = 0.5  # a stronger match needed to add or move a marker the model did not write
MARGIN = 0.3  # a cited passage this much weaker than the best one is a wrong marker
MIN_COMPLEMENT = 3  # content words a second passage must add to be cited beside the first


@dataclass(frozen=True)
class Checked:
    text: str
    citations: list[Citation]
    refused: bool


def is_refusal(text: str) -> bool:
    """'The articles don't say.' -> True; 'Kirby said X [1].' -> False"""
    return bool(_REFUSING.search(text)) or not text.strip()


def uncovered_terms(question: str, hits: list[Hit]) -> list[str]:
    """Topic words of the question that appear in none of the passages.

    'Who won the 2022 FIFA World Cup?' over passages about Xi, Putin and 'the world order'
    -> ['won', '2022', 'fifa', 'cup']
    """
    seen = set()
    for h in hits:
        seen.update(tokenize(f"{h.chunk.title} {h.chunk.text} {' '.join(h.chunk.speakers)}"))
    return [t for t in dict.fromkeys(tokenize(question)) if t not in seen and t not in _GENERIC]


def off_topic(question: str, hits: list[Hit], vocabulary: Container[str]) -> bool:
    """Refuse before generating when the question names something the whole corpus never mentions, or when
    the passages miss most of its topic words: 'What did Kirby say about North Korea?' -> True."""
    terms = [t for t in dict.fromkeys(tokenize(question)) if t not in _GENERIC]
    if not terms:
        return False
    names = set(tokenize(" ".join(re.findall(r"(?<!^)\b([A-Z][a-zA-Z]+|\d+)", question.strip()))))
    if any(t not in vocabulary for t in names):
        return True
    return len(uncovered_terms(question, hits)) / len(terms) >= 0.5


def off_subject(question: str, cited: list[Hit]) -> bool:
    """'What did Hart say about Taiwan?' answered from passages that never mention Taiwan -> True: the model
    reported what the person said, but not about what was asked."""
    m = re.search(r"\babout\s+(.+?)[?.!]*$", question)
    topic = [t for t in tokenize(m.group(1)) if t not in _GENERIC] if m else []
    if not topic or not cited:
        return False
    missing = uncovered_terms(m.group(1), cited)
    return all(t in missing for t in topic)


def support(claim: str, passage: str) -> tuple[float, tuple[int, int]]:
    """(share of the claim's content words found in the passage's best sentence, that sentence's span).

    claim 'Exports jumped 153%', passage 'Trade boomed. Exports jumped 153% in April.' -> (1.0, (14, 43))
    """
    words = set(tokenize(claim))
    quoted = [_fold(q.strip(" ,.")) for q in re.findall(r"[“\"]([^”\"]{12,})[”\"]", claim)]
    best, span = (False, 0.0), (0, 0)
    for start, end in split_sentences(passage):
        sentence = passage[start:end]
        score = len(words & set(tokenize(sentence))) / len(words) if words else 0.0
        pinned = any(q in _fold(sentence) for q in quoted)  # a verbatim quote pins its sentence, ties included
        if (pinned, score) > best:
            best, span = (pinned, 1.0 if pinned else score), (start, end)
    return best[1], span


def _fold(text: str) -> str:
    """Case and apostrophe style don't matter when matching a quote: 'Don’t' ~ "don't"."""
    return text.lower().replace("’", "'").replace("‘", "'")


def check(text: str, hits: list[Hit]) -> Checked:
    """Parse [n] markers, keep those whose passage supports their sentence, attach exact quotes."""
    if is_refusal(text) and not MARKER.search(text):
        return Checked(REFUSAL, [], True)
    out_sentences, citations, seen = [], [], set()
    text = _MARKER_AFTER_END.sub(r"\2\1", text)  # 'closer. [2]' -> 'closer [2].': the marker joins its sentence
    for start, end in split_sentences(text):
        sentence = text[start:end]
        claim = MARKER.sub("", sentence).strip()
        if not claim:
            continue
        cited = [int(n) for group in MARKER.findall(sentence) for n in re.split(r"\s*,\s*", group)]
        scored = {n: support(claim, hits[n - 1].chunk.text) for n in range(1, len(hits) + 1)}
        best = max(scored, key=lambda n: (scored[n][0], -n)) if scored else 0
        top = scored[best][0] if scored else 0.0
        # a cited passage stays when it supports the claim nearly as well as the best passage does
        keep = [n for n in dict.fromkeys(cited)
                if n in scored and scored[n][0] >= max(MIN_SUPPORT, top - MARGIN)]
        if not keep and not is_refusal(claim) and top >= MOVE_SUPPORT:
            keep = [best]
        quotes = {n: scored[n][1] for n in keep}
        if keep:  # 'X said A, and that B': a second passage may hold the part the first does not
            quotes.update(_complement(claim, hits, quotes))
            keep = sorted(quotes)
        for n in keep:
            s, e = quotes[n]
            chunk = hits[n - 1].chunk
            if (n, s) not in seen:
                seen.add((n, s))
                citations.append(Citation(n=n, chunk=chunk, quote=chunk.text[s:e], quote_start=s,
                                          score=hits[n - 1].score))
        out_sentences.append(_with_markers(claim, keep))
    citations.sort(key=lambda c: (c.n, c.quote_start))
    if not citations:
        return Checked(REFUSAL, [], True)
    return Checked(" ".join(out_sentences), citations, False)


def _complement(claim: str, hits: list[Hit], quotes: dict[int, tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """Other passages whose best sentence holds most of the claim words the cited sentences lack.

    claim 'Kirby said ties are burgeoning and the U.S. is revitalizing alliances', cited [3] (alliances)
    -> {1: span of the 'burgeoning' sentence in passage 1}
    """
    covered = set()
    for n, (s, e) in quotes.items():
        covered.update(tokenize(hits[n - 1].chunk.text[s:e]))
    missing = set(tokenize(claim)) - covered
    added: dict[int, tuple[int, int]] = {}
    for n in range(1, len(hits) + 1):
        if n in quotes or len(missing) < MIN_COMPLEMENT:
            continue
        text = hits[n - 1].chunk.text
        for s, e in split_sentences(text):
            found = missing & set(tokenize(text[s:e]))
            if len(found) >= MIN_COMPLEMENT and len(found) >= 0.5 * len(missing):
                added[n] = (s, e)
                missing -= found
                break
    return added


def _with_markers(claim: str, ns: list[int]) -> str:
    """('Kirby spoke.', [2, 1]) -> 'Kirby spoke [2][1].'"""
    claim = re.sub(r"\s+([.,;:!?])", r"\1", claim)
    if not ns:
        return claim
    marks = "".join(f"[{n}]" for n in ns)
    if claim[-1:] in ".!?":
        return f"{claim[:-1]} {marks}{claim[-1]}"
    return f"{claim} {marks}"
