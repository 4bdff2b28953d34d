"""Files -> Documents: read .txt/.md/.html in any encoding, strip web boilerplate, and read the article's header.

The header is what an article says of itself: its title, byline, date and publisher. Each is a Document field
and a HeaderLine, the line as the file writes it and where (`decode(file bytes)[start:end] == line`), so the
header can be shown and cited like a sentence of the body:
"By Andrea Mitchell and Dan De Luce" -> byline "Andrea Mitchell and Dan De Luce".

The rules are general; none names an outlet.
  byline     "By NAME", "By NAME and NAME", "By NAME, Outlet", "By NAME | May 9, 2023".
  date       a line that is a full date ("April 22, 2024", "21 March 2023", "Published on June 16, 2022",
             "Updated 2023-03-21 10:15 ET"), or the dateline opening the body ("LONDON, 21 March 2023 (Reuters) -").
             Only the lines above the body's first paragraph are read, so a date in the body or in the comments
             is never the article's; a date under the byline beats one above it (a saved page's access date);
             a year alone ("© 2023 ...") is no date.
  publisher  in this order of trust: "© 2023 X" / "Copyright 2023 X"; "... brought to you by X"; the site under
             "About Author"; a byline's Outlet; "Source: X"; "read more from the X"; a dateline's "(Agency)".
             The comments under an article are never read.
"""
from __future__ import annotations

import html
import re
import warnings
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

from .errors import CorpusError
from .types import Document, HeaderLine

SUFFIXES = (".txt", ".md", ".html", ".htm")
MAX_BYTES = 5_000_000  # a news article is ~10-100 kB; a bigger file is a dump or a mistake, not an article
FIELDS = ("title", "byline", "date", "publisher")  # the order of Document.header

# A line matching one of these starts the page footer (comments, related links, site blurb): cut it and all after.
_FOOTER = re.compile(
    r"^(\d+\s+comments?|comments?|leave a (reply|comment)|related( content| articles| posts)?|"
    r"about( the)? author|source link|posted in:.*|market news and data brought to you by.*|©.*|"
    r"copyright ©?.*|share this( article)?:?|you may also like|recommended)$",
    re.I,
)
# Where readers' comments begin: nothing after it is the article's (a commenter's "June 16, 2022 at 10:44 pm").
_COMMENTS = re.compile(r"^(\d+\s+comments?|comments?|leave a (reply|comment))$", re.I)
# Lines that are page furniture wherever they appear.
_JUNK = re.compile(
    r"^(advertisement|video embed|back to top( button)?|connect with us|loading\.*|published|on|"
    r"click here to read more.*|see also:?.*|join now:?.*|your email address will not be published.*|"
    r"required fields are marked.*|sign up.*newsletter.*|what you need to know:?|world news|"
    r"sourced?:.*|read more:?.*|skip to (main )?content)$",
    re.I,
)
# A photo's credit: "(AP Photo/Alexander Zemlianichenko, Pool, File) Alexander Zemlianichenko/AP". The caption
# before it is reported text ("FILE – In this June 5, 2019, file photo, Putin and Xi enter ..."): it is kept,
# and the credit with whatever follows it on the line (the photographer's name again) is cut.
_CAPTION = re.compile(r"\s*\((AP|Reuters|AFP|Getty|EPA)[^)]*(Photo|Images)[^)]*\).*$")
_BULLET = re.compile(r"^[•·*\-–]\s+")

# Dates. Only a full date is a date: "June 16, 2022", "16th June 2022", "2022-06-16"; "June 16" or "2022" is not.
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
          r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_FULL_DATE = (rf"(?:{_MONTH}\.?\s+{_DAY},?\s+\d{{4}}|{_DAY}\s+{_MONTH}\.?,?\s+\d{{4}}"
              r"|\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]))")
