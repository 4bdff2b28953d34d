"""What a question pins down (names, numbers, dates) and whether a text mentions them, aliases included.

A name is matched through its spelling variants without any list tuned to one corpus: initials
('SCO' ~ 'Shanghai Cooperation Organization', 'United States' ~ 'U.S.'), a part of a full name
('Xi' ~ 'Xi Jinping'), and a handful of general English aliases every news corpus shares (ALIASES).
"""
from __future__ import annotations

import os
import re
from functools import lru_cache

from rapidfuzz.distance import Levenshtein


# ---- words: the one stop list, tokenizer and stemmer (BM25, support checks and questions all read these) ----
STOP_WORDS = frozenset(
    "a an and are as at be been but by did do does for from had has have he her him his how i in into is it its "
    "me my of on or our she so than that the their them then there these they this to was we were what when "
    "where which who whom why will with would you your about after also any can could more most other over "
    "said say says should some such tell told up".split()
)


def tokenize(text: str) -> list[str]:
    """'What did Kirby say about China’s exports?' -> ['kirby', 'china', 'export']"""
    out = []
    text = re.sub(r"\b(?:[a-z]\.){2,}", lambda m: m.group().replace(".", ""), text.lower())  # 'u.s.' -> 'us'
    for word in re.findall(r"[a-z0-9]+", text.replace("’", "'")):
        if len(word) < 2 or word in STOP_WORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]  # plural-insensitive without a stemmer dependency
        out.append(word)
    return out


