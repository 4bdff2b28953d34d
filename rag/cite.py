"""Generated text + shown hits -> checked Citations with exact quotes; unsupported sentences removed.

Every answer sentence is matched against the passage sentences: it is supported when it shares most
content words with one (names through their aliases: 'United States' ~ 'U.S.'), or means the same by
the embedding model, and its numbers and negations agree with that sentence. A marker on a passage
that does not support its sentence is moved to one that does or dropped; a sentence left without a
supported marker is removed. The quote is the supporting sentence, sliced from chunk.text so it is
always an exact substring.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np

from . import grammar
from .attribution import claimed_speaker, inverted, misattributed, parse
from .chunk import split_sentences
from .prompt import posing
from .refusal import is_refusal
# MARKER: the one marker pattern, used app-wide
from .terms import (ASKS_QUANTITY, MARKER, content, fold, marker_numbers, mentions, names, numbers, stem, tokenize,
                    turned)
from .terms import MARKER_GROUP as _G
from .types import Chunk, Citation, Hit

# a line that opens with its marker, list style: '[1] Xi said so.' or '- [2] He left.' -> the marker ends it
_LEADING_MARKER = re.compile(r"(?m)^([ \t]*(?:[-*•]|\d+[.)])?[ \t]*)((?:" + _G + r"[ \t]*)+)(\S.*?)[ \t]*$")
_MARKER_AFTER_END = re.compile(r"([.!?])((?:\s*" + _G + r")+)")
_NEGATION = re.compile(r"\b(?:not|no|never|neither|nor|none|nothing|without)\b|n[’']t\b", re.I)
_STUB = re.compile(r"^(?:(?:according to|based on)(?: the)? (?:(?:information |details )?(?:provided |given )?(?:in |by )?"
                   r"(?:the )?(?:provided |given )?(?:passages?|articles?|sources?|texts?))"
                   r"(?:\s*,?\s*" + _G + r")*\s*,?\s*|according to\s*,\s*)", re.I)
# a sentence opening that only names the source: 'The article [2] states that China ...' -> 'China ...'
_SAYS_STUB = re.compile(r"(^|(?<=[.!?] ))(?:the |this )?(?:passages?|articles?|texts?)(?:\s*" + _G + r")*"
                        r"\s+(?:states?|says?|mentions?|notes?|reports?|indicates?)(?:\s+that\b)?\s*[,:]?\s*(\S)", re.I)
# ... or that comes after an opening word: 'Specifically, the passage states that Xi ...' -> 'Specifically, Xi ...'
_INNER_SAYS = re.compile(r",\s+(?:the |this )?(?:passages?|articles?|texts?)(?:\s*" + _G + r")*"
                         r"\s+(?:states?|says?|mentions?|notes?|reports?|indicates?)\s+that\s+", re.I)
# markers listed as words: '[1], [2], and [3]' -> '[1][2][3]', so removing them leaves no ',, and,'
_MARKER_LIST = re.compile(r"\[\d+\](?:(?:\s*,\s*(?:and\s+)?|\s+and\s+)\[\d+\])+")
# markers named as a place, opening a clause: 'Specifically, in [3][4], Xi vowed' -> 'Specifically, Xi vowed [3][4]'
_IN_MARKERS = re.compile(r"(^|,\s*)(?:in|from|see|per)\s+(?:the\s+)?(?:passages?\s+|articles?\s+)?"
                         r"((?:" + _G + r")+)\s*,\s*(\S[^.!?]*)", re.I)
# the same stub inside a sentence: 'Yes, according to passage, they met' -> 'Yes, they met'
_INNER_STUB = re.compile(r",\s*according to(?: the)? (?:provided |given )?(?:passages?|articles?|sources?|texts?)\b"
                         r"((?:\s*" + _G + r")*)(?=\s*[,.;!?]|\s*$)", re.I)
_SPACED_INITIALS = re.compile(r"\b([A-Z])\. (?=[A-Z]\.)")
# A template slot left unfilled: '[insert date]', '[date]', '[Name]', '<name>', 'XX', 'TBD', or an ellipsis standing for
# words. General shapes of a model filling a form, not words of any corpus; one that the passages themselves hold
# (an ellipsis inside a quote, a Roman numeral) is the articles' own text and stays.
_PLACEHOLDER = re.compile(r"\[\s*(?:insert\b[^\]]*|[A-Za-z][A-Za-z ./-]{0,24})\]|<\s*[A-Za-z][A-Za-z ]{0,24}>|\bX{2,}\b|"
                          r"\bTBD\b|\bTBA\b|…|\.\.\.")
MIN_SUPPORT = 0.5  # share of a claim's content words in one passage sentence (aliases included)
MIN_MEANING = 0.62  # or: cosine of claim and passage sentence (paraphrase); numbers and negation must agree
MOVE_SUPPORT = 0.6  # a stronger match needed to add or move a marker the model did not write
MARGIN = 0.3  # a cited passage this much weaker than the best one is a wrong marker
MIN_COMPLEMENT = 3  # content words a second passage must add to be cited beside the first

Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Checked:
    """What checking found: the supported sentences with their markers (`text`) and citations, the sentences
    removed as unsupported, and whether the model said the passages don't answer. Whether that makes a
    refusal, and why, is for `rag.refusal` to say."""

    text: str  # the supported sentences; '' when none is
    citations: list[Citation]
    dropped: list[str] = field(default_factory=list)  # answer sentences removed as unsupported
    declined: bool = False  # the model wrote that the passages don't answer (and cited nothing)

    @property
    def supported(self) -> bool:
        return bool(self.citations)


def _speakers_by_span(chunk: Chunk) -> dict[tuple[int, int], str]:
    """Each attributed sentence's speaker, two who spoke together joined: {(0, 40): 'Xi Jinping and Vladimir Putin'}"""
    out: dict[tuple[int, int], str] = {}
    for start, end, who in chunk.said:
        out[(start, end)] = f"{out[(start, end)]} and {who}" if (start, end) in out else who
    return out


