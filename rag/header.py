"""Questions about an article itself ('Who wrote the article about X?', 'When was it published?', 'Which outlet
ran the story on Y?'), answered from the article's header: the title, byline, date and publisher lines its
file writes (rag.corpus finds them, the index keeps them as `Header`), cited like any passage.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .types import Chunk, Header, HeaderLine

Field = Literal["byline", "date", "publisher"]

_ARTICLE = r"(?:article|story|piece|report|column|op-ed|item|text|news\s+story)"
# what the question names the article by: 'the article about Xi's trip', 'the NBC story', 'this piece'
_WHICH = rf"(?P<about>(?:the|this|that|an?)\s+(?:[\w’'.-]+\s+){{0,3}}?{_ARTICLE}s?\b[^?]*?)"
_OUTLET = (r"(?:outlet|publication|newspaper|paper|website|site|publisher|media\s+outlet|news\s+(?:outlet|site|"
           r"organi[sz]ation|organi[sz]ations|outlets|sites))s?")
_ASKS: list[tuple[Field, re.Pattern]] = [
    ("byline", re.compile(rf"^\s*who\s+(?:wrote|authored|penned|reported|is\s+the\s+author\s+of|was\s+the\s+author\s+of|"
                          rf"are\s+the\s+authors\s+of|were\s+the\s+authors\s+of)\s+{_WHICH}\s*\??\s*$", re.I)),
    ("byline", re.compile(rf"^\s*(?:what\s+is\s+the\s+byline\s+(?:of|on)|whose\s+byline\s+is\s+on)\s+{_WHICH}\s*\??\s*$",
                          re.I)),
    ("date", re.compile(rf"^\s*when\s+(?:was|were)\s+{_WHICH}\s+(?:published|written|posted|released|dated|put\s+out)"
                        rf"\s*\??\s*$", re.I)),
    ("date", re.compile(rf"^\s*(?:what\s+(?:is|was)\s+the\s+(?:date|publication\s+date)\s+of|what\s+date\s+(?:is|was)\s+on)"
                        rf"\s+{_WHICH}\s*\??\s*$", re.I)),
    ("publisher", re.compile(rf"^\s*(?:which|what)\s+{_OUTLET}\s+(?:published|ran|carried|printed|posted|put\s+out)\s+"
                             rf"{_WHICH}\s*\??\s*$", re.I)),
    ("publisher", re.compile(rf"^\s*(?:who|where)\s+(?:published|ran|carried)\s+{_WHICH}\s*\??\s*$", re.I)),
    ("publisher", re.compile(rf"^\s*(?:who|where)\s+(?:was|were)\s+{_WHICH}\s+published\s*\??\s*$", re.I)),
]
_LEADING = re.compile(rf"^(?:the|this|that|an?)\s+(?:[\w’'.-]+\s+){{0,3}}?{_ARTICLE}s?\s*(?:(?:about|on|that|which|"
                      rf"reporting|saying|titled|called|headlined)\s+)?", re.I)


@dataclass(frozen=True)
class Asked:
    """'Who wrote the article about Xi's trip?' -> Asked('byline', "Xi's trip"); the article is found by `about`."""

    field: Field
    about: str  # what the question says of the article, its article words left off ('' for 'this article')


def parse(question: str) -> Asked | None:
    """('Who wrote the NBC article about Xi’s trip?') -> Asked('byline', 'NBC article about Xi’s trip' minus 'the ...
    article about' = 'Xi’s trip'); ('When was the story on sanctions published?') -> Asked('date', 'sanctions');
    ('Who wrote to Putin?') -> None (no article named)"""
    for field, pattern in _ASKS:
        m = pattern.match(question)
        if m:
            whole = m.group("about").strip()
            about = _LEADING.sub("", whole).strip(" ,.")
            return Asked(field, about or whole)
    return None


def passage(header: Header) -> Chunk:
    """The header as a citable passage: its lines as the file writes them, one per line; an article whose file
    writes none of them gives its title alone (from the index)."""
    lines = [h.text for h in header.lines] or [header.title]
    return Chunk(id=f"{header.doc_id}:header", doc_id=header.doc_id, title=header.title, text="\n".join(lines),
                 start=0, end=0, publisher=header.publisher, date=header.date)


def line_for(header: Header, field: Field) -> HeaderLine | None:
    return next((h for h in header.lines if h.field == field), None)


def sentence(field: Field, title: str, value: str, marker: str) -> str:
    """('byline', 'Xi’s trip…', 'Andrea Mitchell and Dan De Luce', '[1]') -> '“Xi’s trip…” is by Andrea Mitchell and Dan De Luce [1].'"""
    verb = {"byline": "is by", "date": "is dated", "publisher": "was published by"}[field]
    return f"“{title}” {verb} {value} {marker}."