def stem(word: str) -> str:
    """Enough stemming to see a restated question: 'called' ~ 'call', 'meeting' ~ 'meet'."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[:-len(suffix)]
    return word


def inflected_in(word: str, words: set[str]) -> bool:
    """The word, or an inflection of it, among `words` (tokens): ('call', {'calling'}) -> True"""
    return word in words or any(word + end in words for end in ("ing", "ed", "d", "es"))


# ---- question forms: what a question asks for, and the words that refer back to an earlier one ----
PERSON_PRONOUNS = ("he", "she", "him", "her", "his", "hers")
GROUP_PRONOUNS = ("they", "them", "their", "theirs")
THING_PRONOUNS = ("it", "its")
# a follow-up that says 'else' or 'also' asks more of what was asked before
REFERS_BACK = re.compile(r"\b(" + "|".join(PERSON_PRONOUNS + GROUP_PRONOUNS + ("else", "also", "too", "more", "other",
                                                                               "same")) + r")\b", re.I)
# a part of a question that says 'he' or 'it' asks of what an earlier part named
POINTS_BACK = re.compile(r"\b(?:" + "|".join(PERSON_PRONOUNS + GROUP_PRONOUNS + THING_PRONOUNS) + r")\b", re.I)
# 'how many', 'how much' and 'how old' ask for a figure; 'how long' for a figure or a unit of time; these and the
# others here ask for a quantity whose figures other articles may give differently
ASKS_COUNT = re.compile(r"\bhow\s+(?:many|much|old)\b", re.I)
ASKS_LENGTH = re.compile(r"\bhow\s+long\b", re.I)
ASKS_QUANTITY = re.compile(r"\bhow (?:long|many|much|often|far|old|big|large|high)\b|\bwhat (?:number|percentage|"
                           r"amount|share|proportion)\b|\bwhen\b", re.I)
TIME_UNIT = re.compile(r"\b(?:second|minute|hour|day|week|fortnight|month|year|decade|centur(?:y|ies))s?\b", re.I)

# Capitalised words that open a question or sentence without naming anything: the one list both name
# extractors (`names`, `subjects`) strip.
FUNCTION_WORDS = frozenset(
    "what who whom whose which when where why how did does do is are was were will would can could should has have "
    "had the a an in on at of for to and or but if tell according give list name describe explain summarize "
    "summarise compare according besides apart also i".split()
)
# Roles and titles, and the groups that speak without being named: 'Prime Minister Keir Starmer' is Keir
# Starmer, 'Kremlin spokesman Dmitry Peskov' is Dmitry Peskov, 'Russian officials said' names nobody. General
# English, the same for any corpus: whatever place or nationality stands before a role goes with it.
ROLE_WORDS = frozenset(
    "president vice prime minister ministry secretary state former national security council premier foreign "
    "chairman chairwoman chair director general senator sen representative rep governor mayor chancellor king "
    "queen prince princess pope judge justice attorney ambassador envoy diplomat diplomats spokesperson spokesman "
    "spokeswoman coordinator adviser advisor deputy chief commander admiral colonel gen captain lieutenant "
    "officer officers leader leaders official officials analyst analysts expert experts critic critics "
    "lawmaker lawmakers sources professor prof dr researchers legislators scientists investigators prosecutors "
    "authorities residents witnesses protesters".split()
)
_WEEKDAYS = tuple("monday tuesday wednesday thursday friday saturday sunday".split())
# Capitalised words that stand in a name phrase and name nobody: 'Then Xi said', 'Both leaders said', 'Monday'.
NOT_NAME_WORDS = FUNCTION_WORDS | frozenset(_WEEKDAYS) | frozenset(
    "he she him her his hers they them their theirs it its we you your our my this that these those another one "
    "some many both two several all each every then later as but".split()
)

# ---- names: capitalised words, the function words that open a question removed ----
# A person's name as it stands before 'said' (rag.chunk's speech patterns): up to four capitalised words or initials
PERSON_NAME = r"(?:[A-Z][\w’'-]+|[A-Z]\.)(?:\s+(?:[A-Z][\w’'-]+|[A-Z]\.)){0,3}"


def is_role(word: str) -> bool:
    """'President', 'Sen.' -> True: a role or title word (ROLE_WORDS), any case, a closing period left off"""
    return word.lower().rstrip(".") in ROLE_WORDS


def title_end(words: list[str]) -> int:
    """How many of `words` a title takes: up to its last role word, 0 when none is one:
    ['Russian', 'President', 'Vladimir'] -> 2; ['Xi', 'Jinping'] -> 0"""
    return max((i + 1 for i, w in enumerate(words) if is_role(w)), default=0)


def person(phrase: str) -> str:
    """The name in a capitalised phrase: the words after its last role word (a place or nationality before
    the role goes with it), possessives and words that name nobody left off, its last three kept.
    'Coordinator John Kirby' -> 'John Kirby'; 'British Prime Minister Keir Starmer' -> 'Keir Starmer';
    'The Kremlin' -> 'Kremlin'; 'China’s Premier' -> ''"""
    words = phrase.split()
    words = words[title_end(words):]
    words = [w for w in words if w.lower() not in NOT_NAME_WORDS and not w.endswith(("’s", "'s"))]
    return " ".join(words[-3:]) if words and words[-1][:1].isupper() else ""


def subjects(text: str) -> list[str]:
    """What a question names (`names`), two names joined by 'and' as one subject (what a later 'they' stands
    for): 'What did John Kirby say about Xi?' -> ['John Kirby', 'Xi']; 'What did Xi and Putin sign?' -> ['Xi and Putin']
    """
    out: list[str] = []
    for name in names(text):
        if out and re.search(rf"\b{re.escape(out[-1])}(?:[’']s)?\s+and\s+{re.escape(name)}\b", text) \
                and " and " not in out[-1]:
            out[-1] = f"{out[-1]} and {name}"
        else:
            out.append(name)
    return out


# Aliases initials cannot derive: general English, not tied to any corpus (each group is one entity).
ALIASES = (
    ("united states", "us", "usa", "america", "washington"),
    ("united kingdom", "uk", "britain", "great britain"),
    ("european union", "eu"),
    ("united nations", "un"),
    ("soviet union", "ussr"),
)
_MONTHS = tuple("january february march april june july august september october november december".split()) + _WEEKDAYS
_WORD_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NAME = re.compile(r"\b(?:[A-Z][\w’'\-.]*|[A-Z]{2,})(?:\s+(?:of\s+(?:the\s+)?|for\s+)?(?:[A-Z][\w’'\-.]*))*")
_ACRONYM = re.compile(r"^(?:(?:[A-Z]\.?){2,6}|(?:[A-Z]\.?){1,5}\d{1,3})$")  # SCO, U.S., G7, G20
_MARKER_NUMBERS = r"\d+(?:\s*,\s*\d+)*"
MARKER = re.compile(r"\[(" + _MARKER_NUMBERS + r")\]")  # the one marker pattern, numbers captured: [1], [1, 2], [1,2]
MARKER_GROUP = r"\[" + _MARKER_NUMBERS + r"\]"  # the same, no capture group, to build other patterns from
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A phrase whose initials may spell an acronym: a capitalised run that may also join words with 'and' and
# end in a number ('Center for Strategic and International Studies' ~ CSIS, 'Group of 20' ~ G20).
_PHRASE = re.compile(r"\b(?:[A-Z][\w’'\-.]*|[A-Z]{2,})(?:\s+(?:(?:of|for|and|&)\s+(?:the\s+)?)?"
                     r"(?:[A-Z][\w’'\-.]*|\d{1,3}\b))*")
_SPLIT_ACRONYM = re.compile(r"\b[A-Z](?:[.\-]?[A-Z0-9]){1,6}\b")  # G-7, G-20, U.S., P5
_JOINERS = {"of", "the", "for", "and", "de", "la"}


def names(question: str, opening: bool = True) -> list[str]:
    """Capitalised names and acronyms the question mentions, without the question's own opening word.

    'Which country was Xi set to visit before the SCO summit?' -> ['Xi', 'SCO']
    'What is the United States worried about?' -> ['United States']
    With opening=False, a lone capitalised word that opens a sentence is not taken for a name: sentence
    case capitalises it anyway ('Approximately how many...', 'Roughly when...'). A run of capitalised
    words ('Prime Minister Mishustin said...') and an acronym still count.
    """
    out = []
    for m in _NAME.finditer(question):
        found = _names_in(m)
        if not opening and found and _opens_sentence(question, m) and " " not in m.group().strip() \
                and not _ACRONYM.match(m.group().rstrip(".")):
            found = found[1:] if found[0] == re.sub(r"[’']s$", "", m.group().rstrip(".")) else found
        out += found
    return list(dict.fromkeys(out))


def _opens_sentence(text: str, m: re.Match) -> bool:
    before = text[:m.start()].rstrip(" \t\"“‘'(")
    return not before or before[-1] in ".?!:;\n"


def _names_in(m: re.Match) -> list[str]:
    """A capitalised run split after possessives: "Putin's Wednesday call" -> ['Putin', 'Wednesday']"""
    runs, run = [], []
    for word in m.group().rstrip(".").split():
        run.append(word)
        if re.search(r"[’']s$", word):
            runs.append(run)
            run = []
    runs.append(run)
    out = []
    for i, words in enumerate(runs):
        while words and words[0].lower() in FUNCTION_WORDS:
            words = words[1:]
        while words and words[-1].lower() in _JOINERS:
            words = words[:-1]
        name = re.sub(r"[’']s$", "", " ".join(words)).strip()
        if name:
            out.append(name)
    return out


def marker_numbers(group: str) -> list[int]:
    """The passage numbers a marker's captured group holds: '1, 2' -> [1, 2]; '3' -> [3]"""
    return [int(n) for n in re.findall(r"\d+", group)]