def tidy(text: str) -> str:
    """Clean prose: 'According to passage [1], Xi left. U. S. officials' -> 'Xi left. U.S. officials'"""
    text = _SPACED_INITIALS.sub(r"\1.", text)
    text = re.sub(r"\b([A-Z])\. ([A-Z])\.", r"\1.\2.", text)
    lines = []
    for line in text.split("\n"):
        lead = re.match(r"^\s*(?:[-*•]\s+|\d+[.)]\s+)?", line).group()
        body = _MARKER_LIST.sub(lambda m: "".join(re.findall(r"\[\d+\]", m.group())), line[len(lead):])
        body = _INNER_STUB.sub(lambda m: m.group(1), _STUB.sub("", body))
        body = _SAYS_STUB.sub(lambda m: m.group(1) + m.group(2).upper(), body)
        body = _IN_MARKERS.sub(lambda m: f"{m[1]}{m[3]} {m[2]}", body)
        body = _INNER_SAYS.sub(", ", body)
        lines.append(lead + (body[:1].upper() + body[1:] if body else body))
    return "\n".join(lines).strip()


def agrees(claim: str, sentence: str, question: str = "") -> bool:
    """Numbers, negation and direction of the claim hold in the sentence.

    ('Exports fell 53%', 'Exports jumped 153%') -> False; ('They have not grown closer', 'They have grown
    closer') -> False; ('Imports grew 153%', 'Exports jumped 153%') -> False;
    ('Exports jumped 153%', 'Exports hit a record, jumping 153%.') -> True;
    ('Beijing sent arms', 'Beijing denies sending arms') -> False (what a 'not' or a denial governs);
    a number the claim repeats from the `question` ('Apollo 11') pins the article, not the sentence.
    """
    if not numbers(claim) - numbers(question) <= numbers(sentence):
        return False
    if _NEGATION.search(claim) and not _NEGATION.search(sentence):
        return False
    said, there = content(claim), content(sentence)
    if not (_NEGATION.search(claim) or _DENIAL.search(claim)) and _negated(sentence) & said:
        return False
    return turned(said, there) is None


# A denial negates what it governs as a 'not' does: 'Beijing denies sending arms' does not support 'Beijing sent arms'.
_DENIAL = re.compile(r"\b(?:den(?:y|ies|ied|ying)|reject(?:s|ed|ing)?|refut(?:e|es|ed|ing)|dismiss(?:es|ed|ing)?)\b",
                     re.I)
