"""Document -> Chunks of whole sentences with overlap; each sentence tagged with who is quoted in it."""
from __future__ import annotations

import re

from .terms import NOT_NAME_WORDS, PERSON_NAME, ROLE_WORDS, is_role, person, title_end
from .types import Chunk, Document

# Words before a period that do not end a sentence: "Mr. Xi", "U.S. officials", "No. 2", initials "John F. Kennedy".
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Gen|Sen|Rep|Gov|Lt|Col|Capt|Sgt|Inc|Corp|Co|Ltd|No|vs|etc|Jan|Feb|Mar|Apr|"
    r"Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|a\.m|p\.m|e\.g|i\.e)|\b[A-Z]|(?:\b[A-Z]\.)+[A-Z])\.$"
)
# A boundary: end punctuation, optional closing quotes/brackets, whitespace, then an opening quote or capital/digit.
_BOUNDARY = re.compile(r"[.!?…]+[\"”’)\]]*(?=\s+[\"“‘(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans, never crossing a line break; whitespace between sentences belongs to none.

    'Xi met Putin. He said “yes.” Mr. Li left.' -> [(0, 13), (14, 28), (29, 41)]
    """
    spans = []
    for para in re.finditer(r"[^\n]+", text):
        start = para.start()
        for m in _BOUNDARY.finditer(para.group()):
            end = para.start() + m.end()
            piece = text[start:end]
            if _ABBREV.search(piece) and not piece.endswith(("”", '"', "’")):
                continue
            if _inside_quote(piece) and len(piece) < 800:  # keep a multi-sentence quote with its attribution
                continue
            spans.append(_strip(text, start, end))
            start = end
        if text[start:para.end()].strip():
            spans.append(_strip(text, start, para.end()))
    return spans


def _inside_quote(piece: str) -> bool:
    """'“It grew. It' -> True: an opened quotation has not been closed yet."""
    return piece.count("“") > piece.count("”") or piece.count('"') % 2 == 1


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


_NAME = PERSON_NAME
_VERB = (r"(?:said|says|told|explained|added|noted|argued|warned|stressed|countered|urged|called|wrote|asked|replied|"
         r"stated|asserted|insisted|claimed|declared|announced|reiterated|vowed|pledged|quipped|"
         r"acknowledged|admitted|emphasi[sz]ed|predicted|predicts|tweeted|testified|reaffirmed|reasserted|outlined|echoed)")
# 'Kirby also said', 'Mishustin on Tuesday told': an adverb or a day may stand between; 'Russian officials said',
# 'for Android developers called': any other word (a role, a noun) means the capitalised words name nobody speaking
_BETWEEN = (r"(?:(?:also|then|later|again|once|often|earlier|previously|recently|repeatedly|has|have|had|"
            r"[a-z]+ly)\s+|(?:on|last|this)\s+(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\s+)")
# 'Putin “outlined his assessments,” the Kremlin said': the quoted words may open at the verb
_NAME_THEN_VERB = re.compile(rf"(?<![\w.’'-])({_NAME})\s+[“\"]?{_BETWEEN}{{0,2}}{_VERB}\b")
# "said Brian Hart" names the speaker; "told NBC News" names the listener, so `told` is not here.
# 'said China is willing': a name followed by its own verb is what was said, not who said it
_VERB_THEN_NAME = re.compile(rf"\b(?:said|says|added|explained|wrote|asked|replied|quipped)\s+({_NAME})\b"
                             r"(?!\s+(?:is|was|are|were|has|had|have|will|would|could|should|can|may|might|did|does|do)\b)")
# 'According to Parrington, fires ...': a person's words, when the name is one the article gave a person
_ACCORDING_TO = re.compile(rf"\b[Aa]ccording to ({_NAME})")
# "told China’s Premier Li Qiang": the name after it is the one spoken to
LISTENER = re.compile(rf"\b(?:told|urged|asked|(?<!according )to)\s+(?:the\s+)?(?:[A-Z][\w’'.-]*\s+){{0,4}}$")
ANY_VERB = re.compile(rf"\b{_VERB}\b")
# 'Bonnie Glaser, a fellow at a think tank, said ...': the name that opens a sentence, then an apposition
NAME_APPOSITION_VERB = re.compile(rf"^[\s\-*•]*({_NAME}),[^“\"”]*,\s+(?:\w+\s+)?{_VERB}\b")
_QUOTED = re.compile(r"[“\"][^”\"]*[”\"]")  # quoted words are what was said, not who said it
# 'One of the bill's authors, Republican Sen. Scott Beason, said ...': the name set off by commas before the verb
_APPOSED_NAME_VERB = re.compile(rf",\s+(?:[A-Z][\w’'-]*\.?\s+){{0,3}}?({_NAME}),\s+(?:\w+\s+)?{_VERB}\b")
_PRONOUN_VERB = re.compile(rf"(?:^|\b)(?:he|she)\s+(?:\w+\s+)?{_VERB}\b", re.I)
# 'The Russian leader, who is sanctioned by the US, told ...': a title standing for a person the article named
# with that title before (an epithet). General English titles; 'leader' stands for any head of state or government.
_EPITHET = re.compile(rf"(?<![\w’'])[Tt]he\s+(?:([A-Z][a-z]+)\s+)?(leader|president|prime minister|premier|chancellor|"
                      rf"king|queen|pope|governor|mayor|senator|foreign minister|minister|secretary|ambassador|envoy|"
                      rf"spokesman|spokeswoman|spokesperson)(?:,[^,“”\"]*,)?\s+{_BETWEEN}{{0,2}}{_VERB}\b")
_HEADS = frozenset("leader president premier chancellor king queen".split())
# 'Both Xi and Putin pushed back ... They stated their opposition': 'they' are the two named before
_THEY_VERB = re.compile(rf"^They\s+{_BETWEEN}{{0,2}}{_VERB}\b")
_PAIR = re.compile(rf"^(?:Both\s+)?({_NAME})\s+and\s+({_NAME})\b")


def speakers(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """Who is quoted in each sentence ('' if nobody): names, 'he said' resolved to the last named speaker,
    quote-only sentences inheriting the speaker of the sentence before them, an epithet ('the Russian leader
    told') resolved to the one person the article titled so before, and 'They said' after 'Both A and B ...'
    given to both ('A and B').

    ['“Yes,” John Kirby told reporters.', '“No.”', 'Prices rose.'] -> ['John Kirby', 'John Kirby', '']
    """
    out: list[str] = []
    full_names: list[str] = []
    titled: dict[str, set[str]] = {}  # a person the article named with a title -> the title's words
    bound: dict[tuple[str, str], str] = {}  # an epithet ('russian', 'leader') -> the person it stood for
    last = ""
    for i, (start, end) in enumerate(spans):
        s = text[start:end]
        name = "" if _PRONOUN_VERB.match(s) else attributed_name(s) or _according_to(s, full_names + [
            _named_before(person(m.group(1)), text[:start]) for m in _ACCORDING_TO.finditer(s)])
        if name:
            name = _full_name(name, full_names)
            if " " in name and name not in full_names:
                full_names.append(name)
            last = name
        elif name := _epithet(_QUOTED.sub(" … ", s), titled, bound, last):
            last = name
        elif name := _they(text, spans, i, full_names):
            last = ""  # a later 'he said' is one of the two: nobody can say which
        elif _PRONOUN_VERB.search(s) and last:
            name = last
        elif ANY_VERB.search(s) and not s.startswith(("“", '"')):
            last = ""  # "the Russian leader told ...": someone unnamed speaks; a later "he said" is not `last`
        elif s.startswith(("“", '"')) and out and out[-1]:
            name = out[-1]
        out.append(name)
        for who, words in _titled(s):
            titled.setdefault(_full_name(who, full_names), set()).update(words)
    return out


def _titled(sentence: str) -> list[tuple[str, list[str]]]:
    """The people a sentence names with a title, and the title's words: 'told China’s Premier Li Qiang' ->
    [('Li Qiang', ['china’s', 'premier'])]"""
    out, run = [], []
    for m in re.finditer(r"[\w’'.-]+|[^\w\s]", sentence + " ."):
        word = m.group()
        if len(word) > 2 and word.endswith(".") and "." not in word[:-1]:  # 'Berg.' ends a sentence; 'U.S.' stays
            word = word[:-1]
        if word[:1].isupper() or is_role(word):
            run.append(word)
            continue
        end = title_end(run)
        if 0 < end < len(run) and (who := person(" ".join(run))):
            out.append((who, [w.lower().rstrip(".") for w in run[:end] if w.lower() not in NOT_NAME_WORDS]))
        run = []
    return out


def _epithet(sentence: str, titled: dict[str, set[str]], bound: dict[tuple[str, str], str], last: str) -> str:
    """The person an epithet that speaks stands for: the one it stood for before in the article, else the
    last speaker or the only person titled so (any head of state or government for 'leader') whose title
    names no other place, whom no other epithet took, and whom the sentence does not name otherwise
    ('The Russian leader echoed Xi’s sentiments' is not Xi). '' when nobody or several fit."""
    m = _EPITHET.search(sentence)
    if not m:
        return ""
    place, role = (m.group(1) or "").lower(), m.group(2)
    if (place, role) in bound:
        return bound[(place, role)]
    named = {w.lower() for w in re.findall(r"[A-Z]\w+", sentence)}
    taken = {who for (p, _), who in bound.items() if p != place}
    fits = []
    for who, words in titled.items():
        roles = {w for w in words if w in ROLE_WORDS}
        places = [w for w in words if w not in ROLE_WORDS]
        if who in taken or named & set(who.lower().split()):
            continue
        if not (roles & _HEADS or {"prime", "minister"} <= roles if role == "leader" else set(role.split()) <= roles):
            continue
        if place and places and not any(w[:4] == place[:4] for w in places):  # 'China’s Premier' is no Russian
            continue
        fits.append(who)
    name = next((w for w in fits if last and (w == last or w.endswith(" " + last))), fits[0] if len(fits) == 1 else "")
    if name:
        bound[(place, role)] = name
    return name


def _they(text: str, spans: list[tuple[int, int]], i: int, full_names: list[str]) -> str:
    """'Both Xi and Putin pushed back. They stated their opposition.' -> 'Xi Jinping and Vladimir Putin' for
    the second sentence (full names when the article gave them); '' when the sentence before, in the same
    paragraph, does not open with two names."""
    if i == 0 or not _THEY_VERB.match(text[spans[i][0]:spans[i][1]]) or "\n" in text[spans[i - 1][1]:spans[i][0]]:
        return ""
    m = _PAIR.match(text[spans[i - 1][0]:spans[i - 1][1]])
    pair = [person(m.group(1)), person(m.group(2))] if m else []
    return " and ".join(_full_name(p, full_names) for p in pair) if pair and all(pair) else ""


def attributed_name(sentence: str) -> str:
    """The person a sentence quotes, titles left off: '“Yes,” Coordinator John Kirby told reporters.' -> 'John Kirby';
    'Jo Grady, the UCU general secretary, said students would be shocked.' -> 'Jo Grady'"""
    for pattern in (_NAME_THEN_VERB, _VERB_THEN_NAME):
        for m in pattern.finditer(sentence):
            if name := person(m.group(1)):
                return name
    bare = _QUOTED.sub(lambda q: " …," if q.group()[:-1].endswith(",") else " … ", sentence)  # '“Title,” said'
    m = NAME_APPOSITION_VERB.match(bare) or _APPOSED_NAME_VERB.search(bare)
    return person(m.group(1)) if m else ""


def _according_to(sentence: str, known: list[str]) -> str:
    """'According to Parrington, fires ...' -> 'Mark Parrington' when the article named him in full before;
    a name it never gave a person ('according to Russian state media TASS') names a source, not a speaker."""
    m = _ACCORDING_TO.search(sentence)
    name = person(m.group(1)) if m else ""
    full = _full_name(name, known) if name else ""
    return full if full in known else ""


def _named_before(name: str, text: str) -> str:
    """'Parrington' -> 'Mark Parrington' when the text before names him with a first name; '' otherwise."""
    m = re.search(rf"\b([A-Z][\w’'-]+ {re.escape(name)})\b", text) if name and " " not in name else None
    return person(m.group(1)) if m else ""


def _full_name(name: str, known: list[str]) -> str:
    """'Kirby' -> 'John Kirby' when that full name was seen earlier in the article."""
    for full in known:
        if name != full and (full.endswith(" " + name) or full.startswith(name + " ")):
            return full
    return name


def chunk_document(doc: Document, max_chars: int = 420, overlap: int = 1) -> list[Chunk]:
    """Greedy packing of whole sentences up to `max_chars` (a longer sentence stands alone), each chunk
    starting `overlap` sentences before the previous one ended.

    8 sentences of 100 chars, max_chars=420, overlap=1 -> sentences [0-3], [3-6], [6-7]
    """
    spans = split_sentences(doc.text)
    who = speakers(doc.text, spans)
    chunks: list[Chunk] = []
    i = 0
    while i < len(spans):
        j = i + 1
        while j < len(spans) and spans[j][1] - spans[i][0] <= max_chars:
            j += 1
        start, end = spans[i][0], spans[j - 1][1]
        names = tuple(dict.fromkeys(one for w in who[i:j] if w for one in w.split(" and ")))
        said = tuple((s - start, e - start, one) for (s, e), w in zip(spans[i:j], who[i:j]) if w
                     for one in w.split(" and "))  # 'Xi Jinping and Vladimir Putin': a sentence for each
        chunks.append(Chunk(
            id=f"{doc.doc_id}:{len(chunks)}", doc_id=doc.doc_id, title=doc.title, text=doc.text[start:end],
            start=start, end=end, publisher=doc.publisher, date=doc.date, speakers=names, said=said,
        ))
        if j >= len(spans):
            break
        nxt = max(j - overlap, i + 1)
        if spans[j][1] - spans[nxt][0] > max_chars:  # overlap + next sentence won't fit: the overlap
            nxt = j  # would make a chunk wholly inside this one, so start fresh instead
        i = nxt
    return chunks


def chunk_sentences(chunk: Chunk) -> list[tuple[int, int]]:
    """Sentence spans relative to chunk.text (used to pick exact quotes)."""
    return split_sentences(chunk.text)