_WEEKDAY = r"(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?"
_TIME = (r"(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"  # ISO: 2023-03-21T10:15:00Z
         r"|(?:,|\s+at|\s*[|•·–-])?\s+"
         r"(?:\d{1,2}(?::\d{2}){1,2}\s*(?:[AaPp]\.?[Mm]\.?)?|\d{1,2}\s*[AaPp]\.?[Mm]\.?)"
         r"(?:\s+(?:[A-Z]{2,5}|(?:GMT|UTC)[+-]\d{1,2}(?::?\d{2})?))?)")  # 10:44 pm, 3 p.m. ET, 10:15 AM EDT
# A line that is a date, maybe with what it dates and a time: "Published on: Tuesday, March 21, 2023 10:15 AM ET".
_DATE_LINE = re.compile(
    rf"^(?:(?P<kind>(?i:(?:first |last )?(?:published|posted|updated|modified)|date))(?i:\s+on)?\s*:?\s+)?"
    rf"(?:{_WEEKDAY},?\s+)?(?P<date>{_FULL_DATE})(?:{_TIME})?\.?$")
# The dateline opening a wire story: "BEIJING, March 21, 2023 (Reuters) -", "SAN FRANCISCO, Calif. (AP) —".
# A date without its year ("March 21") is skipped over, not taken.
_DATELINE = re.compile(
    rf"^[A-Z][A-Z'’.-]+(?:\s+[A-Z][A-Z'’.-]+)*(?:,\s+[A-Z][\w.]*)*,?\s+"
    rf"(?:(?P<date>{_FULL_DATE})|{_MONTH}\.?\s+{_DAY})?,?\s*"
    r"(?:\((?P<agency>[A-Z][\w&.-]*(?:\s[A-Z][\w&.-]*)?)\)\s*)?[-—–]+\s")

# Names. A person: one to four capitalised words, "de", "van", "bin" ... between them ("Dan De Luce", "Ursula
# von der Leyen"); an outlet: capitalised words with "of", "the", "and" between them ("The Wall Street Journal").
_NAME_WORD = r"[A-Z][\w’'.-]*"
_PARTICLE = r"(?:de|da|di|del|della|der|den|van|von|le|la|al|el|bin|ibn|du|dos|ter|ten)"
_NAME = rf"{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+)*{_NAME_WORD}){{0,3}}"
_AND = r"(?:and|AND|&)"
_NAMES = rf"{_NAME}(?:(?:,\s+(?:{_AND}\s+)?|\s+{_AND}\s+){_NAME})*"
_OUTLET_WORD = r"[A-Z][\w&.’'-]*"
_OUTLET = rf"{_OUTLET_WORD}(?:\s+(?:of|the|and|for|&|{_OUTLET_WORD})){{0,5}}"
_BYLINE = re.compile(
    rf"^(?:By|BY):?\s+(?!{_WEEKDAY}\b)(?P<names>{_NAMES})(?:\s*[|•·–—]\s*(?P<outlet>{_OUTLET}))?"
    rf"(?:(?:,|\s*[|•·–—-])\s*(?P<date>{_FULL_DATE}))?$")
_ROLE = re.compile(r"(?i).*\b(writer|reporter|correspondent|editor|columnist|contributor|producer|staff|intern)s?")
# (rank, a line naming the publisher): a lower rank is trusted more. Ranks 3, 4 and 7 are read elsewhere: the
# site under "About Author", a byline's outlet, a dateline's agency.
_PUBLISHER = (
    (1, re.compile(rf"^(?:©|\([cC]\)|(?i:copyright))(?:\s*©)?\s*(?:\d{{4}}(?:\s*[-–]\s*\d{{4}})?,?\s+)?"
                   rf"(?P<v>{_OUTLET})(?:,?\s+\d{{4}})?[.,]?(?:\s+(?i:all rights reserved)\.?)?$")),
    (2, re.compile(rf"^(?:[\w&,]+\s+){{0,6}}(?i:brought to you by)\s+(?P<v>{_OUTLET})\.?$")),
    (5, re.compile(rf"^(?i:sourced?)\s*:\s*(?P<v>{_OUTLET})\.?$")),
    (6, re.compile(rf"^(?:(?i:click here to)\s+)?(?i:read more from)\s+(?:(?i:the)\s+)?(?P<v>{_OUTLET})\.?$")),
)


