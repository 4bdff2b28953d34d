"""Check the evaluation question sets and the dev/test split (stdlib only).

    python eval/check_data.py            # from the repository root

Checks every question file below against its corpus: each line parses, ids are
unique across all files, required fields are present and typed, each evidence
span is an exact single-line substring of the named document, `evidence` and
`evidence_docs` have the same length, each keyword entry (or one of its
alternatives) occurs in `answer`, and `answerable` is false exactly for type
`unanswerable`, with empty keywords and evidence. Then checks `split.json`.
Exits with status 1 if anything is flagged.
"""
import json
import sys
from pathlib import Path

EVAL = Path(__file__).resolve().parent
ROOT = EVAL.parent

# (question file, corpus folder, whether a `tags` field is required)
SETS = [
    (EVAL / "questions.jsonl", ROOT / "corpus", False),
    (EVAL / "questions_new.jsonl", ROOT / "corpus", True),
    (EVAL / "questions_dev.jsonl", ROOT / "corpus", True),
    (EVAL / "wiki" / "questions.jsonl", EVAL / "wiki" / "corpus", True),
]
SPLIT = EVAL / "split.json"
try:  # the seven questions the developers saw, and the split's files: defined once, in make_split
    from .make_split import FILES as SPLIT_SETS, SEEN
except ImportError:  # run as a script: python3 eval/check_data.py
    from make_split import FILES as SPLIT_SETS, SEEN

TYPES = {"who-said", "affiliation", "number", "date", "place", "multi-doc",
         "conflict", "follow-up", "unanswerable"}
REQUIRED = {"id": str, "question": str, "answerable": bool, "answer": str,
            "keywords": list, "evidence": list, "evidence_docs": list, "type": str}
REFUSAL = "The articles don't say."

problems = []


def flag(where, msg):
    problems.append(f"{where}: {msg}")


