"""What happened when: every dated event the articles give, oldest first, each with its exact sentence.

A date is read from the sentence's own words, never guessed from the whole text:

- explicit dates stand alone: "June 5, 2019", "5 June 2019", "Mar. 21, 2023", "2023-03-21" (day),
  "March 2023", "early February 2022" (month), "in 2019", "since 2010", "the summer of 2019" (year: a 4-digit
  year 1900-2100 only after such a word, so a figure like "$2019" or "2019 people" is no date);
- relative dates are worked out from the article's date (`resolved=True`) and skipped when the article has none:
  "on Monday", "Monday", "last Tuesday" (a weekday), "yesterday", "today", "tonight", "tomorrow", "in early
  February" (a month without its year), "March 20", "20 March" (a day without its year). A vague span ("this
  week", "earlier this month", "last year") is skipped;
- direction: a relative date is the most recent one on or before the article's date (a news article dated a
  Monday says "on Monday" of that very day), unless its clause is in the future tense: then it is the next one
  on or after. The tense is the nearest verb form before the date in its clause ("will", "shall", "'ll",
  "is set to", "is due to", "is expected to", "is scheduled for", "plans to" against "said", "met", "was",
  any "-ed" word), else the first one after it ("On Wednesday, Xi will fly"), else the past. "last" is always
  before (strictly), "next" always after (strictly);
- a sentence with several dates gives several events; dates inside a URL are not read; photo captions
  ("In this June 5, 2019, file photo") are dated events like any other sentence.

Speed (3,000 articles, 6,000 chunks in under a second): a chunk is sentence-split only when a cheap gate finds
a month, weekday, relative-day word or 4-digit number in it; a sentence then runs only the readers its gates
allow, each a compiled regex that opens with a name or a digit, and the date is made with `datetime.date`
(no `dateparser.search`, which is slow). The article's date string is read once per distinct string, with
`dateparser` only for formats the regexes do not know.

    events([Chunk('a:0', 'a', 'T', 'Xi met Putin on Monday.', 0, 23, date='21 March 2023')])
    -> [Event(when='2023-03-20', precision='day', phrase='on Monday', line=Line(...), resolved=True)]
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Iterable, NamedTuple

from ..chunk import split_sentences
from ..types import Chunk
from . import Line, line_of


@dataclass(frozen=True)
class Event:
    """A dated event: `phrase` is the date words as written in `line.text`; `when` is ISO at its precision."""

    when: str  # "2023-03-20", "2023-03" or "2023" by precision
    precision: str  # "day", "month" or "year"
    phrase: str  # "June 5, 2019", "on Monday", "in early February"
    line: Line  # the sentence
    resolved: bool = False  # True when the date was worked out from the article's date


class _Found(NamedTuple):
    """One date phrase in a sentence: where it is and the date it names."""

    start: int
    end: int
    when: str
    precision: str
    resolved: bool


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NUMBER = {m[:3].lower(): n for n, m in enumerate(MONTHS, 1)}  # "sept"[:3] and "Mar."[:3] find theirs too
_WEEKDAY_NUMBER = {d.lower(): n for n, d in enumerate(_WEEKDAYS)}  # date.weekday(): Monday is 0

# Every pattern opens with a name or a digit: Python's re scans fast for those and about 20 times slower for a
# pattern that opens with \b, a look-behind or an optional word, so the words before a date ("in early
# February", "on Monday") are read backwards from it by `_lead_in`, and the word boundary is checked in code.
# Names are matched case-sensitively: the modal "may" and a "march" are no months.
_FULL = "|".join(MONTHS)
_MON_NAMES = rf"{_FULL}|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"  # full names tried first
_MON = rf"(?P<mon>{_MON_NAMES})\b\.?"
_DAY = r"(?P<day>\d\d?)(?:st|nd|rd|th)?(?!\d)"  # 1-31 is checked when the date is made
_YEAR = r"(?P<year>19\d\d|20\d\d|2100)(?!\d)"

_ISO = re.compile(r"(?P<year>19\d\d|20\d\d|2100)(?P<sep>[-/])(?P<mon>0[1-9]|1[0-2])(?P=sep)"
                  r"(?P<day>0[1-9]|[12]\d|3[01])(?![\d/])")
_MDY = re.compile(rf"{_MON}\s+{_DAY},?\s+{_YEAR}")
_DMY = re.compile(rf"{_DAY}\s+(?:of\s+)?{_MON},?\s+{_YEAR}")
_MY = re.compile(rf"{_MON},?\s+(?:of\s+)?{_YEAR}")
# a day without its year: not followed by a number, which would be a year out of range or a figure
_MD = re.compile(rf"{_MON}\s+{_DAY}(?!,?\s*\d)")
_DM = re.compile(rf"{_DAY}\s+(?:of\s+)?(?P<mon>{_FULL})\b(?!,?\s*(?:of\s+)?\d)")
# a bare year (a date only after a word that makes it one: "in 2019"), not a share or a decimal; "2019 to 2021"
_YEARS = re.compile(rf"{_YEAR}(?!%|[.,]\d)"
                    r"(?:\s*(?:to|and|through|until|-|–)\s*(?P<year2>19\d\d|20\d\d|2100)(?![\d%]|[.,]\d))?")
_MONTH = re.compile(rf"(?P<mon>{_FULL})\b(?!,?\s*(?:of\s+)?\d)")  # a month without its year
_WEEKDAY = re.compile(rf"(?P<wd>{'|'.join(_WEEKDAYS)})\b")
_RELDAY = re.compile(r"(?P<word>Yesterday|yesterday|Today|today|Tonight|tonight|Tomorrow|tomorrow)\b")
_RELDAY_SHIFT = {"yesterday": -1, "today": 0, "tonight": 0, "tomorrow": 1}

# The words that make a bare year, a month or a weekday a time: "since 2010", "in May" (not "Theresa May").
_YEAR_PRE = frozenset("in since by from until till through throughout during before after around circa between "
                      "of".split())
_MONTH_PRE = frozenset("in since by from until till through during before after last this next of".split())
_WEEKDAY_PRE = frozenset("on last this next by since until till before after from through".split())
_PERIOD_OF = frozenset("spring summer fall autumn winter end start beginning middle half quarter rest part week "
                       "weeks".split())  # "of" counts only after one of these: "the summer of 2019"
_QUAL_BEFORE = re.compile(r"\b(?:[Ee]arly|[Mm]id|[Ll]ate)[\s-]+$")  # "early February", "mid-2019"
_WORD_BEFORE = re.compile(r"\b([A-Za-z]+)\s+$")
# A weekday just before a date names that date's day: "Monday, March 20, 2023" is one date.
_DATE_AFTER = re.compile(rf",?\s+(?:(?:{_MON_NAMES})\b\.?\s+\d|\d\d?(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MON_NAMES})\b)")
# A weekday in a name is no date: "Black Friday", "Super Tuesday", "Ash Wednesday", "the Sunday Times".
_NAMED_DAY_BEFORE = frozenset(
    "Black Cyber Super Ash Good Holy Easter Palm Bloody Maundy Giving Blue Fat Shrove Whit Man Girl".split())
_NAMED_DAY_AFTER = re.compile(r"\s+[A-Z]")
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.[a-z]{2,}/\S*")
# Words without which a family of dates cannot be there: a sentence runs only the readers whose gates are
# open, and a chunk with none open is not even split into sentences.
_GATES = (("month", re.compile(r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)")),
          ("weekday", re.compile(r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day")),
          ("year", re.compile(r"[12]\d\d\d")),
          ("relday", re.compile(r"[YyTt](?:esterday|oday|onight|omorrow)")))

# Tense of the clause a relative date sits in. Future forms are tried first, so "is set to" is not read as
# "is"; the nearest form to the date decides ("He said on Monday he will go on Wednesday").
_FUTURE = (r"\b(?:will|shall|won[’']t|(?:is|are|am)\s+(?:set|due|scheduled|expected|slated|poised|going)\s+(?:to|for)"
           r"|(?:is|are)\s+to|(?:plans?|intends?|aims?)\s+to)\b|(?<=\w)[’']ll\b")
_PAST = (r"\b(?:said|says|told|met|was|were|had|did|held|made|took|gave|spoke|went|came|began|left|saw|sent|won|"
         r"lost|led|used|(?!hundred\b|sacred\b|naked\b|wicked\b|kindred\b)[a-z]{2,}[a-df-z]ed)\b")
_TENSE = re.compile(rf"(?P<fut>{_FUTURE})|(?P<past>{_PAST})")
# Where a clause ends: punctuation that closes one, a quotation, or a word that opens a new one.
_CLAUSE = re.compile(r"[;:“”\"()\[\]—–]|\s-\s"
                     r"|\b(?:that|which|who|whom|whose|but|while|although|though|because)\b")


def events(chunks: Iterable[Chunk]) -> list[Event]:
    """Every dated event of the articles, each sentence read once (chunks overlap by a sentence); oldest
    first, ties by article then offset (a coarser date, "2023", sorts before the days within it).

    [Chunk(text='In this June 5, 2019, file photo, Xi met Putin.', date='')] -> [Event('2019-06-05', 'day', ...)]
    """
    found: list[tuple[tuple, Event]] = []
    seen_sentences: set[tuple[str, int]] = set()
    seen_phrases: set[tuple[str, int]] = set()  # a sentence split differently in two chunks is still read once
    read: dict[str, tuple[int, int]] = {}  # doc_id -> the span of the article read so far
    for chunk in chunks:
        skip = _already_read(read, chunk)
        if skip >= len(chunk.text) or not _open_gates(chunk.text[skip:]):
            continue
        anchor = article_date(chunk.date)
        for start, end in split_sentences(chunk.text[skip:]):
            start, end = start + skip, end + skip
            key = (chunk.doc_id, chunk.start + start)
            if key in seen_sentences:
                continue
            seen_sentences.add(key)
            sentence = chunk.text[start:end]
            line = None
            for f in dates_in(sentence, anchor):
                at = (chunk.doc_id, chunk.start + start + f.start)
                if at in seen_phrases:
                    continue
                seen_phrases.add(at)
                line = line or line_of(chunk, start, end)
                event = Event(f.when, f.precision, sentence[f.start:f.end], line, f.resolved)
                found.append(((f.when, chunk.doc_id, line.offset, f.start), event))
    found.sort(key=lambda pair: pair[0])
    return [event for _, event in found]


def _already_read(read: dict[str, tuple[int, int]], chunk: Chunk) -> int:
    """How many characters at the start of chunk.text were read with an earlier chunk of its article, and
    notes this chunk as read. Chunks (0, 120) then (90, 200): the second -> 30.

    Splitting sentences is the dearest step, and each chunk repeats the last sentence of the one before: the
    next chunk of an article is split from where the one before ended (a sentence boundary, so the split is
    the same). A chunk out of article order is read whole; the (doc_id, offset) check then drops repeats.
    """
    lo, hi = read.get(chunk.doc_id, (chunk.start, chunk.start))
    if lo <= chunk.start <= hi:
        read[chunk.doc_id] = (lo, max(hi, chunk.end))
        return hi - chunk.start
    read[chunk.doc_id] = (chunk.start, chunk.end)
    return 0


def dates_in(sentence: str, anchor: tuple[date, str] | None) -> list[_Found]:
    """Each date phrase of one sentence, in reading order; words read by a more explicit reader are not read
    again by a looser one ("March 20, 2023" is not also "March 20" nor "2023").

    'Xi met Putin on Monday.', (date(2023, 3, 21), 'day') -> [_Found(13, 22, '2023-03-20', 'day', True)]
    """
    gates = _open_gates(sentence)
    if not gates:
        return []
    # a date in a link is no event
    taken = [(m.start(), m.end()) for m in _URL.finditer(sentence)] if "/" in sentence or "www." in sentence else []
    out: list[_Found] = []
    for pattern, read, needs, bad_before in _READERS:
        if not needs <= gates:
            continue
        pos = 0
        while m := pattern.search(sentence, pos):
            before = sentence[m.start() - 1] if m.start() else " "
            # inside a word or a figure ("MH17 July", "$1.5 June") or words already read: no date here
            bad = before.isalnum() or before in bad_before or any(m.start() < e and s < m.end() for s, e in taken)
            got = [] if bad else read(m, sentence, anchor)
            for f in got:
                taken.append((f.start, f.end))
                out.append(f)
            # a refused match may hide a date in its own words ("$2019 to 2019"): look again just after its start
            pos = m.end() if got else m.start() + 1
    return sorted(out)


def _open_gates(text: str) -> frozenset[str]:
    """'Xi met Putin on Monday in 2019.' -> frozenset({'weekday', 'year'})"""
    return frozenset(name for name, gate in _GATES if gate.search(text))


def _lead_in(sentence: str, start: int, pres: frozenset[str]) -> tuple[int, str, bool]:
    """The words before a date that belong to it: (where the phrase starts, its preposition, qualified?).

    'talks in early February', 15, _MONTH_PRE -> (6, 'in', True)
    'the summer of 2019', 14, _YEAR_PRE -> (4, 'of', False)
    """
    origin = max(0, start - 40)
    window = sentence[origin:start]
    cut = len(window)
    qual = _QUAL_BEFORE.search(window)
    if qual:
        cut = qual.start()
    word = _WORD_BEFORE.search(window, 0, cut)
    pre = word[1].lower() if word and word[1].lower() in pres else ""
    if pre == "of":  # "the end of February", not "the government of May"
        period = _WORD_BEFORE.search(window, 0, word.start())
        if period and period[1].lower() in _PERIOD_OF:
            cut = period.start()
        else:
            pre = ""
    elif pre:
        cut = word.start()
    return origin + cut, pre, bool(qual)


# --- readers: a regex match -> the dates it names (none when it is no date or cannot be placed) -------------

def _explicit_day(m: re.Match, sentence: str, anchor) -> list[_Found]:
    """'June 5, 2019' -> [_Found(0, 12, '2019-06-05', 'day', False)]; 'February 30, 2019' -> []"""
    day = _day(int(m["year"]), _month_of(m["mon"]), int(m["day"]))
    return [_Found(m.start(), m.end(), day.isoformat(), "day", False)] if day else []


def _explicit_month(m: re.Match, sentence: str, anchor) -> list[_Found]:
    """'early March 2023' -> [_Found(0, 16, '2023-03', 'month', False)]"""
    start = _lead_in(sentence, m.start(), frozenset())[0]
    return [_Found(start, m.end(), f"{int(m['year']):04d}-{_month_of(m['mon']):02d}", "month", False)]


def _explicit_years(m: re.Match, sentence: str, anchor) -> list[_Found]:
    """'since 2010' -> [_Found(0, 10, '2010', 'year', False)]; 'from 2019 to 2021' -> both; '2019 people' -> []"""
    start, pre, qualified = _lead_in(sentence, m.start(), _YEAR_PRE)
    if not (pre or qualified):
        return []
    out = [_Found(start, m.end("year"), m["year"], "year", False)]
    if m["year2"]:
        out.append(_Found(m.start("year2"), m.end("year2"), m["year2"], "year", False))
    return out


def _day_no_year(m: re.Match, sentence: str, anchor) -> list[_Found]:
    """'March 20' in an article of 21 March 2023 -> [_Found(0, 8, '2023-03-20', 'day', True)]"""
    if not anchor or anchor[1] != "day":
        return []
    day = _month_day(anchor[0], _month_of(m["mon"]), int(m["day"]), _way(sentence, m.start(), m.end(), ""))
    return [_Found(m.start(), m.end(), day.isoformat(), "day", True)] if day else []


def _month_no_year(m: re.Match, sentence: str, anchor) -> list[_Found]:
    """'in early February' in an article of 21 March 2023 -> [_Found(0, 17, '2023-02', 'month', True)]"""
    start, pre, qualified = _lead_in(sentence, m.start(), _MONTH_PRE)
    if not (pre or qualified) or not anchor:  # a month-precision article date is enough to place a month
        return []
    year, month = _month(anchor[0], _month_of(m["mon"]), _way(sentence, start, m.end(), pre))
    return [_Found(start, m.end(), f"{year:04d}-{month:02d}", "month", True)]


def _weekday_of(m: re.Match, sentence: str, anchor) -> list[_Found]:
    """'on Monday' in an article of Tuesday 21 March 2023 -> [_Found(0, 9, '2023-03-20', 'day', True)]"""
    if not anchor or anchor[1] != "day" or _DATE_AFTER.match(sentence, m.end()):
        return []
    start, pre, qualified = _lead_in(sentence, m.start(), _WEEKDAY_PRE)
    if start == m.start() and (_word_before(sentence, start) in _NAMED_DAY_BEFORE
                               or _NAMED_DAY_AFTER.match(sentence, m.end())):
        return []  # "Black Friday", "the Sunday Times": a name, not a day
    day = _weekday(anchor[0], _WEEKDAY_NUMBER[m["wd"].lower()], _way(sentence, start, m.end(), pre))
    return [_Found(start, m.end(), day.isoformat(), "day", True)]


def _relative_day(m: re.Match, sentence: str, anchor) -> list[_Found]:
    """'yesterday' in an article of 21 March 2023 -> [_Found(0, 9, '2023-03-20', 'day', True)]"""
    if not anchor or anchor[1] != "day":
        return []
    word = m["word"]
    before = sentence[:m.start()].rstrip()[-1:]
    if word[0].isupper() and (before.isalnum() or before == ","):
        return []  # capitalised inside a clause it is a name: "USA Today", "Russia Today"
    day = anchor[0] + timedelta(days=_RELDAY_SHIFT[word.lower()])
    return [_Found(m.start(), m.end(), day.isoformat(), "day", True)]


def _word_before(sentence: str, start: int) -> str:
    """'sales on Black Friday', 15 -> 'Black'"""
    words = sentence[max(0, start - 40):start].split()
    return words[-1] if words else ""


# Most explicit first, each with the gates it needs and the characters that may not stand just before it
# (a day-led match after "." "," "$" "/" or "-" is part of a figure, a path or a range).
_MONTH_YEAR, _MONTH_ONLY, _YEAR_ONLY = frozenset({"month", "year"}), frozenset({"month"}), frozenset({"year"})
_FIGURE = ".,$£€/-"
_READERS = (
    (_ISO, _explicit_day, _YEAR_ONLY, _FIGURE), (_MDY, _explicit_day, _MONTH_YEAR, ""),
    (_DMY, _explicit_day, _MONTH_YEAR, _FIGURE), (_MY, _explicit_month, _MONTH_YEAR, ""),
    (_MD, _day_no_year, _MONTH_ONLY, ""), (_DM, _day_no_year, _MONTH_ONLY, _FIGURE),
    (_YEARS, _explicit_years, _YEAR_ONLY, ""),  # a figure has no "in"/"since" word just before: `_lead_in`
    (_MONTH, _month_no_year, _MONTH_ONLY, ""), (_WEEKDAY, _weekday_of, frozenset({"weekday"}), ""),
    (_RELDAY, _relative_day, frozenset({"relday"}), ""))


# --- small date arithmetic --------------------------------------------------------------------------------

def _month_of(name: str) -> int:
    """'Sept.' -> 9; '03' -> 3"""
    return int(name) if name.isdigit() else _MONTH_NUMBER[name[:3].lower()]


def _day(year: int, month: int, day: int) -> date | None:
    """(2019, 6, 5) -> date(2019, 6, 5); (2023, 2, 30) -> None"""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _way(sentence: str, start: int, end: int, pre: str) -> str:
    """Which way from the article's date: 'last Monday' -> 'last'; 'Xi will go on Monday', 11, 20, 'on' -> 'forward'"""
    if pre in ("last", "next"):
        return pre
    return "forward" if future(sentence, start, end) else "back"


