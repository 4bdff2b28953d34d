"""Check eval/quotes/*/gold.jsonl against the cleaned articles and print counts.

Every line must be a JSON object with doc, speaker, sentence, kind (person|organisation) and how
(direct|reported|pronoun), optional note; its doc must be a Document.doc_id of the corpus and its sentence an exact
substring of that Document.text. Exits 1 and names each bad line otherwise.
Run from the repository root:  .venv/bin/python eval/quotes/check_gold.py
"""
import json
import sys
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
warnings.simplefilter("ignore")
from eval.speakers import gold_sets  # noqa: E402
from rag.corpus import load_corpus  # noqa: E402

FIELDS = {"doc", "speaker", "sentence", "kind", "how"}


def check(name: str, corpus: Path) -> int:
    docs = {d.doc_id: d for d in load_corpus(corpus)}
    bad, rows, seen = 0, [], set()
    for n, line in enumerate((HERE / name / "gold.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        row = json.loads(line)
        problems = []
        if not FIELDS <= row.keys() or not row.keys() <= FIELDS | {"note"}:
            problems.append(f"fields {sorted(row)}")
        if row.get("kind") not in ("person", "organisation"):
            problems.append(f"kind {row.get('kind')!r}")
        if row.get("how") not in ("direct", "reported", "pronoun"):
            problems.append(f"how {row.get('how')!r}")
        doc = docs.get(row.get("doc"))
        if doc is None:
            problems.append(f"unknown doc {row.get('doc')!r}")
        elif row.get("sentence", "") not in doc.text:
            problems.append(f"sentence not in Document.text: {row.get('sentence')!r}")
        key = (row.get("doc"), row.get("speaker"), row.get("sentence"))
        if key in seen:
            problems.append("duplicate (doc, speaker, sentence)")
        seen.add(key)
        for p in problems:
            print(f"{name}/gold.jsonl:{n}: {p}")
        bad += bool(problems)
        rows.append(row)
    kinds = Counter(r["kind"] for r in rows)
    hows = Counter(r["how"] for r in rows)
    speakers = {(r["kind"], r["speaker"]) for r in rows}
    notes = sum("note" in r for r in rows)
    borderline = sum(r.get("note", "").startswith("borderline") for r in rows)
    print(f"{name}: {len(rows)} statements in {len({r['doc'] for r in rows})}/{len(docs)} docs; "
          f"person {kinds['person']}, organisation {kinds['organisation']}; "
          f"direct {hows['direct']}, reported {hows['reported']}, pronoun {hows['pronoun']}; "
          f"distinct speakers: {sum(k == 'person' for k, _ in speakers)} persons, "
          f"{sum(k == 'organisation' for k, _ in speakers)} organisations; "
          f"{notes} with a note ({borderline} borderline)")
    return bad


if __name__ == "__main__":
    sys.exit(1 if sum(check(name, corpus) for name, (_, corpus) in gold_sets().items()) else 0)