NEGATED_WORDS = 3  # content words after a 'not' that it negates: 'have not grown closer' -> {grown, closer}
DENIED_WORDS = 6  # and after a denial, whose object is a whole claim: 'denies allegations that it sent arms'
_CLAUSE_END = re.compile(r"[,;:!?“”\"()—–]|(?<![A-Z])[.](?=\s|$)| but | while | although ")  # not the dot of U.S.


def _negated(sentence: str) -> set[str]:
    """Content words a negation or denial in the sentence governs (the next NEGATED_WORDS of each, up to the
    end of its clause): 'They have not grown closer, he said.' -> {'grown', 'closer'}"""
    out: set[str] = set()
    for pattern, n in ((_NEGATION, NEGATED_WORDS), (_DENIAL, DENIED_WORDS)):
        for m in pattern.finditer(sentence):
            out.update(tokenize(_CLAUSE_END.split(sentence[m.end():], maxsplit=1)[0])[:n])
    return out


def _beyond(text: str, question: str) -> set[str]:
    """The text's content words the question does not hold: ('Sergei Korolev', 'Where was Korolev born?') -> {'sergei'}"""
    asked = {stem(w) for w in content(question)}
    return {w for w in content(text) if stem(w) not in asked}


def overlap(claim: str, sentence: str, question: str = "") -> float:
    """Share of the claim's content words (beyond the question's) in the sentence, a name counting when the
    sentence holds any of its spellings: ('The United States worried', 'U.S. officials are worried') -> 1.0.
    A claim that only restates the question says nothing: ('Xi and Putin called each other', ...,
    'What did Xi and Putin call each other?') -> 0.0"""
    words = _beyond(claim, question)
    if not words:
        return 0.0
    found = words & content(sentence)
    for name in names(claim):
        if mentions(sentence, name):
            found |= content(name) & words
    return len(found) / len(words)


def support(claim: str, passage: str, meaning: dict[tuple[int, int], float] | None = None,
            question: str = "", speakers: dict[tuple[int, int], str] | None = None) -> tuple[float, tuple[int, int]]:
    """(how well the passage's best sentence supports the claim, that sentence's span); 0.0 if none agrees.

    claim 'Exports jumped 153%', passage 'Trade boomed. Exports jumped 153% in April.' -> (1.0, (14, 43))
    `meaning` maps sentence spans to their cosine with the claim (paraphrase counts when it is high);
    `speakers` maps them to the speaker the chunker recorded: a claim that 'X said' it needs X's sentence.
    """
    quoted = [fold(q.strip(" ,.")) for q in re.findall(r"[“\"]([^”\"]{12,})[”\"]", claim)]
    who = claimed_speaker(claim)  # 'X said ...': then only a sentence X speaks in supports it
    named = names(claim)[:1] if grammar.has_figure(claim) else []  # who a figure claim gives its figure to
    asked = about(claim, question)
    best, span = (False, 0.0), (0, 0)
    for start, end in split_sentences(passage):
        sentence = passage[start:end]
        if posing(sentence):  # never shown to the model, and no evidence of anything
            continue
        if misattributed(who, sentence, (speakers or {}).get((start, end), ""), passage):
            continue  # the words may be there, but someone else said them
        pinned = any(q in fold(sentence) for q in quoted)  # a verbatim quote pins its sentence
        if not pinned and not agrees(claim, sentence, question):
            continue
        if not pinned and named and owner_differs(claim, named[0], sentence):  # the figure is another's there
            continue
        score = overlap(claim, sentence, question)
        cos = (meaning or {}).get((start, end), 0.0)
        # claim and sentence must each say more than the question: a heading 'Sergei Korolev' is close in
        # meaning to 'Sergei Korolev was born in Moscow' and says nothing of it
        if cos >= MIN_MEANING and _beyond(claim, question) and _beyond(sentence, question):
            score = max(score, cos)
        if (pinned, score) > best and (pinned or not off_subject(sentence, asked, claim,
                                                                  (speakers or {}).get((start, end), ""))):
            best, span = (pinned, 1.0 if pinned else score), (start, end)  # (off its subject: another's words)
    return best[1], span


@lru_cache(maxsize=1024)  # asked once per passage a claim is checked against, and again for the claim
def about(claim: str, question: str) -> tuple[str, ...]:
    """The names the question pins down that the claim repeats: who or what the claim is about.
    ('The AUKUS deal was signed in 2021', 'When was the AUKUS deal signed?') -> ('AUKUS',)"""
    return tuple(n for n in names(question, opening=False) if mentions(claim, n)) if question else ()


