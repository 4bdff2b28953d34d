"""Who said what: 'What did X say (about Y)?' answered with every statement the articles attribute to X,
and 'Who said "..."?' with the speaker the articles give for those words.

The chunker records the speaker of each sentence (`Chunk.said`), so X's statements are gathered from
all articles, not only from the few passages a search returns, and each is quoted verbatim with its
citation: nothing is paraphrased, so nothing can be misquoted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .chunk import ANY_VERB, LISTENER, NAME_APPOSITION_VERB, attributed_name
from .terms import content, fold, mentions, person, share, tokenize, unnamed
from .types import Chunk, Hit

_ASK = re.compile(
    r"^\s*(?:and\s+|so\s+)?(?:what\s+(?P<else>else\s+)?(?:did|does|do|has|have|had)\s+(?P<who>.+?)\s+"
    r"(?:else\s+)?(?P<verb>say|said|tell|told|state|comment|remark)(?:\s+(?:to\s+)?(?:him|her|them|reporters|journalists))?"
    r"|(?:did|does|has|have)\s+(?P<who2>.+?)\s+(?:say|said|mention|mentioned)\s+anything"
    r"|(?:what|how)\s+(?:is|was|were|are)\s+(?P<who3>.+?)\s+quoted(?:\s+as\s+saying)?)"
    r"(?:\s+(?:about|on|regarding|concerning|of)\s+(?P<topic>.+?)|\s+(?:that\s+)?(?P<clause>[^()]+?))?"
    r"\s*(?:\([^)]*\))?\s*[?.!]*\s*$",
    re.I,
)
# whom 'What did X tell Y (about Z)?' or 'say to Y' names, before what it asks about
_PRONOUNS = ("him", "her", "them", "reporters", "journalists")
_TOLD_WHOM = re.compile(r"^(?:to\s+)?(?P<to>\w+|(?:the\s+)?[A-Z][\w’'.-]*"
                       r"(?:\s+[A-Z][\w’'.-]*){0,3})(?:\s+(?:about|on|regarding|concerning)\s+(?P<topic>.+))?$")
# 0.35: the best statement's relevance to the topic of "about Y" (cosine of Y and the sentence, or the
# share of Y's words in it). Dev split: answerable "about" questions 0.41-0.62, near misses 0.08-0.27.
MIN_RELEVANCE = 0.35
MAX_STATEMENTS = 6  # a longer list stops being an answer
# 'Who said the U.S. "is in no position to point fingers"?', 'Who called Xi "a dear friend"?'
_WHO_QUOTED = re.compile(r"^\s*who\b(?=.*[“\"”]\s*(?P<quote>[^“\"”]+?)\s*[”\"“])", re.I | re.S)
# single quotes, told from apostrophes by what stands around them: "Who said 'dear friends'?"
_WHO_SINGLE_QUOTED = re.compile(r"^\s*who\b(?=.*(?:^|\s)[‘'](?P<quote>[^‘’']+?)[’'](?=[\s?.!,;:]|$))", re.I | re.S)
MIN_QUOTE_WORDS = 2
# 'Who said China and Russia support each other?', 'Which officials said that ...?': what was said, unquoted
_WHO_SAID = re.compile(
    r"^\s*(?:who|which\s+[^?“”\"]{1,60}?)\s+(?:has\s+|have\s+|had\s+)?"
    r"(?:said|says|stated|argued|warned|claimed|noted|declared|asserted|insisted)\s+(?:that\s+)?"
    r"(?P<clause>[^“”\"?]{8,}?)\s*[?.!]*\s*$",
    re.I,
)
MIN_SAID_SHARE = 0.5  # of the clause's words besides names a statement must hold: the same thing said
MIN_SAID_WORDS = 2  # fewer words besides names than this: the model reads the passages instead


@dataclass(frozen=True)
class Request:
    """'What else did Kirby say about Putin?' -> Request(who='Kirby', topic='Putin', more=True)"""

    who: str
    topic: str = ""
    more: bool = False  # "what else": leave out what the chat already quoted
    clause: bool = False  # the topic is what X said, not what X spoke about: 'What did X say Y share?'


@dataclass(frozen=True)
class Statement:
    chunk: Chunk
    start: int  # span of the sentence in chunk.text
    end: int
    speaker: str
    relevance: float = 1.0

    @property
    def text(self) -> str:
        return self.chunk.text[self.start:self.end]


def parse(question: str) -> Request | None:
    """('What did John Kirby say about Xi?') -> Request('John Kirby', 'Xi'); ('Who is Kirby?') -> None;
    ('What did Glaser say Xi and Putin share?') -> Request('Glaser', 'Xi and Putin share', clause=True)"""
    m = _ASK.match(question)
    if not m:
        return None
    who = (m.group("who") or m.group("who2") or m.group("who3") or "").strip()
    who = re.sub(r"^(?:the|a|an)\s+", "", who, flags=re.I)
    if not who or not who[0].isupper() or len(who.split()) > 5:
        return None  # 'what did they say', 'what did the report say': not one named speaker
    clause = (m.group("clause") or "").strip()
    told = (m.group("verb") or "").lower() in ("tell", "told") or clause.lower().startswith("to ")
    heard = _TOLD_WHOM.match(clause) if told else None
    topic = (m.group("topic") or "").strip()
    if heard:  # 'tell Putin about Ukraine' -> about Ukraine; 'say to Mishustin' -> what bears on Mishustin
        topic = (heard.group("topic") or "").strip()
        clause = "" if topic or heard.group("to").lower() in _PRONOUNS else heard.group("to")
    return Request(who=who, topic=topic or clause, more=bool(m.group("else")), clause=bool(clause))


def quoted_words(question: str) -> str:
    """The words a 'Who said "..."?' question quotes, or '':
    'Who said Putin sees Xi as “a lifeline of sorts”?' -> 'a lifeline of sorts'; 'Who is Kirby?' -> ''"""
    m = _WHO_QUOTED.match(question) or _WHO_SINGLE_QUOTED.match(question)
    quote = m.group("quote").strip(" ,.?!") if m else ""
    return quote if len(quote.split()) >= MIN_QUOTE_WORDS else ""


def said_clause(question: str) -> str:
    """What a 'Who said ...?' question says was said, when it is not quoted, or '':
    'Which officials said China and Russia support each other?' -> 'China and Russia support each other';
    'Who said “a lifeline”?' -> '' (quoted: `quoted_words`); 'Who is Kirby?' -> ''"""
    m = _WHO_SAID.match(question)
    return m.group("clause").strip() if m else ""


def saying(clause: str, candidates: Sequence[Chunk], embed: Callable[[list[str]], np.ndarray],
           agrees: Callable[[str, str], bool]) -> list[Statement]:
    """The statements of `candidates` (sentences with a recorded speaker) that say what `clause` says, most
    relevant first (cosine plus half the share of words): each holds at least MIN_SAID_SHARE of the
    clause's words besides its names (a quote says 'both sides' for the countries it speaks of) and
    `agrees` with it (numbers, negation). Repeated sentences once."""
    words = unnamed(clause) or content(clause)
    if len(words) < MIN_SAID_WORDS:  # 'Which leader said he would visit?': one word says too little to match
        return []
    found = [(s, share(words, s.text)) for s in once(said_in(candidates))]
    found = [(s, held) for s, held in found if held >= MIN_SAID_SHARE and agrees(clause, s.text)]
    if not found:
        return []
    vectors = embed([clause] + [s.text for s, _ in found])
    scored = [Statement(s.chunk, s.start, s.end, s.speaker, round(float(cos) + 0.5 * held, 4))
              for (s, held), cos in zip(found, vectors[1:] @ vectors[0])]
    return sorted(scored, key=lambda s: -s.relevance)


def _fold(text: str) -> str:
    """`terms.fold` without quote marks and with one space: words quoted in a question match the article."""
    return " ".join(re.sub(r"[“”„\"]", "", fold(text)).split())


def said_in(candidates: Sequence[Chunk]) -> Iterator[Statement]:
    """Every sentence of `candidates` whose speaker the chunker recorded, as a Statement."""
    for chunk in candidates:
        for start, end, speaker in chunk.said:
            yield Statement(chunk, start, end, speaker)


def once(found: Iterable[Statement]) -> list[Statement]:
    """Each sentence once, the first of its copies kept (chunks overlap, articles are syndicated): two
    sentences with the same content words are the same sentence."""
    out, seen = [], set()
    for s in found:
        key = " ".join(sorted(content(s.text)))
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def in_article_order(found: list[Statement]) -> list[Statement]:
    return sorted(found, key=lambda s: (s.chunk.doc_id, s.chunk.start + s.start))


def quoted_by(quote: str, candidates: Sequence[Chunk]) -> list[Statement]:
    """The sentences holding `quote` (any quote marks, case and spacing) whose speaker the chunker
    recorded, each once; a sentence with the words but no named speaker is left out (the model answers)."""
    want = _fold(quote)
    return in_article_order(once(s for s in said_in(candidates) if want in _fold(s.text)))


def same_person(asked: str, speaker: str) -> bool:
    """Every word of the asked name is in the speaker's name: ('Kirby', 'John Kirby') -> True;
    ('John Kirby', 'Kirby') -> True (the article named him once by surname); ('Xi', 'Ximena Li') -> False"""
    a = set(re.findall(r"[a-z]+", asked.lower()))
    s = set(re.findall(r"[a-z]+", speaker.lower()))
    return bool(a and s) and (a <= s or s <= a)


_QUOTED = re.compile(r"[“\"][^”\"]*[”\"]")


def claimed_speaker(claim: str) -> str:
    """Who an answer sentence says spoke, '' if it names nobody speaking:
    'Li Qiang told Mishustin that ties were good.' -> 'Li Qiang';
    'Bonnie Glaser, a fellow at a think tank, said they share interests.' -> 'Bonnie Glaser';
    'Ties were good, the Kremlin said.' -> ''; 'Ties were good.' -> ''"""
    bare = _QUOTED.sub(" … ", claim)  # quoted words are what was said, not who said it
    if name := attributed_name(bare):
        return name
    m = NAME_APPOSITION_VERB.match(bare)
    return person(m.group(1)) if m else ""


def misattributed(who: str, sentence: str, speaker: str = "", passage: str = "") -> bool:
    """A claim says `who` spoke (its `claimed_speaker`), and the sentence does not: its recorded `speaker`
    is someone else, nobody speaks in it, or `who` is in it only as the one spoken to. A sentence whose
    speaker goes unnamed ('the Russian leader told ...') may be theirs when its `passage` names them.

    ('Li Qiang', 'Mishustin told Premier Li Qiang ties were good.', 'Mishustin') -> True;
    ('Glaser', 'Blinken said the plan stalls.', 'Blinken') -> True;
    ('Glaser', '“They share interests,” said Bonnie Glaser.', 'Bonnie Glaser') -> False; ('', ...) -> False
    """
    if not who or (speaker and same_person(who, speaker)):
        return False
    if not mentions(sentence, who):
        return bool(speaker) or not ANY_VERB.search(sentence) or not mentions(passage, who)
    return spoken_to(sentence, who)


def spoken_to(sentence: str, who: str) -> bool:
    """Every place the sentence spells `who`'s surname shows them spoken to, none speaking:
    ('Xi told Prime Minister Mikhail Mishustin that ...', 'Mishustin') -> True; ('Mishustin told Li', 'Mishustin') -> False"""
    surname = re.escape(who.split()[-1])
    places = [m.start() for m in re.finditer(rf"\b{surname}\b", sentence)]
    return bool(places) and all(LISTENER.search(_before_name(sentence, i, who)) for i in places)


def inverted(claim: str, asked: str) -> bool:
    """'What did Mishustin tell him?' answered by what was told to Mishustin: the claim has another speaker
    and names the asked one only as spoken to. ('Xi told Mikhail Mishustin that ties are good.',
    'Mishustin') -> True; ('Mishustin told Li Qiang that ties are good.', 'Mishustin') -> False"""
    who = claimed_speaker(claim)
    return bool(who) and not same_person(asked, who) and mentions(claim, asked) and spoken_to(claim, asked)


def _before_name(sentence: str, surname_at: int, who: str) -> str:
    """The sentence up to the full name whose surname starts at `surname_at` ('told Premier Li Qiang' -> 'told Premier ')."""
    head = sentence[:surname_at]
    for first in who.split()[:-1][::-1]:
        if head.rstrip().endswith(first):
            head = head.rstrip()[:-len(first)]
    return head if head.endswith(" ") or not head else head + " "


def statements(request: Request, candidates: Sequence[Chunk]) -> list[Statement]:
    """Sentences attributed to the asked speaker in `candidates`, each once (chunks overlap, articles are
    syndicated), in article order."""
    return in_article_order(once(s for s in said_in(candidates) if same_person(request.who, s.speaker)))


def relevant(topic: str, found: list[Statement], embed: Callable[[list[str]], np.ndarray],
             clause: bool = False) -> list[Statement]:
    """The statements about `topic`, most relevant first: cosine of topic and sentence, or the share of
    the topic's words (aliases included) in the sentence, whichever is higher. For a `clause` ('Xi and
    Putin share'), the words besides its names: a quote says 'they' for the people it speaks of."""
    if not found:
        return []
    vectors = embed([topic] + [s.text for s in found])
    cosines = vectors[1:] @ vectors[0]
    words = content(topic)
    if clause:
        words = unnamed(topic) or words
    out = []
    for s, cos in zip(found, cosines):
        lexical = sum(1 for w in words if mentions(s.text, w)) / len(words) if words else 0.0
        score = max(float(cos), lexical)
        if score >= MIN_RELEVANCE:
            out.append(Statement(s.chunk, s.start, s.end, s.speaker, round(score, 4)))
    return sorted(out, key=lambda s: -s.relevance)