def future(sentence: str, start: int, end: int) -> bool:
    """Is the clause holding sentence[start:end] in the future tense? The nearest verb form before it in its
    clause decides; with none before (the date opens the clause), the first one after it.

    'Xi will be on a state visit to Kazakhstan on Wednesday.', 42, 54 -> True
    """
    left = sentence[:start]
    cuts = list(_CLAUSE.finditer(left))
    if cuts:
        left = left[cuts[-1].end():]
    marks = list(_TENSE.finditer(left))
    if marks:
        return marks[-1]["fut"] is not None
    right = sentence[end:]
    cut = _CLAUSE.search(right)
    m = _TENSE.search(right[:cut.start()] if cut else right)
    return bool(m) and m["fut"] is not None


def _weekday(anchor: date, weekday: int, way: str) -> date:
    """date(2023, 3, 21) (a Tuesday), 0 (Monday), 'back' -> date(2023, 3, 20)

    back: on or before the anchor; forward: on or after; last: strictly before; next: strictly after.
    """
    if way in ("forward", "next"):
        ahead = (weekday - anchor.weekday()) % 7
        return anchor + timedelta(days=ahead or (7 if way == "next" else 0))
    behind = (anchor.weekday() - weekday) % 7
    return anchor - timedelta(days=behind or (7 if way == "last" else 0))