def load_corpus(folder: str | Path) -> list[Document]:
    """Every readable article in `folder` (recursively), sorted by path; unreadable files warn and are skipped."""
    root = Path(folder)
    if not root.is_dir():
        raise CorpusError(f"corpus folder not found: {root}")
    docs, seen = [], set()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES):
        doc = read_document(path)
        if doc is None:
            continue
        if doc.doc_id in seen:  # same stem in two sub-folders: keep ids unique and stable
            doc = Document(**{**doc.__dict__, "doc_id": str(path.relative_to(root).with_suffix(""))})
        seen.add(doc.doc_id)
        docs.append(doc)
    if not docs:
        raise CorpusError(f"no readable .txt, .md or .html articles in {root}")
    return docs


def read_document(path: Path) -> Document | None:
    """One file -> Document, or None (with a warning naming the file) when empty, binary, too big or not text.
    Its header lines index the decoded file: `decode(path.read_bytes())[line.start:line.end] == line.text`."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return _skip(path, f"{size / 1e6:.1f} MB, over the {MAX_BYTES / 1e6:.0f} MB limit for one article")
        raw = path.read_bytes()
    except OSError as e:
        return _skip(path, f"unreadable ({e.strerror})")
    if b"\x00" in raw[:8192] and raw[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        return _skip(path, "binary file")
    source = decode(raw)
    if source is None:
        return _skip(path, "not text in any encoding charset-normalizer knows")
    meta: dict[str, str] = {}
    kind = path.suffix.lower()
    if kind in (".html", ".htm"):
        text, meta = html_to_text(source)
    elif kind == ".md":
        heading = re.search(r"^#\s+(.+)$", source, flags=re.M)
        if heading:
            meta["title"] = " ".join(markdown_to_text(heading.group(1)).split())
        text = markdown_to_text(source)
    else:
        text = source
    doc = clean(text, doc_id=path.stem, path=str(path), meta=meta)
    if not doc.text.strip():
        return _skip(path, "no article text")
    if kind != ".txt":  # clean's offsets index the text it read, not the file: find the lines in the file
        locate = _in_markdown if kind == ".md" else _in_html
        doc = replace(doc, header=tuple(locate(line, source) for line in doc.header))
    return doc


def decode(raw: bytes) -> str | None:
    """Bytes -> text: UTF-8 (with or without BOM) when it is, else the encoding charset-normalizer finds.

    'café'.encode('cp1252') -> 'café'; b'\xff\xfe\x00\xd8garbage' -> None
    """
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with its BOM (its NUL bytes would look binary)
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = list(from_bytes(raw))
    if not matches:
        return None
    best = matches[0]
    # Western text often scores a tie between windows-1250/1252/1257; web pages labelled latin-1 are read as
    # windows-1252 by every browser (WHATWG), so on a tie windows-1252 wins: 'à', not the Czech 'ŕ'.
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    return str(next((m for m in tied if m.encoding == "cp1252"), best))


def _skip(path: Path, why: str) -> None:
    warnings.warn(f"skipped {path}: {why}", stacklevel=3)
    return None


def clean(text: str, doc_id: str, path: str = "", meta: dict[str, str] | None = None) -> Document:
    """Raw page text -> Document. The first headline-like line is the title; its repeats are dropped.
    The header lines' offsets index `text`; values from `meta` (an HTML page's metadata) have -1/-1.

    "Connect with us\\n\\nChina's Xi reaffirms support\\n\\nBody.\\n\\nLeave a Reply\\n..." ->
    Document(title="China's Xi reaffirms support", text="Body.")
    """
    meta = dict(meta or {})
    lines = _split_lines(text)
    header = _Header(text, meta)
    kept = _body_lines(lines, header, has_title=bool(meta.get("title")))
    named = (meta.get("title") or next((line for line in kept if _looks_like_title(line)), "")
             or (kept[0] if len(kept) > 1 and _is_heading(kept[0]) else ""))
    title = named or doc_id
    body = [line for line in kept if line != title]
    header.read_title(named, lines)
    header.read_publisher(lines)
    found = header.lines
    return Document(
        doc_id=doc_id, title=title, text="\n\n".join(body), path=path,
        publisher=found["publisher"].value if "publisher" in found else "",
        date=found["date"].value if "date" in found else "",
        byline=found["byline"].value if "byline" in found else "",
        header=tuple(found[f] for f in FIELDS if f in found),
    )


class _Line(NamedTuple):
    """A line of the text clean reads: `text` with its spaces collapsed; `source[start:end]` as written."""

    text: str
    start: int
    end: int


def _split_lines(source: str) -> list[_Line]:
    """'a\\r\\n  b  c \\n' -> [_Line('a', 0, 1), _Line('b c', 5, 10), _Line('', 12, 12)]"""
    lines, pos = [], 0
    for raw in source.split("\n"):  # a '\r' before the '\n' is outer whitespace, stripped like the rest
        start = pos + len(raw) - len(raw.lstrip())
        lines.append(_Line(" ".join(raw.split()), start, start + len(raw.strip())))
        pos += len(raw) + 1
    return lines


def _body_lines(lines: list[_Line], header: _Header, has_title: bool) -> list[str]:
    """The body's lines in order, each once, up to the footer; date and byline lines go to `header` instead,
    page furniture nowhere. ['A title for the news', 'By Jo Roe', 'Body.', 'Leave a Reply', 'Hi'] ->
    ['A title for the news', 'Body.']"""
    kept: list[str] = []
    seen: set[str] = set()
    above_body = True  # no paragraph of the body yet: a date line here is the article's date
    for i, ln in enumerate(lines):
        if _FOOTER.match(ln.text) and kept:
            break
        line = _CAPTION.sub("", _BULLET.sub("", ln.text))
        if len(re.sub(r"\W", "", line)) < 2 or header.read_line(line, ln, i, above_body):
            continue
        if _JUNK.match(line) or _is_shouting(line):
            continue
        if _is_label(line) and (has_title or any(map(_looks_like_title, kept))):
            continue
        if line in seen:  # headlines repeated for layout
            continue
        seen.add(line)
        kept.append(line)
        if above_body and _is_paragraph(line):
            above_body = False
            header.read_dateline(ln, i)
    return kept


class _Header:
    """The article's header lines, collected as clean meets them. It remembers what one rule needs: a date under
    the byline beats a date above it ("April 22, 2024" at the top of a saved page is the day it was saved)."""

    def __init__(self, source: str, meta: dict[str, str]):
        self.source = source
        self.lines: dict[str, HeaderLine] = {
            f: HeaderLine(f, meta[f], meta[f]) for f in ("byline", "date", "publisher") if meta.get(f)}
        self.publishers: list[tuple[int, int, HeaderLine]] = []  # (rank, line number, line), see _PUBLISHER
        self.dated_by_byline = False
        self.dated_by_update = False

    def at(self, field: str, ln: _Line, value: str, length: int | None = None) -> HeaderLine:
        """The HeaderLine for `ln` (or its first `length` characters) saying `value`."""
        end = ln.end if length is None else ln.start + length
        return HeaderLine(field, self.source[ln.start:end], value, ln.start, end)

    def read_line(self, line: str, ln: _Line, i: int, above_body: bool) -> bool:
        """Take a date or byline line; True when `line` is one (it is then no line of the body).
        'Published on June 16, 2022' -> date 'June 16, 2022'; 'By Jo Roe, Daily Planet' -> byline 'Jo Roe'."""
        m = _DATE_LINE.match(line)
        if m:
            if above_body:  # below the first paragraph a lone date belongs to a teaser or a comment
                update = bool(re.search(r"(?i)updated|modified", m["kind"] or ""))
                self.take_date(self.at("date", ln, " ".join(m["date"].split())), update)
            return True
        by = _byline(line)
        if by is None:
            return False
        names, outlet, date = by
        self.lines.setdefault("byline", self.at("byline", ln, names))
        if outlet:
            self.publishers.append((4, i, self.at("publisher", ln, outlet)))
        if date and above_body:
            self.take_date(self.at("date", ln, date))
        return True

    def take_date(self, line: HeaderLine, update: bool = False) -> None:
        """The first date stands, unless this one is the first under the byline, or the standing one is an update's
        and this one is not: 'Updated March 22' then 'Published March 21' -> March 21."""
        current = self.lines.get("date")
        under_byline = "byline" in self.lines and not self.dated_by_byline
        if current is None or (under_byline and not update) or (self.dated_by_update and not update):
            self.lines["date"] = line
            self.dated_by_byline = "byline" in self.lines
            self.dated_by_update = update

    def read_dateline(self, ln: _Line, i: int) -> None:
        """The dateline opening the first paragraph: 'LONDON, 21 March 2023 (Reuters) - Body' -> date, publisher."""
        m = _DATELINE.match(self.source[ln.start:ln.end])
        if not m:
            return  # a bare place ('WASHINGTON — ...') matches too, and says neither
        length = len(m.group().rstrip())
        if m["date"]:
            self.take_date(self.at("date", ln, " ".join(m["date"].split()), length))
        if m["agency"]:
            self.publishers.append((7, i, self.at("publisher", ln, m["agency"], length)))

    def read_title(self, title: str, lines: list[_Line]) -> None:
        """The first line that is the title; a title from metadata that no line writes has -1/-1."""
        if not title:  # no title, the file's name stands in
            return
        ln = next((ln for ln in lines if _CAPTION.sub("", _BULLET.sub("", ln.text)) == title), None)
        self.lines["title"] = self.at("title", ln, title) if ln else HeaderLine("title", title, title)

    def read_publisher(self, lines: list[_Line]) -> None:
        """The most trusted publisher line of the page, unless the page's metadata named one."""
        found = self.publishers + _publisher_lines(lines, self.source)
        if "publisher" not in self.lines and found:
            self.lines["publisher"] = min(found, key=lambda c: c[:2])[2]