def off_subject(sentence: str, asked: tuple[str, ...], claim: str, speaker: str = "") -> bool:
    """The sentence gives none of `asked` (see `about`), nor do they speak it, and it is about someone or
    something the claim never names: its main verb's named subject (rag.grammar's parse), or, with no
    subject to read, a name it holds. ('FILE – In this June 5, 2019, file photo, Putin and Xi enter a
    hall', ('AUKUS',), 'The AUKUS deal was signed on June 5, 2019') -> True. A subject that names nobody
    ('The mission was crewed by ...', 'he added') may be the claim's, named the sentence before: False."""
    if not asked or any(mentions(sentence, n) for n in asked) or any(mentions(speaker, n) for n in asked):
        return False
    theirs = grammar.subject_names(sentence)
    if theirs is None:  # no subject to read: someone it names that the claim does not
        return any(not mentions(claim, n) for n in names(sentence, opening=False))
    return bool(theirs) and not any(mentions(claim, n) for n in theirs)


def same_entity(a: str, b: str) -> bool:
    """'Xi' and 'Xi Jinping', 'U.S.' and 'United States' are one: ('France', 'Lyon') -> False"""
    return mentions(a, b) or mentions(b, a)


def owner_differs(claim: str, named: str, sentence: str) -> bool:
    """The figure claim, whose first name is `named`, gives one of the sentence's figures to another named
    subject than the sentence does ('France has half a million residents' from 'Lyon, the third city of France,
    has half a million residents'). Parsed (rag.grammar) only when the sentence opens on another name and holds
    the claim's somewhere: a claim that starts where its sentence starts is not read twice."""
    theirs = names(sentence)
    if not theirs or same_entity(named, theirs[0]) or not mentions(sentence, named):
        return False
    return grammar.owner_differs(claim, sentence, same_entity)


def placeholder(claim: str, hits: list[Hit]) -> str:
    """A template slot the claim holds and no passage does, or '':
    ('The summit opened on [insert date] [2].', hits) -> '[insert date]'; ('Xi met Putin [1].', hits) -> ''"""
    for m in _PLACEHOLDER.finditer(MARKER.sub("", claim)):
        forms = {"…", "..."} if m.group() in ("…", "...") else {m.group()}
        if not any(f in h.chunk.text for f in forms for h in hits):
            return m.group()
    return ""


def check(text: str, hits: list[Hit], embed: Embed | None = None, question: str = "") -> Checked:
    """Parse [n] markers, keep those whose passage supports their sentence, attach exact quotes, and
    remove every sentence left without a supported marker; nothing supported left -> a refusal."""
    text = tidy(text.replace("...", "…"))  # three dots are one mark: no sentence ends inside them
    if is_refusal(text) and not MARKER.search(text):
        return Checked("", [], declined=True)
    text = _LEADING_MARKER.sub(lambda m: f"{m[1]}{m[3]} {m[2].strip()}", text)
    text = _MARKER_AFTER_END.sub(r"\2\1", text)  # 'closer. [2]' -> 'closer [2].': the marker joins its sentence
    spans = [(s, e) for s, e in split_sentences(text) if MARKER.sub("", text[s:e]).strip()]
    claims = [MARKER.sub("", text[s:e]).strip() for s, e in spans]
    meanings = _meanings(claims, hits, embed)
    asked = parse(question) if question else None  # 'What did X say?': sentences must give X's words
    said = [_speakers_by_span(h.chunk) for h in hits]
    out, citations, seen, dropped = [], [], set(), []
    for (start, end), claim, meaning in zip(spans, claims, meanings):
        sentence = text[start:end]
        if is_refusal(claim):  # a hedge beside the answer ('The articles don't say why.') is no claim
            continue
        if asked and inverted(claim, asked.who):  # asked what X said, it gives what X was told
            dropped.append(_with_markers(claim, []))
            continue
        if placeholder(claim, hits):  # '... on [insert date] [2].': a form left unfilled supports nothing
            dropped.append(_with_markers(claim, []))
            continue
        cited = [n for group in MARKER.findall(sentence) for n in marker_numbers(group)]
        quotes = _quotes_for(claim, cited, hits, meaning, question, said)
        if not quotes or glued(claim, question, hits, quotes):
            dropped.append(_with_markers(claim, []))
            continue
        keep = sorted(quotes)
        for n in keep:
            s, e = quotes[n]
            chunk = hits[n - 1].chunk
            if (n, s) not in seen:
                seen.add((n, s))
                citations.append(Citation(n=n, chunk=chunk, quote=chunk.text[s:e], quote_start=s,
                                          score=hits[n - 1].score))
        joiner = "\n" if out and "\n" in text[out[-1][1]:start] else " "
        out.append((joiner + _with_markers(claim, keep) if out else _with_markers(claim, keep), end))
    citations.sort(key=lambda c: (c.n, c.quote_start))
    if not citations:
        return Checked("", [], dropped)
    return Checked("".join(t for t, _ in out), citations, dropped)