def _month(anchor: date, month: int, way: str) -> tuple[int, int]:
    """date(2023, 3, 21), 2, 'back' -> (2023, 2); date(2023, 3, 21), 6, 'back' -> (2022, 6)"""
    if way in ("forward", "next"):
        later = month > anchor.month or (month == anchor.month and way == "forward")
        return (anchor.year if later else anchor.year + 1), month
    earlier = month < anchor.month or (month == anchor.month and way == "back")
    return (anchor.year if earlier else anchor.year - 1), month


def _month_day(anchor: date, month: int, day: int, way: str) -> date | None:
    """date(2023, 3, 21), 3, 20, 'back' -> date(2023, 3, 20); date(2023, 3, 21), 12, 25, 'back' -> date(2022, 12, 25)"""
    this_year = _day(anchor.year, month, day)
    if this_year is None:  # February 29 (or 31 April: none): the nearest leap year that way
        step = 1 if way == "forward" else -1
        return next((d for n in range(1, 8) if (d := _day(anchor.year + step * n, month, day))), None)
    if way == "forward":
        return this_year if this_year >= anchor else _day(anchor.year + 1, month, day)
    return this_year if this_year <= anchor else _day(anchor.year - 1, month, day)


# --- the article's date ------------------------------------------------------------------------------------

