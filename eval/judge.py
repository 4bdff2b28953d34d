"""The citation support judge: does the passage cited as [n] back the answer sentence that cites it?

ALCE (Gao et al. 2023) asks an NLI model; we stay offline with two cheap routes. A sentence is
supported by a set of cited passages when its *claim words* (content words not already in the
question, so restating the question earns nothing) are covered, and every number it states appears
in the cited text, by either
  1. evidence: >= EVIDENCE_COVERAGE of the claim words occur in the gold evidence spans that sit
     whole inside the cited passages, or
  2. passage: the best single sentence of the cited passages covers >= LEXICAL_COVERAGE of the
     claim words, or (only when an `embed` callable is given) has cosine >= EMBED_THRESHOLD with
     the answer sentence. Embeddings add paraphrases ('continue' for 'resume') that words miss, so
     the embedding judge never scores below the lexical one.
Lexical routes can't see negation ("talks failed" vs "did not fail"); the number check catches the
hallucination small models make most.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from eval.metrics import contains, normalize, strip_markers

EVIDENCE_COVERAGE = 0.5  # gold spans are trusted, so half the claim suffices (answers paraphrase)
LEXICAL_COVERAGE = 0.6  # one passage sentence must carry most of the claim, not stray words
EMBED_THRESHOLD = 0.6  # MiniLM: paraphrases ~0.75+, a contradicted claim on the same topic ~0.55, off-topic ~0.2

Embed = Callable[[list[str]], np.ndarray]

_MARKERS = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_END = re.compile(r"""[.!?]+["')\]\u201d\u2019]*(?:\s*\[\d+(?:\s*,\s*\d+)*\])*(?=\s|$)""")
_WORD = re.compile(r"[^\W_]+")
_ABBREV = {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "gen", "sen", "rep", "gov", "lt", "col", "sgt",
           "no", "vs", "etc", "inc", "corp", "co", "ltd", "jan", "feb", "aug", "sept", "oct", "nov", "dec"}
_STOP = frozenset("""a an the and or but if of to in on at by for with from as into about over after
before than that this these those it its is are was were be been being has have had do does did
not no so such there their they them he she his her him we our you your i me my what which who whom
whose when where why how will would can could should may might must also just very more most said
say says saying told according while during up out then call called describe described note noted
state stated add added explain explained claim claimed""".split())  # reporting verbs carry no claim


def markers(text: str) -> list[int]:
    """Passage numbers cited, in order of first use: 'Xi [2] met Putin [1, 2][3].' -> [2, 1, 3]."""
    found = [int(n) for group in _MARKERS.findall(text) for n in group.split(",")]
    return list(dict.fromkeys(found))


def split_sentences(text: str) -> list[str]:
    """Sentences of an answer, each keeping the markers that follow its full stop.

    'Xi met Putin [1]. The U.N. was named. [2]\\nTalks end' -> ['Xi met Putin [1].',
    'The U.N. was named. [2]', 'Talks end']. Lines are boundaries too; a lone '[3]' joins the
    sentence before it; abbreviations, initials and a following lowercase word don't end a sentence;
    nor does a full stop inside a quotation that closes later on the line: '“A. B,” he said [1].' is
    one attributed claim, cited once after the quote.
    """
    pieces: list[str] = []
    for line in text.splitlines():
        start = 0
        for m in _END.finditer(line):
            before = re.search(r"(\S*)$", line[:m.start()]).group(1).lower()
            after = line[m.end():].lstrip()[:1]
            if after.islower() or (m.group().startswith(".") and (
                    before in _ABBREV or re.fullmatch(r"(?:[^\W\d_]\.)*[^\W\d_]", before))):
                continue  # 'U.S. officials', 'Mr. Kirby', '"Yes." he said' don't end a sentence
            if _in_quotation(line, start, m.end()):
                continue
            pieces.append(line[start:m.end()].strip())
            start = m.end()
        pieces.append(line[start:].strip())
    sentences: list[str] = []
    for p in filter(None, pieces):
        if sentences and not _WORD.search(strip_markers(p)):
            sentences[-1] += " " + p  # a marker on its own line belongs to the sentence above
        else:
            sentences.append(p)
    return sentences


def _in_quotation(line: str, start: int, end: int) -> bool:
    """Does line[start:end] end inside a curly quotation that closes later on the line?
    ('“A. B,” he said.', 0, 3) -> True; ('“A.” B.', 0, 4) -> False; an unclosed '“A. B' -> False"""
    opened = line.count("\u201c", start, end) - line.count("\u201d", start, end)
    return opened > 0 and "\u201d" in line[end:]