def _byline(line: str) -> tuple[str, str, str] | None:
    """A byline's (names, outlet, date), or None.
    'By Jo Roe and Al Poe, Daily Planet' -> ('Jo Roe and Al Poe', 'Daily Planet', ''); 'By Monday, he left.' -> None"""
    m = _BYLINE.match(line)
    if not m:
        return None
    names, outlet = m["names"], m["outlet"] or ""
    *others, last = re.split(r",\s+", names)
    # 'A, B and C' and 'A, B, and C' list people; in 'A, B' and 'A and B, C' the part after the comma is the outlet
    if others and not re.match(rf"{_AND}\s", last) and not re.search(rf"\s{_AND}\s", last):
        names, outlet = ", ".join(others), outlet or last
    if _ROLE.fullmatch(outlet):  # 'By Jo Roe, Staff Writer': a job, not an outlet
        outlet = ""
    date = " ".join(m["date"].split()) if m["date"] else ""
    if names.isupper():  # 'BY JANE ROE AND DAN DE LUCE'
        names = re.sub(r"\bAnd\b", "and", names.title())
    return names, _tidy_name(outlet), date


def _publisher_lines(lines: list[_Line], source: str) -> list[tuple[int, int, HeaderLine]]:
    """(rank, line number, line) of every line naming the publisher, up to the readers' comments.
    '© 2023 Washington Examiner' -> (1, n, HeaderLine('publisher', '© 2023 Washington Examiner', 'Washington Examiner',
    start, end))"""
    found = []
    started = False  # 'Comments' above the article is a menu item, not the comments
    for i, ln in enumerate(lines):
        if started and _COMMENTS.match(ln.text):
            break
        started = started or len(ln.text.split()) >= 8
        for rank, pattern in _PUBLISHER:
            m = pattern.match(ln.text)
            if m:
                found.append((rank, i, HeaderLine("publisher", source[ln.start:ln.end], _tidy_name(m["v"]),
                                                  ln.start, ln.end)))
        if ln.text.lower() == "about author":  # "About Author\n\nNBC News": the site names itself
            after = next((x for x in lines[i + 1:] if x.text), None)
            if after and len(after.text.split()) <= 4:
                found.append((3, i, HeaderLine("publisher", source[after.start:after.end], after.text,
                                               after.start, after.end)))
    return found


