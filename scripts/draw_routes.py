"""Draw docs/routes.svg from the code: the kinds rag.route reads, each with its example (route.py's table) and
the handler rag.kinds.HANDLERS gives it. Run after adding a kind: .venv/bin/python scripts/draw_routes.py"""
from __future__ import annotations

import re
import sys
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag import route  # noqa: E402
from rag.kinds import HANDLERS  # noqa: E402

WIDTH, ROW = 980, 34


def examples() -> dict[str, tuple[str, str]]:
    """kind -> (example question, what it gets), from the table in rag/route.py's docstring."""
    out = {}
    for line in (route.__doc__ or "").splitlines():
        m = re.match(r"\s{4}(\w+)\s+(.+?)\s{2,}(.+)$", line)
        if m and m.group(1) in route.KINDS:
            out[m.group(1)] = (m.group(2).strip(), m.group(3).strip())
    return out


def box(x: int, y: int, w: int, h: int, text: str, fill: str, note: str = "", rx: int = 6) -> str:
    parts = [f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="{rx}" fill="{fill}" stroke="#555"/>',
             f'<text x="{x + w / 2}" y="{y + h / 2 + 5}" text-anchor="middle">{escape(text)}</text>']
    if note:
        parts.append(f'<text x="{x + w + 14}" y="{y + h / 2 + 5}" fill="#333">{escape(note)}</text>')
    return "\n".join(parts)


def arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#555" marker-end="url(#a)"/>'


def draw() -> str:
    ex = examples()
    out, y = [], 20
    steps = [("question (+ chat history)", "#e8f0fe", "rag.followup: a follow-up becomes a standalone question"),
             ("route", "#fff7e0", "rag.route: its kind and parts, read once (a frozen Route)"),
             ("search", "#f1f3f4", "rag.turn / rag.retrieve: dense + BM25 fused (two_part: once per part)"),
             ("refused before the model?", "#fde8e8", "rag.refusal: a name no article mentions, no passage")]
    for i, (text, fill, note) in enumerate(steps):
        out.append(box(20, y, 300, 40, text, fill, note))
        out.append(arrow(170, y + 40, 170, y + 58))
        y += 60
    out.append(f'<text x="20" y="{y + 8}" font-weight="bold">rag.kinds.HANDLERS[route.kind]</text>')
    y += 20
    for kind in route.KINDS:
        handler = HANDLERS[kind]
        example, gets = ex.get(kind, ("", ""))
        out.append(box(20, y, 120, ROW - 6, kind, "#e6f4ea"))
        out.append(f'<text x="152" y="{y + 19}" font-size="12">{escape(example)}</text>')
        out.append(f'<text x="520" y="{y + 19}" font-size="12" fill="#333">{escape(gets)}</text>')
        out.append(f'<text x="{WIDTH - 20}" y="{y + 19}" font-size="11" fill="#777" text-anchor="end">'
                   f'{escape(handler.__module__)}.{escape(handler.__name__)}</text>')
        y += ROW
    y += 10
    out.append(f'<text x="20" y="{y}" font-size="12" fill="#333">A verbatim kind (speaker, survey, quoted, said) '
               f'that finds no sentence answering hands the question to rag.kinds.model.</text>')
    y += 16
    tail = [("model answers from the passages", "#f1f3f4", "rag.prompt, rag.generate (Evidence shown first)"),
            ("every sentence checked", "#f1f3f4", "rag.cite reports; rag.refusal decides (second pass: rag.second_pass)"),
            ("Answer", "#e8f0fe", "text with [n] markers, exact quotes, reason and note when refused")]
    for i, (text, fill, note) in enumerate(tail):
        out.append(box(20, y, 300, 40, text, fill, note))
        if i < len(tail) - 1:
            out.append(arrow(170, y + 40, 170, y + 58))
        y += 60
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{y}" '
            'font-family="DejaVu Sans, Arial, sans-serif" font-size="13">\n'
            '<defs><marker id="a" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">'
            '<path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>\n<rect width="100%" height="100%" fill="white"/>')
    return head + "\n" + "\n".join(out) + "\n</svg>\n"


if __name__ == "__main__":
    target = ROOT / "docs" / "routes.svg"
    target.write_text(draw(), encoding="utf-8")
    print(f"wrote {target}")