def _quotes_for(claim: str, cited: list[int], hits: list[Hit], meaning: list[dict[tuple[int, int], float]],
                question: str, said: list[dict[tuple[int, int], str]]) -> dict[int, tuple[int, int]]:
    """{passage number: span of its supporting sentence} for one claim, {} when no passage supports it.

    A cited passage stays when it supports the claim nearly as well as the best passage does; an uncited
    one that supports it strongly takes the marker's place; a second passage may hold the rest of the
    claim (`_complement`); a name the cited passages never give brings in a passage that gives it. A passage
    brought in from another article must name what the question names and the claim repeats (`about`):
    'Brian Hart ... is in Yamoussoukro, the capital of Ivory Coast' takes nothing from a passage on Ivory Coast."""
    scored = {n: support(claim, hits[n - 1].chunk.text, meaning[n - 1], question, said[n - 1])
              for n in range(1, len(hits) + 1)}
    best = max(scored, key=lambda n: (scored[n][0], -n)) if scored else 0
    top = scored[best][0] if scored else 0.0
    keep = [n for n in dict.fromkeys(cited) if n in scored and scored[n][0] >= max(MIN_SUPPORT, top - MARGIN)]
    if not keep and top >= MOVE_SUPPORT:
        keep = [best]
    if not keep:
        return {}
    quotes = {n: scored[n][1] for n in keep}
    asked, docs = about(claim, question), {hits[n - 1].chunk.doc_id for n in keep}

    def on_subject(chunk: Chunk) -> bool:
        """A passage of the cited articles, or one naming what the question names and the claim repeats."""
        return not asked or chunk.doc_id in docs or any(mentions(f"{chunk.title}\n{chunk.text}", a) for a in asked)

    quotes.update(_complement(claim, hits, quotes, on_subject))  # 'X said A, and B': a second passage may hold B
    missing = unnamed_in(claim, [hits[n - 1].chunk for n in sorted(quotes)], question)
    if missing:  # a name the cited passages never give: another passage that gives them joins, or it goes
        giving = [n for n in scored if n not in quotes and scored[n][0] > 0
                  and not not_given(missing, [hits[n - 1].chunk]) and on_subject(hits[n - 1].chunk)]
        if not giving:
            return {}
        n = max(giving, key=lambda n: (scored[n][0], -n))
        quotes[n] = scored[n][1]
    return quotes


def _meanings(claims: list[str], hits: list[Hit], embed: Embed | None) -> list[list[dict[tuple[int, int], float]]]:
    """For each claim and passage: {sentence span: cosine of claim and sentence}; empty without a model.
    One embedding call for the whole answer."""
    spans = [split_sentences(h.chunk.text) for h in hits]
    if embed is None or not claims:
        return [[{} for _ in hits] for _ in claims]
    sentences = [h.chunk.text[s:e] for h, ss in zip(hits, spans) for s, e in ss]
    vectors = np.asarray(embed(claims + sentences), dtype=np.float32)
    cos = vectors[:len(claims)] @ vectors[len(claims):].T
    out = []
    for row in cos:
        k, per_passage = 0, []
        for ss in spans:
            per_passage.append({span: float(row[k + i]) for i, span in enumerate(ss)})
            k += len(ss)
        out.append(per_passage)
    return out


# what may stand before a figure, and how it compares: 'over 4 hours' is 'more than four hours'
_QUALIFIER = {"more than": ">", "over": ">", "at least": ">=", "less than": "<", "fewer than": "<", "under": "<",
              "almost": "~", "nearly": "~", "about": "~", "around": "~", "roughly": "~", "some": "~"}
