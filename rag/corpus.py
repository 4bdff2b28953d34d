"""Files -> Documents: read .txt/.md/.html in any encoding, strip web boilerplate, pull out title, publisher, date, byline."""
from __future__ import annotations

import html
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

from .errors import CorpusError
from .types import Document

SUFFIXES = (".txt", ".md", ".html", ".htm")
MAX_BYTES = 5_000_000  # a news article is ~10-100 kB; a bigger file is a dump or a mistake, not an article

# A line matching one of these starts the page footer (comments, related links, site blurb): cut it and all after.
_FOOTER = re.compile(
    r"^(\d+\s+comments?|comments?|leave a (reply|comment)|related( content| articles| posts)?|"
    r"about( the)? author|source link|posted in:.*|market news and data brought to you by.*|©.*|"
    r"copyright ©?.*|share this( article)?:?|you may also like|recommended)$",
    re.I,
)
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
_MONTH = r"(Jan(uary)?|Feb(ruary)?|Mar(ch)?|Apr(il)?|May|June?|July?|Aug(ust)?|Sep(t(ember)?)?|Oct(ober)?|Nov(ember)?|Dec(ember)?)"
_DATE = re.compile(rf"^({_MONTH}\.? \d{{1,2}}, \d{{4}}|\d{{1,2}} {_MONTH} \d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})$")
_BYLINE = re.compile(r"^By ([A-Z][\w.’' -]+)$")
_PUBLISHER = [  # (pattern on a raw line, group holding the publisher)
    re.compile(r"^©\s*\d{4}\s+(.+)$"),
    re.compile(r"^Market News and Data brought to you by (\w+)", re.I),
]
_BULLET = re.compile(r"^[•·*\-–]\s+")


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
    """One file -> Document, or None (with a warning naming the file) when empty, binary, too big or not text."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return _skip(path, f"{size / 1e6:.1f} MB, over the {MAX_BYTES / 1e6:.0f} MB limit for one article")
        raw = path.read_bytes()
    except OSError as e:
        return _skip(path, f"unreadable ({e.strerror})")
    if b"\x00" in raw[:8192] and raw[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        return _skip(path, "binary file")
    text = decode(raw)
    if text is None:
        return _skip(path, "not text in any encoding charset-normalizer knows")
    meta: dict[str, str] = {}
    if path.suffix.lower() in (".html", ".htm"):
        text, meta = html_to_text(text)
    elif path.suffix.lower() == ".md":
        heading = re.search(r"^#\s+(.+)$", text, flags=re.M)
        if heading:
            meta["title"] = " ".join(markdown_to_text(heading.group(1)).split())
        text = markdown_to_text(text)
    doc = clean(text, doc_id=path.stem, path=str(path), meta=meta)
    if not doc.text.strip():
        return _skip(path, "no article text")
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

    "Connect with us\\n\\nChina's Xi reaffirms support\\n\\nBody.\\n\\nLeave a Reply\\n..." ->
    Document(title="China's Xi reaffirms support", text="Body.")
    """
    meta = dict(meta or {})
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
    for i, line in enumerate(lines):  # publisher lines sit in the footer we are about to cut
        for pattern in _PUBLISHER:
            m = pattern.match(line)
            if m and not meta.get("publisher"):
                meta["publisher"] = m.group(1).strip()
        if line.lower() == "about author":  # "About Author\n\nNBC News": the site names itself
            after = next((x for x in lines[i + 1:] if x), "")
            if 0 < len(after.split()) <= 4:
                meta.setdefault("publisher", after)
    kept: list[str] = []
    seen: set[str] = set()
    by_dated = False
    for line in lines:
        if _FOOTER.match(line) and kept:
            break
        line = _CAPTION.sub("", _BULLET.sub("", line))
        if len(re.sub(r"\W", "", line)) < 2 or _JUNK.match(line) or _is_shouting(line):
            continue
        if _DATE.match(line):
            if "date" not in meta or (meta.get("byline") and not by_dated):  # the date under a byline wins
                meta["date"], by_dated = line, bool(meta.get("byline"))
            continue
        m = _BYLINE.match(line)
        if m:
            meta.setdefault("byline", m.group(1))
            continue
        if _is_label(line) and (meta.get("title") or any(map(_looks_like_title, kept))):
            continue
        if line in seen:  # headlines repeated for layout
            continue
        seen.add(line)
        kept.append(line)
    title = (meta.get("title") or next((line for line in kept if _looks_like_title(line)), "")
             or (kept[0] if len(kept) > 1 and _is_heading(kept[0]) else doc_id))
    body = [line for line in kept if line != title]
    return Document(
        doc_id=doc_id, title=title, text="\n\n".join(body), path=path,
        publisher=meta.get("publisher", ""), date=meta.get("date", ""), byline=meta.get("byline", ""),
    )


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