def already_quoted(found: list[Statement], history: Sequence[dict] | None) -> list[Statement]:
    """Drop statements an earlier assistant turn of the chat already quoted ('What else did he say?')."""
    said_before = " ".join(" ".join(tokenize(m.get("content") or "")) for m in history or []
                           if m.get("role") == "assistant")
    return [s for s in found if " ".join(tokenize(s.text)) not in said_before]


def compose(found: list[Statement]) -> tuple[str, list[Hit]]:
    """A list of verbatim quotes, one line each, each cited: ('- John Kirby: “...” he said [1].', hits);
    a statement with no speaker is the quote alone ('- “...” [1].').

    Passages are numbered in order of first use; two statements from one chunk share its number."""
    hits: list[Hit] = []
    number: dict[str, int] = {}
    lines = []
    for s in found[:MAX_STATEMENTS]:
        if s.chunk.id not in number:
            hits.append(Hit(chunk=s.chunk, score=s.relevance, similarity=s.relevance))
            number[s.chunk.id] = len(hits)
        sentence = s.text.rstrip()
        end = sentence[-1] if sentence[-1:] in ".!?" else ""
        body = sentence[:-1] if end else sentence
        lines.append(f"- {s.speaker + ': ' if s.speaker else ''}{body} [{number[s.chunk.id]}]{end or '.'}")
    return "\n".join(lines), hits
