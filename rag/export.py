"""An Answer as a Markdown file to take away: markers become numbered footnotes holding each exact quote
(as a block quote, byte for byte) and its article's title, publisher, date and file name.

    to_markdown(answer, {"kirby": "kirby.txt"}) ->
    '## What did Kirby say?\\n\\nThey have grown closer.[^1]\\n\\n[^1]: Title · NBC News · 2023-03-21 · kirby.txt\\n\\n    > ...'
"""
from __future__ import annotations

import re

from .cite import MARKER  # the one marker pattern: '[1]' and '[1, 2]' alike
from .terms import marker_numbers
from .types import Answer

_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>])")


def md_text(s: str) -> str:
    """Metadata shown as typed in any Markdown renderer: '*Evil* [x](y)' -> '\\*Evil\\* \\[x\\]\\(y\\)'.
    Whitespace is collapsed so a title cannot start a line of its own (a fake footnote, a heading)."""
    return _SPECIALS.sub(r"\\\1", " ".join(s.split()))


def to_markdown(answer: Answer, files: dict[str, str] | None = None) -> str:
    """The answer text with [n] -> [^n] for cited n (uncited markers are dropped, as the chat shows them as text),
    then one footnote per cited passage: its source line and every quote cited from it, indented block quotes."""
    files = files or {}
    lines = [f"## {md_text(answer.question)}", ""]
    cited = sorted({c.n for c in answer.citations})
    text = MARKER.sub(lambda m: "".join(f"[^{n}]" for n in marker_numbers(m.group(1)) if n in cited),
                      answer.text)
    lines += [text.strip(), ""]
    notes = []
    if getattr(answer, "note", ""):
        notes.append(md_text(answer.note))
    if answer.scope:
        notes.append(f"Searched {answer.scope}.")
    if answer.searched and answer.searched != answer.question:
        notes.append(f"Searched for: {md_text(answer.searched)}")
    if notes:
        lines += [f"*{' '.join(notes)}*" if len(notes) == 1 else "\n".join(f"- {n}" for n in notes), ""]
    for n in cited:
        cites = [c for c in answer.citations if c.n == n]
        chunk = cites[0].chunk
        source = " · ".join(md_text(x) for x in (chunk.title, chunk.publisher, chunk.date, files.get(chunk.doc_id, ""))
                            if x)
        lines += [f"[^{n}]: {source}", ""]
        for quote in dict.fromkeys(c.quote for c in cites):
            lines += ["    > " + line if line else "    >" for line in quote.split("\n")]
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def quotes(markdown: str) -> list[str]:
    """The quotes of a to_markdown() file, exactly as cited: the inverse of its block quotes."""
    out, current = [], None
    for line in markdown.split("\n"):
        if line.startswith("    >"):
            part = line[len("    > "):] if line.startswith("    > ") else ""
            current = part if current is None else current + "\n" + part
        elif current is not None:
            out.append(current)
            current = None
    if current is not None:
        out.append(current)
    return out