def numbers(text: str, words: bool = True) -> set[str]:
    """Numbers as digits, word numbers included: 'four and a half hours, 153%' -> {'4', '153'}"""
    found = {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}
    if not words:
        return found
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _WORD_NUMBERS:
            found.add(str(_WORD_NUMBERS[word]))
    return found


def dates(text: str) -> set[str]:
    """Month and weekday names: 'on Monday in March' -> {'monday', 'march'}"""
    words = set(re.findall(r"[a-z]+", text.lower()))
    return {m for m in _MONTHS if m in words}


def initials(phrase: str) -> str:
    """'Shanghai Cooperation Organization' -> 'sco'; 'U.S.' -> 'us'; 'Bank of England' -> 'be';
    a number counts as its digits: 'Group of Seven' -> 'g7', 'Group of 20' -> 'g20'"""
    if compact := _compact(phrase):  # an acronym spells itself, dots and hyphens aside: 'G-7' -> 'g7'
        return compact
    words = [w for w in re.findall(r"[A-Za-z][\w’'-]*|\d+", phrase) if w.lower() not in _JOINERS]
    if len(words) < 2:
        return ""
    return "".join(w if w.isdigit() else str(_WORD_NUMBERS[w.lower()]) if w.lower() in _WORD_NUMBERS else w[0]
                   for w in words).lower()