def load(path):
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            flag(f"{path.name}:{n}", "blank line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            flag(f"{path.name}:{n}", f"does not parse: {e}")
            continue
        if not isinstance(obj, dict):
            flag(f"{path.name}:{n}", "not a JSON object")
            continue
        rows.append((n, obj))
    return rows


def check_question(where, q, corpus, need_tags, docs_cache):
    for field, typ in REQUIRED.items():
        if field not in q:
            flag(where, f"missing field {field!r}")
            return
        if not isinstance(q[field], typ):
            flag(where, f"field {field!r} should be {typ.__name__}")
            return
    if q["type"] not in TYPES:
        flag(where, f"unknown type {q['type']!r}")
    if need_tags:
        tags = q.get("tags")
        if not (isinstance(tags, list) and tags and all(isinstance(t, str) for t in tags)):
            flag(where, "missing or empty `tags` list")
    if "history" in q:
        h = q["history"]
        if not (isinstance(h, list) and h and all(
                isinstance(m, dict) and m.get("role") in ("user", "assistant")
                and isinstance(m.get("content"), str) and m["content"] for m in h)):
            flag(where, "bad `history` (list of {role, content} messages)")
    elif q["type"] == "follow-up":
        flag(where, "type follow-up without `history`")

    unans = q["type"] == "unanswerable"
    if q["answerable"] == unans:
        flag(where, "answerable must be false exactly for type unanswerable")
    if unans or not q["answerable"]:
        if q["keywords"] or q["evidence"] or q["evidence_docs"]:
            flag(where, "unanswerable question with non-empty keywords/evidence/evidence_docs")
        if q["answer"] != REFUSAL:
            flag(where, f"unanswerable answer should be {REFUSAL!r}")
        return

    if not q["evidence"]:
        flag(where, "answerable question without evidence")
    if not q["keywords"]:
        flag(where, "answerable question without keywords")
    if len(q["evidence"]) != len(q["evidence_docs"]):
        flag(where, "evidence and evidence_docs differ in length")
    for span, doc in zip(q["evidence"], q["evidence_docs"]):
        if not isinstance(span, str) or not isinstance(doc, str) or not span.strip():
            flag(where, "evidence spans and doc ids must be non-empty strings")
            continue
        if "\n" in span or "\r" in span:
            flag(where, f"evidence span contains a line break: {span[:50]!r}")
        if doc not in docs_cache:
            p = corpus / f"{doc}.txt"
            docs_cache[doc] = p.read_text(encoding="utf-8") if p.exists() else None
        text = docs_cache[doc]
        if text is None:
            flag(where, f"no document {doc!r} in {corpus}")
        elif span not in text:
            flag(where, f"evidence not found verbatim in {doc}: {span[:60]!r}")
        elif text.split("\n", 1)[0] and span in text.split("\n", 1)[0] and span not in text.split("\n", 1)[1]:
            flag(where, f"evidence only in the title line of {doc}: {span[:60]!r}")
    if len(set(q["evidence_docs"])) < 2 and q["type"] in ("multi-doc", "conflict"):
        # allowed (sources inside one article can disagree), but worth a look
        print(f"note  {where}: {q['type']} question with evidence from one document")

    answer = q["answer"].lower()
    for entry in q["keywords"]:
        alts = entry if isinstance(entry, list) else [entry]
        if not alts or not all(isinstance(s, str) and s for s in alts):
            flag(where, f"bad keyword entry {entry!r}")
            continue
        if not any(s.lower() in answer for s in alts):
            flag(where, f"keyword entry {entry!r} not in answer")


def check_split(ids_by_file):
    if not SPLIT.exists():
        flag("split.json", "missing")
        return
    split = json.loads(SPLIT.read_text(encoding="utf-8"))
    if set(split) != {"dev", "test"}:
        flag("split.json", "keys must be exactly dev and test")
        return
    dev, test = split["dev"], split["test"]
    for name, part in (("dev", dev), ("test", test)):
        if len(part) != len(set(part)):
            flag("split.json", f"duplicate ids in {name}")
    both = set(dev) & set(test)
    if both:
        flag("split.json", f"ids in both dev and test: {sorted(both)}")
    questions = {}
    for path in SPLIT_SETS:
        questions.update({q["id"]: q for q in ids_by_file.get(path, [])})
    missing = set(questions) - set(dev) - set(test)
    extra = (set(dev) | set(test)) - set(questions)
    if missing:
        flag("split.json", f"ids not in the split: {sorted(missing)}")
    if extra:
        flag("split.json", f"ids in the split that are not in the news sets: {sorted(extra)}")
    where = {i: "dev" for i in dev}
    where.update({i: "test" for i in test})
    by_text = {}
    for q in questions.values():
        if "history" not in q:
            by_text.setdefault(q["question"], []).append(q["id"])
    for text in SEEN:
        for qid in by_text.get(text, []):
            if where.get(qid) != "dev":
                flag("split.json", f"seen question {qid} is not in dev")
        if text not in by_text:
            flag("split.json", f"seen question not found in the sets: {text!r}")
    # a follow-up sits in the same split as a question that repeats its opening turn
    for q in questions.values():
        for m in q.get("history", []):
            for qid in by_text.get(m["content"], []):
                if where.get(qid) != where.get(q["id"]):
                    flag("split.json", f"follow-up {q['id']} and its opening question {qid} are split apart")


def rel(path):
    try:
        return path.relative_to(EVAL)
    except ValueError:
        return path


def main():
    seen_ids = {}
    ids_by_file = {}
    for path, corpus, need_tags in SETS:
        if not path.exists():
            flag(path.name, "missing")
            continue
        docs_cache = {}
        rows = load(path)
        ids_by_file[path] = [q for _, q in rows]
        for n, q in rows:
            where = f"{rel(path)}:{n} {q.get('id', '?')}"
            qid = q.get("id")
            if qid in seen_ids:
                flag(where, f"duplicate id (also in {seen_ids[qid]})")
            seen_ids[qid] = rel(path)
            check_question(where, q, corpus, need_tags, docs_cache)
        print(f"ok    {rel(path)}: {len(rows)} questions read")
    check_split(ids_by_file)
    for p in problems:
        print("FLAG  " + p)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