def _tidy_name(name: str) -> str:
    """'WASHINGTON EXAMINER.' -> 'Washington Examiner'; 'Benzinga APIs' -> 'Benzinga'; 'Bloomberg L.P.' kept.
    Words of up to three letters stay in capitals when the name is shouted: 'ABC NEWS' -> 'ABC News'."""
    name = re.sub(r"\s+(?:APIs?|Data|Feeds?)$", "", name.strip(" ,"))  # the outlet, not its product
    last = name.split()[-1] if name else ""
    if last.endswith(".") and last.count(".") == 1 and last not in ("Inc.", "Co.", "Ltd.", "Corp."):
        name = name[:-1]
    if name.isupper():
        name = " ".join(w if len(w) <= 3 else w.capitalize() for w in name.split())
    return name


def _is_paragraph(line: str) -> bool:
    """A paragraph of the body, not a headline: 8+ words ending a sentence, or 30+ words.
    'Xi met Putin in Moscow on Monday for talks.' -> True; 'Xi meets Putin: what to expect?' -> False"""
    words = len(line.split())
    return words >= 30 or (words >= 8 and bool(re.search(r"[.…][\"”’)\]]*$", line)))


def _is_shouting(line: str) -> bool:
    """ALL-CAPS link teasers such as 'XI ARRIVES IN MOSCOW FOR MEETING WITH PUTIN'."""
    words = re.findall(r"[A-Za-z]+", line)
    return len(words) >= 3 and line.upper() == line and not line.endswith((".", "”", '"'))


