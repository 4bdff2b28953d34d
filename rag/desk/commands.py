"""`rag quotes | coverage TOPIC | timeline | differences`: the desk's views on the command line, as text,
--json, --csv or --markdown. None of them loads the language model."""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from .export import records, to_csv, to_markdown

VIEWS = ("quotes", "coverage", "timeline", "differences")


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    out = argparse.ArgumentParser(add_help=False)
    fmt = out.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="the rows as JSON")
    fmt.add_argument("--csv", action="store_true", help="the rows as CSV (exact sentences, article, offset)")
    fmt.add_argument("--markdown", action="store_true", help="the rows as a Markdown table")
    q = sub.add_parser("quotes", parents=[common, out], help="every statement the articles attribute to someone")
    q.add_argument("--speaker", default="", help="only this person (any part of the name)")
    q.add_argument("--article", default="", help="only this article (id, or words of its title)")
    q.add_argument("--word", default="", help="only statements holding this word or phrase")
    c = sub.add_parser("coverage", parents=[common, out], help="what each article says of a topic")
    c.add_argument("topic")
    sub.add_parser("timeline", parents=[common, out], help="dated events across the articles, oldest first")
    sub.add_parser("differences", parents=[common, out], help="figures the articles give differently")
    for name in VIEWS:
        sub.choices[name].set_defaults(run=run)


def run(args, config) -> int:
    from ..pipeline import Pipeline
    from .views import Desk

    desk = Desk(Pipeline(config))
    if args.command == "quotes":
        rows, title = desk.quotes(args.speaker, args.article, args.word), "Quotes"
    elif args.command == "coverage":
        rows, title = desk.coverage(args.topic), f"Coverage: {args.topic}"
    elif args.command == "timeline":
        rows, title = desk.timeline(), "Timeline"
    else:
        rows, title = desk.differences(), "Differences"
    if args.json:
        print(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=1))
    elif args.csv:
        print(to_csv(records(rows)), end="")
    elif args.markdown:
        print(to_markdown(records(rows), title))
    elif not rows:
        index = desk.pipeline.index
        print(f"nothing to list: {empty_reason(args.command, len(index.chunks), len(index.articles))}")
    else:
        print(as_text(rows))
    return 0


def empty_reason(view: str, passages: int, articles: int = 0) -> str:
    """Why a view is empty, in one line (an empty view is an answer, never an error)."""
    if not passages:
        return "the index holds no articles"
    if view == "differences" and articles == 1:
        return "only one article is indexed: there is no other to differ from"
    return {
        "quotes": "no sentence of the articles is attributed to a named speaker",
        "coverage": "no article has a sentence about that topic",
        "timeline": "no sentence gives a date the articles let us place (relative days need the article's date)",
        "differences": "no two articles give different figures for the same thing",
    }[view]


def as_text(rows) -> str:
    """Rows as a reader scans them: grouped under their speaker / article / date / quantity, each sentence
    exactly as the article has it (its own quote marks), then where it is."""
    out, head = [], None
    for r in records(rows):
        if "speaker" in r:
            group, text = f"{r['speaker']}" + (f" ({r['role']})" if r["role"] else ""), r["quote"]
        elif "figure" in r:
            group, text = f"{r['unit']} ({r['about']})", f"{r['figure']}: {r['sentence']}"
        elif "when" in r:
            group, text = r["when"], f"[{r['date_words']}] {r['sentence']}"
        else:
            group, text = " · ".join(x for x in (r["publisher"], r["article"]) if x), r["sentence"]
        if group != head:
            out.append(("\n" if out else "") + group)
            head = group
        source = " · ".join(x for x in (r["article"], r["publisher"], r.get("date") or r.get("article_date")) if x)
        out.append(f"  {text}\n      {source} [{r['doc_id']} @{r['offset']}]")
    return "\n".join(out)