def content_words(text: str) -> set[str]:
    """Lowercased non-stopwords, plural 's' dropped: 'The talks were said [1] to fail' -> {'talk', 'fail'}."""
    words = _WORD.findall(_numbers_joined(strip_markers(text)).lower())
    return {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
            for w in words if w not in _STOP}


def claim_words(sentence: str, question: str) -> set[str]:
    """What the sentence adds beyond the question; all its words if it only restates it.
    ('Kirby said talks were constructive', 'What did Kirby say about talks?') -> {'constructive'}."""
    words = content_words(sentence)
    return (words - content_words(question)) or words


def numbers_ok(sentence: str, support: str) -> bool:
    """Every number the sentence states appears in the support: ('1,200 died [1]', 'some 1200 died') -> True."""
    nums = {w for w in content_words(sentence) if any(c.isdigit() for c in w)}
    return nums <= content_words(support)


def supports(sentence: str, passages: Sequence[str], evidence: Sequence[str], question: str = "",
             embed: Embed | None = None) -> bool:
    """Whether the passages together back the sentence (routes in the module docstring).

    ('Xi called it constructive [1].', ['Xi said talks were constructive.'], [], 'What did Xi say?')
    -> True by the lexical passage route; with no passages -> False.
    """
    if not passages:
        return False
    claim = claim_words(sentence, question)
    spans = [normalize(e) for e in evidence if any(contains(p, e) for p in passages)]
    span_words = set().union(*map(content_words, spans)) if spans else set()
    if spans and _coverage(claim, span_words) >= EVIDENCE_COVERAGE and numbers_ok(sentence, " ".join(spans)):
        return True
    cands = [s for p in passages for s in split_sentences(p)]
    if not cands or not numbers_ok(sentence, " ".join(passages)):
        return False
    if max(_coverage(claim, content_words(s)) for s in cands) >= LEXICAL_COVERAGE:
        return True
    if embed is None:
        return False
    vecs = np.asarray(embed([strip_markers(sentence)] + cands), dtype=float)
    return float(np.max(vecs[1:] @ vecs[0])) >= EMBED_THRESHOLD


@dataclass(frozen=True)
class Judged:
    """One answer sentence: the passage numbers it cites, whether they support it, and which of
    those citations are precise (ALCE: not redundant next to the others)."""

    sentence: str
    cited: tuple[int, ...]
    supported: bool
    precise: tuple[bool, ...]  # parallel to cited


def judge(text: str, passages: Sequence[str], evidence: Sequence[str], question: str = "",
          embed: Embed | None = None) -> list[Judged]:
    """Judge every claim sentence of an answer; passages[n-1] is the passage shown as [n].

    A sentence without markers is unsupported; a marker outside 1..len(passages) (e.g. [7] with 3
    passages) points at nothing and supports nothing. Citation c of a supported sentence is precise
    unless it fails alone while the other citations still support the sentence (ALCE's rule).
    Sentences with no content words ('Yes.') make no claim and are skipped.
    """
    def shown(ns):
        return [passages[n - 1] for n in ns if 1 <= n <= len(passages)]

    out = []
    for s in split_sentences(text):
        if not content_words(s):
            continue
        cited = tuple(markers(s))
        ok = bool(cited) and supports(s, shown(cited), evidence, question, embed)
        precise = tuple(ok and (supports(s, shown([n]), evidence, question, embed)
                                or not supports(s, shown([m for m in cited if m != n]), evidence, question, embed))
                        for n in cited)
        out.append(Judged(s, cited, ok, precise))
    return out


def citation_recall(judged: Sequence[Judged]) -> float:
    """Share of claim sentences supported; 0.0 for an answer with none (it backs nothing)."""
    return sum(j.supported for j in judged) / len(judged) if judged else 0.0


def citation_precision(judged: Sequence[Judged]) -> float:
    """Share of citations that are precise; 0.0 when nothing is cited (as ALCE scores it)."""
    flags = [p for j in judged for p in j.precise]
    return sum(flags) / len(flags) if flags else 0.0


def cached(embed: Embed) -> Embed:
    """Wrap an embedder so each distinct text is encoded once per run: the same passage sentences
    come back for every answer sentence that cites them, and encoding dominates the judge's cost."""
    memo: dict[str, np.ndarray] = {}

    def embed_cached(texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in memo]
        if todo:
            memo.update(zip(todo, np.asarray(embed(todo), dtype=float)))
        return np.stack([memo[t] for t in texts])

    return embed_cached


def _coverage(claim: set[str], words: set[str]) -> float:
    return len(claim & words) / len(claim) if claim else 1.0


def _numbers_joined(text: str) -> str:
    # '1,200' and '1200' are the same number; join thousands groups before splitting into words.
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
