"""Two eval runs, question by question: which answers, refusals, reasons, notes or citations differ.

    python -m eval.compare before/results.json after/results.json     # exit 1 when any answer differs

The gate of a refactor: record the model's replies once (`rag eval --replay FILE`), run the changed engine
with the same file, and compare; a change after the model then shows here word for word.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

FIELDS = ("answer", "refused", "reason", "note", "searched", "citations")


def rows(path: Path) -> dict[tuple[str, str, str], dict]:
    """(set, setting, question id) -> the compared fields of its row."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    out = {}
    for setting in doc["settings"]:
        for row in setting["rows"]:
            key = (setting.get("qset", ""), f"{setting['model']} / {setting['retrieval']}", row["id"])
            out[key] = {f: row.get(f) for f in FIELDS}
    return out


def differences(before: Path, after: Path) -> tuple[list[str], int]:
    """Lines describing each differing question, and how many questions both runs hold."""
    a, b = rows(before), rows(after)
    common = [k for k in a if k in b]
    lines = []
    for key in common:
        changed = [f for f in FIELDS if a[key][f] != b[key][f]]
        if changed:
            lines.append(f"{key[0] or '-'} {key[2]}: {', '.join(changed)} differ")
            for f in changed:
                lines.append(f"  before {f}: {json.dumps(a[key][f], ensure_ascii=False)[:400]}")
                lines.append(f"  after  {f}: {json.dumps(b[key][f], ensure_ascii=False)[:400]}")
    missing = sorted(set(a) ^ set(b))
    lines += [f"{k[0] or '-'} {k[2]}: in one run only" for k in missing]
    return lines, len(common)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m eval.compare BEFORE/results.json AFTER/results.json", file=sys.stderr)
        return 2
    try:
        lines, common = differences(Path(args[0]), Path(args[1]))
    except (OSError, ValueError, KeyError) as e:
        print(f"eval.compare: cannot read the results: {e}", file=sys.stderr)
        return 2
    print("\n".join(lines) if lines else f"identical: {common} questions, every answer, refusal, reason, note "
                                          "and citation the same")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