@lru_cache(maxsize=8192)
def article_date(text: str) -> tuple[date, str] | None:
    """The article's date and its precision, read once per distinct string.

    '21 March 2023' -> (date(2023, 3, 21), 'day'); 'March 2023' -> (date(2023, 3, 1), 'month'); '' -> None
    """
    text = text.strip()
    if not text:
        return None
    for pattern in (_ISO, _MDY, _DMY):
        m = pattern.search(text)
        if m and (day := _day(int(m["year"]), _month_of(m["mon"]), int(m["day"]))):
            return day, "day"
    m = _MY.search(text)
    if m:
        return date(int(m["year"]), _month_of(m["mon"]), 1), "month"
    return _dateparser(text)


def _dateparser(text: str) -> tuple[date, str] | None:
    """The formats the regexes above do not read: '03/21/2023' -> (date(2023, 3, 21), 'day')"""
    import dateparser  # here, not at the top: its import and first call take a noticeable moment

    for parts, precision in ((["day", "month", "year"], "day"), (["month", "year"], "month")):
        got = dateparser.parse(text, languages=["en"], settings={
            "PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": parts,
            # absolute dates only: a relative "yesterday" as an article's date would be read against today
            "PARSERS": ["custom-formats", "absolute-time"]})
        if got and 1900 <= got.year <= 2100:
            return (got.date() if precision == "day" else got.date().replace(day=1)), precision
    return None