def phrase_initials(texts) -> frozenset[str]:
    """The initials of every run of two or more capitalised words in the texts, so an acronym in a question
    is found where the articles only spell it out, in any passage, retrieved or not:
    ['The International Criminal Court said'] -> {'icc', 'ic', 'cc', ...}"""
    found = set()
    for text in texts:
        found.update(compact for a in _SPLIT_ACRONYM.findall(text) if (compact := _compact(a)))
        for m in _PHRASE.finditer(text):
            words = m.group().rstrip(".").split()
            for i in range(len(words)):
                for j in range(i + 2, min(len(words), i + 8) + 1):
                    ini = initials(" ".join(words[i:j]))
                    if len(ini) >= 2:
                        found.add(ini)
    return frozenset(found)


@lru_cache(maxsize=4096)
def variants(name: str) -> tuple[str, ...]:
    """Lower-case spellings that count as a mention of `name`.

    'SCO' -> ('sco',) plus, when matched against a text, its expansions (see `mentions`)
    'United States' -> ('united states', 'us', 'usa', 'america', 'washington')
    """
    low = " ".join(tokenize(name)) or name.lower()
    out = [low]
    ini = initials(name)
    if ini and ini != low:
        out.append(ini)
    for group in ALIASES:
        if low in group or ini in group:
            out += group
    return tuple(dict.fromkeys(out))


def mentions(text: str, name: str) -> bool:
    """Does `text` mention `name` under any of its spellings?

    ('The Shanghai Cooperation Organization met.', 'SCO') -> True      (initials of a phrase in the text)
    ('U.S. officials said', 'United States') -> True                  (initials of the name)
    ('Chinese leader Xi Jinping', 'Xi') -> True                      (part of a full name)
    ('China’s exports rose', 'Japan') -> False
    """
    words = tokenize(text)
    tokens = " " + " ".join(words) + " "
    for v in variants(name):
        if f" {v} " in tokens:
            return True
    parts = tokenize(name)
    if len(parts) == 1 and len(parts[0]) >= 4:  # 'Chinese' ~ 'China', 'Ukrainian' ~ 'Ukraine'
        w = parts[0]
        for t in set(words):
            common = len(os.path.commonprefix([w, t]))
            if common >= 4 and common >= min(len(w), len(t)) - 3:
                return True
    if _spelled_alike(parts, set(words)):  # 'Zelenskyy' ~ 'Zelensky', 'Mishustin' ~ 'Mishoustine'
        return True
    if len(parts) > 1 and parts[-1] in words:  # 'Prime Minister Mikhail Mishustin' ~ 'Mishustin, the premier'
        present = set(words)
        if sum(p in present for p in parts[:-1]) * 2 >= len(parts) - 1:
            return True
    # An acronym's own spelling, not its tokenized form: 'CSIS' tokenizes as 'csi' (a plural 's' stripped), and
    # an Ivory Coast article's phrase with initials 'CSI' does not mention the CSIS.
    stem = " ".join(parts)
    wanted = ({v for v in variants(name) if " " not in v and v != stem} | {_compact(name)}) if _compact(name) else set()
    if wanted & {_compact(a) for a in _SPLIT_ACRONYM.findall(text)}:  # 'G7' ~ 'G-7'
        return True
    if wanted:  # an acronym in the question: look for a phrase in the text whose initials spell it
        for m in _PHRASE.finditer(text):
            phrase = m.group().rstrip(".")
            words = phrase.split()
            for i in range(len(words)):  # any run of the phrase: 'the Shanghai Cooperation Organization summit'
                for j in range(i + 2, len(words) + 1):
                    if initials(" ".join(words[i:j])) in wanted:
                        return True
    return False