_QUANTITY = re.compile(
    rf"(?:(?:{'|'.join(_QUALIFIER)})\s+)?"
    r"(?:\$\s?)?(?:\d[\d,.]*|(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|hundred|a dozen|dozens)\b)(?:\s+and\s+a\s+half)?\s*(?:%|percent|per cent|\w+)?", re.I)
# A sentence of another article that answers the question in half the question's words scores half the
# lexical weight (0.5) lower: that far below the cited sentence it may still report the same fact.
CONFLICT_MARGIN = 0.25


def quantities(sentence: str) -> set[str]:
    """'talks lasted almost four and a half hours, 153%' -> {'almost four and a half hours', '153%'}"""
    return {" ".join(m.group().lower().split()) for m in _QUANTITY.finditer(sentence)}


def by_unit(figures: set[str]) -> dict[str, set[str]]:
    """Figures by what they count, each as a comparable value: {'more than four hours', 'over 4 hours',
    '153%', 'in 2019'} -> {'hour': {'> 4'}, '%': {'153'}}; a bare number (a year) counts nothing."""
    out: dict[str, set[str]] = {}
    for figure in figures:
        words = figure.replace("per cent", "%").replace("percent", "%").replace("%", " %").split()
        unit = "%" if words[-1] == "%" else next(iter(tokenize(words[-1])), "")
        if not unit or re.search(r"\d,\s", figure) or unit.isdigit() or numbers(unit):  # '2010, both': no unit
            continue
        value = " ".join(words[:-1])
        for phrase, sign in _QUALIFIER.items():
            value = re.sub(rf"^{phrase}\b", sign, value)
        value = " ".join(min(numbers(w)) if numbers(w) else w for w in value.split())
        out.setdefault(unit, set()).add(value)
    return out


def asks_figure(question: str) -> bool:
    """Does the question ask for a figure ('How long...?', 'When...?') or state one ('Did they talk for more
    than four hours?')? Its answer is then compared with the figures other articles give (`conflicting`)."""
    return bool(ASKS_QUANTITY.search(question) or by_unit(quantities(question)))


def conflicting(checked: Checked, hits: list[Hit],
                relevance: list[list[tuple[tuple[int, int], float]]]) -> list[tuple[int, tuple[int, int]]]:
    """Sentences of other articles that give a different figure of the same kind (hours, %, people) for
    what the question asks: (passage number, span) to cite beside the answer, so 'the articles differ' is
    said, not hidden. Asked only of a question that `asks_figure`.

    'How long did they talk?' answered 'more than four hours' [1], passage [2] of another article says
    'almost four and a half hours' as relevantly -> [(2, span)]; passage [2] saying 'the two leaders' -> []
    """
    if not checked.supported:
        return []
    score = {(i + 1, span): sc for i, row in enumerate(relevance) for span, sc in row}
    cited = [(c.n, (c.quote_start, c.quote_start + len(c.quote))) for c in checked.citations]
    best = max((score.get(k, 0.0) for k in cited), default=0.0)
    said = by_unit(set().union(*(quantities(c.quote) for c in checked.citations)))
    docs = {hits[n - 1].chunk.doc_id for n, _ in cited}
    out = []
    for (n, span), sc in sorted(score.items(), key=lambda kv: -kv[1]):
        if n > len(hits) or hits[n - 1].chunk.doc_id in docs or sc < best - CONFLICT_MARGIN:
            continue
        chunk = hits[n - 1].chunk
        figures = by_unit(quantities(chunk.text[span[0]:span[1]]))
        if any(said[u].isdisjoint(values) for u, values in figures.items() if u in said):
            out.append((n, span))
            docs.add(chunk.doc_id)
    return out


def unnamed_in(claim: str, chunks: list[Chunk], question: str = "") -> list[str]:
    """The names the claim states (besides the question's) that none of the chunks mentions, in its text,
    title, publisher or recorded speakers: a name the passages never give is the model's, as a number is.
    A person's surname is enough ('Neil Armstrong' ~ 'Armstrong said').

    ('Xi met Putin in Japan.', [chunk 'Xi met Putin in Moscow.']) -> ['Japan']
    """
    bare = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", claim)  # a list item's bullet does not open the sentence
    return not_given([n for n in names(bare, opening=False) if not mentions(question, n)], chunks)