def _is_label(line: str) -> bool:
    """Section labels and gallery captions: 'World News', 'Russia China Leaders Without Limits'.
    Short, no sentence punctuation, every word capitalised; only dropped once a title has been seen."""
    words = line.split()
    return len(words) <= 6 and not re.search(r"[.!?:”\"’]$", line) and all(w[:1].isupper() for w in words)


def _looks_like_title(line: str) -> bool:
    return len(line.split()) >= 4 and not line.endswith((".", ":")) and len(line) <= 200


def _is_heading(line: str) -> bool:
    """A short first line over the body, no sentence punctuation at its end: an encyclopedia entry's name
    ('Apollo 11', 'NASA', 'Soyuz (spacecraft)'), the title when no longer headline-like line comes first."""
    return len(line.split()) <= 8 and len(line) <= 80 and line[:1].isupper() and not re.search(r"[.!?:;,]$", line)


class _HTMLText(HTMLParser):
    """Collects visible text as lines, plus <title>, og:site_name, author and publish-date metadata."""

    SKIP = {"script", "style", "noscript", "nav", "footer", "header", "aside", "form", "svg", "iframe"}
    BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "blockquote"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.meta: dict[str, str] = {}
        self.depth = 0  # inside skipped elements
        self.in_title = False
        self.title = ""
        self.in_h1 = False
        self.h1 = ""  # the on-page headline beats <title>, which often carries ' | Site Name'

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or "").lower()
            target = {"og:site_name": "publisher", "author": "byline", "article:published_time": "date",
                      "og:title": "title"}.get(key)
            if target and a.get("content"):
                self.meta.setdefault(target, a["content"].strip())
        if tag in self.SKIP:
            self.depth += 1
        if tag == "title":
            self.in_title = True
        if tag == "h1" and not self.h1:
            self.in_h1 = True
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.depth:
            self.depth -= 1
        if tag == "title":
            self.in_title = False
        if tag == "h1":
            self.in_h1 = False
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        elif not self.depth:
            self.parts.append(data)
            if self.in_h1:
                self.h1 += data