def fold(text: str) -> str:
    """Case and apostrophe style don't matter when matching a quote: 'Don’t' ~ "don't"."""
    return text.lower().replace("’", "'").replace("‘", "'")


def _compact(name: str) -> str:
    """An acronym without its dots and hyphens: 'G-7' -> 'g7', 'U.S.' -> 'us'; '' for anything else."""
    compact = re.sub(r"[\s.\-]", "", name)
    return compact.lower() if _ACRONYM.match(compact) else ""


def _spelled_alike(parts: list[str], words: set[str]) -> bool:
    """Every part of a name in the words, a long part also under another spelling: one edit for 5-9
    letters, two from 10 (transliterations and typos), same first letter. Short words must match exactly:
    'Iran' is not 'Iraq'."""
    if not parts:
        return False
    for p in parts:
        if p in words:
            continue
        if len(p) < 5:
            return False
        edits = 1 if len(p) < 10 else 2
        if not any(t[0] == p[0] and abs(len(t) - len(p)) <= edits
                   and Levenshtein.distance(p, t, score_cutoff=edits) <= edits for t in words):
            return False
    return True


def content(text: str) -> set[str]:
    """Content words, plural-insensitive, with acronyms folded: 'U.S. exports' -> {'us', 'export'}"""
    return set(tokenize(text))


def unnamed(text: str) -> set[str]:
    """Content words besides those of the text's names: 'What did Xi and Putin call each other?' -> {'call', 'each'}"""
    return content(text) - {w for name in names(text) for w in content(name)}


def share(words: set[str], text: str) -> float:
    """Share of `words` among the text's content words: ({'xi', 'call'}, 'Xi spoke.') -> 0.5"""
    return len(words & content(text)) / len(words) if words else 0.0


# Opposed prefixes on a shared stem turn a word into its opposite: imports/exports, increase/decrease.
_OPPOSED = {("im", "ex"), ("in", "ex"), ("in", "out"), ("in", "de"), ("over", "under"), ("up", "down"),
            ("pro", "anti"), ("max", "min"), ("en", "dis"), ("ac", "re")}


def opposed(a: str, b: str) -> bool:
    """'import', 'export' -> True; 'increase', 'decrease' -> True; 'report', 'export' -> False"""
    for x, y in _OPPOSED:
        for p, q in ((x, y), (y, x)):
            if a.startswith(p) and b.startswith(q) and len(a) - len(p) >= 4 and a[len(p):] == b[len(q):]:
                return True
    return False


def turned(ours: set[str], theirs: set[str]) -> tuple[str, str] | None:
    """A word of ours whose opposite is theirs, neither word in the other set:
    ({'import', 'grow'}, {'export', 'grow'}) -> ('import', 'export'); ({'import', 'export'}, {'export'}) -> None"""
    return next(((a, b) for a in sorted(ours - theirs) for b in sorted(theirs - ours) if opposed(a, b)), None)
