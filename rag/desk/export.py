"""A desk view as a table to take away: rows of plain columns, written as CSV or a Markdown table, each row
holding the exact sentence and where it is (article, publisher, date, id, offset in the article's text).

    to_csv(records(quotes)) -> 'speaker,role,quote,article,publisher,date,doc_id,offset\\r\\nJohn Kirby,…'
"""
from __future__ import annotations

import csv
import io
from typing import Sequence

from ..export import md_text
from . import Line
from .coverage import Coverage
from .differences import Difference
from .quotes import Quote
from .timeline import Event

_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a cell a spreadsheet would run as a formula (a hostile article)


def _where(line: Line, date_column: str = "date") -> dict[str, str]:
    return {"article": line.title, "publisher": line.publisher, date_column: line.date, "doc_id": line.doc_id,
            "offset": str(line.offset)}


def records(rows: Sequence[Quote | Coverage | Event | Difference]) -> list[dict[str, str]]:
    """Any view's rows as flat records (a Coverage or a Difference gives one record per sentence)."""
    out: list[dict[str, str]] = []
    for row in rows:
        if isinstance(row, Quote):
            out.append({"speaker": row.speaker, "role": row.role, "quote": row.line.text, **_where(row.line)})
        elif isinstance(row, Coverage):
            out += [{"sentence": line.text, **_where(line)} for line in row.lines]
        elif isinstance(row, Event):
            out.append({"when": row.when, "date_words": row.phrase, "sentence": row.line.text,
                        "worked_out": "yes" if row.resolved else "", **_where(row.line, "article_date")})
        elif isinstance(row, Difference):
            out += [{"unit": row.unit, "about": row.about, "figure": f.value, "sentence": f.line.text, **_where(f.line)}
                    for f in row.figures]
        else:
            raise TypeError(f"not a desk row: {type(row).__name__}")
    return out


def to_csv(records: list[dict[str, str]]) -> str:
    """CSV with a header row; a cell a spreadsheet would read as a formula is prefixed with ' (OWASP's advice),
    the only change to any text."""
    if not records:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(records[0]))
    writer.writeheader()
    for r in records:
        writer.writerow({k: "'" + v if v.startswith(_FORMULA) else v for k, v in r.items()})
    return buf.getvalue()


def to_markdown(records: list[dict[str, str]], title: str) -> str:
    """A Markdown table under a heading; every cell escaped (md_text) and pipes kept out of the layout, so an
    article cannot add rows, links or headings of its own."""
    lines = [f"## {md_text(title)}", ""]
    if not records:
        return "\n".join(lines + ["Nothing to list.", ""])
    head = list(records[0])
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for r in records:
        lines.append("| " + " | ".join(md_text(r[k]) for k in head) + " |")
    return "\n".join(lines) + "\n"
