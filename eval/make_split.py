"""Write eval/split.json: a fixed dev/test split of the news question sets (stdlib only).

    python eval/make_split.py            # from the repository root

Rule, deterministic and reproducible:
1. Questions are grouped: a follow-up goes with the question that opens its
   conversation (a question in the sets whose text equals one of its `history`
   turns, or the anchor listed in ANCHORS), and two questions that ask for the same
   fact are grouped the same way (ANCHORS). A group is placed as one unit.
2. Groups holding a question already seen by the developers (the seven in issue 7,
   and the older questions that ask for the same fact, SEEN_SAME) go to dev.
3. The other groups are taken in order of (type of the anchor, sha256 of its id), and
   each goes to the part (dev or test) where its questions are fewer so far, counted
   per `type` and per first tag (older questions have no tags); on a tie, groups at
   even positions go to dev and odd ones to test.
4. The questions of DEV_ONLY (written later, to tune on kinds of failure the dev part
   no longer held) all go to dev, placed after everything else, so that adding them
   moves no question of the first two files between dev and test.
The second corpus (eval/wiki/) is held out entirely and is not in the split.
"""
import hashlib
import json
from pathlib import Path

EVAL = Path(__file__).resolve().parent
DEV_ONLY = EVAL / "questions_dev.jsonl"
FILES = [EVAL / "questions.jsonl", EVAL / "questions_new.jsonl", DEV_ONLY]
OUT = EVAL / "split.json"

SEEN = [
    "What position does John Kirby hold?",
    "What is the United States worried that Beijing could give Russia?",
    "Which country was Xi set to visit on a state visit before meeting Putin at the SCO summit?",
    "In which city did Mishustin speak at a business forum?",
    "How many points are in Beijing's peace proposal?",
    "What did Xi and Putin call each other?",
    "Which summit's joint communique called out China and Russia?",
]
# Older questions asking for the same fact as one of the seven: dev as well.
SEEN_SAME = ["aff-kirby", "num-peace-plan-points", "place-business-forum"]
# Questions that go wherever their anchor goes: follow-ups whose opening turn is not
# itself a question in the sets, and pairs that ask for the same fact.
ANCHORS = {"fu-glaser-based": "aff-glaser", "new-unans-fu-yang-tenure": "aff-yang-jiechi",
           "conflict-over-four-and-half": "conflict-talks-length",
           "new-alias-russian-pm-li": "new-role-li-qiang"}


def h(qid):
    return hashlib.sha256(qid.encode("utf-8")).hexdigest()


def main():
    qs, later = [], []
    for f in FILES:
        rows = [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
        (later if f == DEV_ONLY else qs).extend(rows)
    by_id = {q["id"]: q for q in qs}
    by_text = {q["question"]: q["id"] for q in qs if "history" not in q}

    anchor = {}
    for q in qs:
        for m in q.get("history", []):
            if m["content"] in by_text:
                anchor[q["id"]] = by_text[m["content"]]
                break
    anchor.update(ANCHORS)

    def root(qid):
        while qid in anchor:
            qid = anchor[qid]
        return qid

    groups = {}
    for q in qs:
        groups.setdefault(root(q["id"]), []).append(q["id"])

    forced = {by_text[t] for t in SEEN} | set(SEEN_SAME)
    counts = {}  # (kind, value) -> {"dev": n, "test": n}

    def keys(qid):
        q = by_id[qid]
        return [("type", q["type"]), ("tag", (q.get("tags") or ["-"])[0])]

    split = {}
    def place(members, part):
        for m in members:
            split[m] = part
            for k in keys(m):
                counts.setdefault(k, {"dev": 0, "test": 0})[part] += 1

    for r, members in sorted(groups.items(), key=lambda g: h(g[0])):
        if forced & set(members):
            place(members, "dev")
    rest = sorted((r for r in groups if r not in split), key=lambda r: (by_id[r]["type"], h(r)))
    for i, r in enumerate(rest):
        members = groups[r]
        cost = {part: sum(counts.get(k, {}).get(part, 0) for m in members for k in keys(m))
                for part in ("dev", "test")}
        if cost["dev"] != cost["test"]:
            place(members, "dev" if cost["dev"] < cost["test"] else "test")
        else:
            place(members, "dev" if i % 2 == 0 else "test")

    for q in later:
        by_id[q["id"]] = q
        place([q["id"]], "dev")

    out = {"dev": sorted(i for i, p in split.items() if p == "dev"),
           "test": sorted(i for i, p in split.items() if p == "test")}
    OUT.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"dev {len(out['dev'])}, test {len(out['test'])}")
    for k in sorted(counts):
        print(f"  {k[0]:4s} {k[1]:13s} dev {counts[k]['dev']:2d}  test {counts[k]['test']:2d}")


if __name__ == "__main__":
    main()