def not_given(wanted: list[str], chunks: list[Chunk]) -> list[str]:
    """The names none of the chunks (text, title, publisher, recorded speakers) mentions, nor a person's surname."""
    if not wanted:
        return []
    text = "\n".join(f"{c.title}\n{c.publisher}\n{c.text}\n{' '.join(c.speakers)}" for c in chunks)
    words = set(tokenize(text))
    return [n for n in wanted if not mentions(text, n) and not (len(tokenize(n)) > 1 and tokenize(n)[-1] in words)]


def _complement(claim: str, hits: list[Hit], quotes: dict[int, tuple[int, int]],
                on_subject: Callable[[Chunk], bool] = lambda chunk: True) -> dict[int, tuple[int, int]]:
    """Other passages (`on_subject`) whose best sentence holds most of the claim words the cited sentences lack.

    claim 'Kirby said ties are burgeoning and the U.S. is revitalizing alliances', cited [3] (alliances)
    -> {1: span of the 'burgeoning' sentence in passage 1}
    """
    covered = set()
    for n, (s, e) in quotes.items():
        covered.update(content(hits[n - 1].chunk.text[s:e]))
    missing = content(claim) - covered
    added: dict[int, tuple[int, int]] = {}
    for n in range(1, len(hits) + 1):
        if n in quotes or len(missing) < MIN_COMPLEMENT or not on_subject(hits[n - 1].chunk):
            continue
        text = hits[n - 1].chunk.text
        for s, e in split_sentences(text):
            found = missing & content(text[s:e])
            if len(found) >= MIN_COMPLEMENT and len(found) >= 0.5 * len(missing):
                added[n] = (s, e)
                missing -= found
                break
    return added


def glued(claim: str, question: str, hits: list[Hit], quotes: dict[int, tuple[int, int]]) -> bool:
    """The claim gives what one sentence says (a figure asked for, or a name the question does not hold) in what
    another article says of something else: the words of the question it repeats are missing from that sentence
    (MIN_COMPLEMENT or more of them) and a sentence of another article holds them. ('How many hours before the
    games did they meet?', 'They met for four hours before the games kicked off [1][2].', [1] 'They met for four
    hours on Monday.', [2] of another article 'They met hours before the games kicked off.') -> True: two meetings
    made one. Within one article the next sentence goes on about the same event ('It added that Xi noted ...'):
    never a weld. A question's words are free in a claim (`overlap`), so only this reads whether the answer
    belongs to them."""
    figures = numbers(claim) - numbers(question) if asks_figure(question) else set()
    new = [x for x in names(claim, opening=False) if not mentions(question, x)]
    if not figures and not new:
        return False

    def gives(text: str) -> bool:
        return bool(figures & numbers(text)) or any(mentions(text, x) for x in new)

    at = [(n, s, e) for n, (s, e) in quotes.items() if gives(hits[n - 1].chunk.text[s:e])]
    if not at:
        return False
    n, s, e = at[0]
    wanted = (_stems(claim) & _stems(question)) - _stems(hits[n - 1].chunk.text[s:e])
    if len(wanted) < MIN_COMPLEMENT:
        return False
    home = hits[n - 1].chunk.doc_id

    def holds(text: str) -> bool:
        return len(wanted & _stems(text)) >= max(MIN_COMPLEMENT, 0.5 * len(wanted))

    sentences = [(h.chunk.doc_id, h.chunk.text[a:b]) for h in hits for a, b in split_sentences(h.chunk.text)]
    if any(doc == home and holds(text) for doc, text in sentences):
        return False  # the answer's own article says it of the same event
    # another article's sentence that gives the answer too corroborates it (the same news from two outlets)
    return any(doc != home and holds(text) and not gives(text) for doc, text in sentences)


def _stems(text: str) -> set[str]:
    return {stem(w) for w in content(text)}


def _with_markers(claim: str, ns: list[int]) -> str:
    """('Kirby spoke.', [2, 1]) -> 'Kirby spoke [2][1].'"""
    claim = re.sub(r"\s+([.,;:!?])", r"\1", claim)
    if not ns:
        return claim
    marks = "".join(f"[{n}]" for n in ns)
    if claim[-1:] in ".!?":
        return f"{claim[:-1]} {marks}{claim[-1]}"
    return f"{claim} {marks}"