def html_to_text(page: str) -> tuple[str, dict[str, str]]:
    """The article of a web page and its metadata, by trafilatura (main-content extraction, offline);
    pages where it finds no article fall back to all visible text.

    '<title>T</title><article><p>A &amp; B ...</p></article>' -> ('A & B ...', {'title': 'T', ...})
    """
    try:
        import trafilatura

        found = trafilatura.bare_extraction(page, with_metadata=True, include_comments=False, include_tables=True,
                                            deduplicate=False)
    except Exception:  # a page it cannot parse is still a page: fall back below
        found = None
    if found is not None and not isinstance(found, dict):
        found = found.as_dict()
    text, meta = _visible_text(page)
    if not text.strip():  # nothing outside nav, header, footer and scripts: its fallback would return the menu
        return "", meta
    if found and (found.get("text") or "").strip():
        for key, field in (("title", "title"), ("author", "byline"), ("date", "date"), ("sitename", "publisher")):
            if found.get(key):
                meta[field] = " ".join(str(found[key]).split())
        text = found["text"]
    return text, meta


def _visible_text(page: str) -> tuple[str, dict[str, str]]:
    """'<title>T</title><p>A &amp; B</p>' -> ('\nA & B\n', {'title': 'T'})"""
    parser = _HTMLText()
    parser.feed(page)
    meta = parser.meta
    title = " ".join((parser.h1 or parser.title).split())
    site = meta.get("publisher", "")
    title = re.sub(r"\s+[|–—-]\s+[^|–—-]+$", "", title) if (" | " in title or (site and title.endswith(site))) else title
    if title:
        meta.setdefault("title", title)
    return "".join(parser.parts), meta


def markdown_to_text(md: str) -> str:
    """'# Title\\n**bold** [link](http://x)' -> 'Title\\nbold link'"""
    md = re.sub(r"^#{1,6}\s*", "", md, flags=re.M)
    md = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", md)
    md = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", md)
    md = re.sub(r"(\*\*|__|\*|_|`)(.+?)\1", r"\2", md)
    return html.unescape(md)


def _in_markdown(line: HeaderLine, md: str) -> HeaderLine:
    """A header line of the rendered markdown -> the markdown line it was rendered from, -1/-1 when none is.
    HeaderLine('title', 'Kirby speaks', ...) in '# Kirby speaks\\n...' -> text '# Kirby speaks', start 0, end 14"""
    want = " ".join(line.text.split())
    for ln in _split_lines(md):
        if ln.text and " ".join(markdown_to_text(ln.text).split()) == want:
            return replace(line, text=md[ln.start:ln.end], start=ln.start, end=ln.end)
    at = md.find(line.text) if line.start >= 0 else -1  # part of a line, as a dateline is, written without markup
    return replace(line, start=at, end=at + len(line.text) if at >= 0 else -1)


def _in_html(line: HeaderLine, page: str) -> HeaderLine:
    """A header line -> where the page's body writes it as the whole text of an element; -1/-1 when only its
    metadata does. 'Lois Lane' of <meta name="author"> -> -1/-1; 'By Jo Roe' of '<p>By Jo Roe</p>' -> its offsets"""
    body = re.search(r"<body\b", page, re.I)  # the <title> in the head is not on the page
    begin = body.end() if body else 0
    # The line as extracted, else the bare value: a title from <meta> is often the <h1> too.
    for want in dict.fromkeys((line.text, line.value)):
        for form in dict.fromkeys((want, html.escape(want, quote=False))):  # 'A & B' is written 'A &amp; B'
            words = form.split()
            if not words:
                continue
            m = re.compile(r"(?<=>)\s*(" + r"\s+".join(map(re.escape, words)) + r")\s*(?=<)").search(page, begin)
            if m:
                return replace(line, text=m[1], start=m.start(1), end=m.end(1))
    return replace(line, start=-1, end=-1)
