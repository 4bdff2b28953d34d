"""`rag index | ask | search | add | remove | list | quotes | coverage | timeline | differences | eval | chat`: parse flags into a Config, call the API, print; errors are one line."""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from dataclasses import asdict, replace
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable

from . import store
from .config import Config
from .desk import commands as desk_commands
from .errors import RagError


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    warnings.formatwarning = lambda msg, *a, **k: f"warning: {msg}\n"
    try:
        if argv[:1] in (["eval"], ["chat"]):  # commands that live with their users own their flags
            return command(argv[0])(argv[1:])
        args = _parser().parse_args(argv)
        return args.run(args, _config(args))
    except RagError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def command(name: str) -> Callable[[list[str]], int]:
    """`rag chat` is app.main, `rag eval` is eval's main: the package never imports its users; pyproject.toml
    names them in the entry-point group "rag.commands", which installing the project registers."""
    for entry in entry_points(group="rag.commands"):
        if entry.name == name:
            return entry.load()
    raise RagError(f"'rag {name}' is not installed: run scripts/setup (or pip install -e .) in the project")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description="Cited answers from your news articles, offline.")
    sub = p.add_subparsers(dest="command", required=True, metavar="{index,ask,search,add,remove,list,quotes,coverage,timeline,differences,eval,chat}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", type=Path, help="index folder (default: index/ in the project)")
    common.add_argument("--corpus", type=Path, help="folder of .txt/.md/.html articles (default: corpus/)")
    common.add_argument("--retrieval", choices=["hybrid", "dense", "bm25"])
    common.add_argument("-q", "--quiet", action="store_true",
                        help="print only the result and errors (no progress, sources being read or timings)")

    i = sub.add_parser("index", parents=[common], help="build or update the index")
    i.add_argument("corpus_dir", nargs="?", type=Path, help="folder of articles (default: corpus/)")
    i.set_defaults(run=_index)

    for name, run in (("ask", _ask), ("search", _search)):
        a = sub.add_parser(name, parents=[common], help=f"{name} a question")
        a.add_argument("question")
        a.add_argument("-k", type=int, help="passages to retrieve")
        a.add_argument("--model", help="packaged name, .gguf path or 'org/repo:file.gguf'")
        a.add_argument("--json", action="store_true", help="print the result as JSON")
        _add_filter_args(a)
        a.set_defaults(run=run)
    _add_library_parsers(sub, common)
    desk_commands.add_parsers(sub, common)
    sub.add_parser("eval", help="run the eval question set (see rag eval --help)")
    sub.add_parser("chat", help="start the web chat (see rag chat --help)")
    return p


def _config(args) -> Config:
    config = Config().with_env()
    changes = {}
    corpus = getattr(args, "corpus_dir", None) or args.corpus
    if corpus:
        changes["corpus_dir"] = corpus
    if args.index:
        changes.update(index_dir=args.index, index_named=True)
        recorded = store.recorded_corpus(args.index)
        if not corpus and not os.environ.get("RAG_CORPUS_DIR") and recorded:
            changes["corpus_dir"] = recorded  # `rag ask --index X` searches the corpus X was built from
    if args.retrieval:
        changes["retrieval"] = args.retrieval
    if getattr(args, "model", None):
        changes["llm"] = args.model
    if getattr(args, "k", None):
        changes["k"] = args.k
    return replace(config, **changes)


def _index(args, config: Config) -> int:
    from .pipeline import Pipeline

    report = Pipeline(config).reindex(progress=sys.stderr.isatty() and not args.quiet)
    if args.quiet:
        return 0
    if not report.rebuilt:
        print(f"index at {config.index_dir} is up to date: {report.chunks} chunks from {report.unchanged} articles")
        return 0
    print(f"indexed {config.corpus_dir} -> {config.index_dir}: {report.chunks} chunks "
          f"({report.embedded} embedded) in {report.seconds:.1f}s")
    for label, ids in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
        if ids:
            print(f"  {label}: {len(ids)} ({', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''})")
    if report.unchanged:
        print(f"  unchanged: {report.unchanged}")
    return 0


def _ask(args, config: Config) -> int:
    from .pipeline import Pipeline
    from .types import Answer, Evidence

    pipeline = Pipeline(config)
    answer = None
    for piece in pipeline.stream(args.question, where=_where(args)):
        if isinstance(piece, Evidence):
            if not args.json and not args.quiet:  # the sources first, on stderr, while the model reads them
                print(_evidence(piece), file=sys.stderr, flush=True)
        elif isinstance(piece, str):
            if not args.json and not args.quiet and sys.stdout.isatty():
                print(piece, end="", flush=True)
        elif isinstance(piece, Answer):
            answer = piece
    if args.json:
        print(json.dumps(asdict(answer), ensure_ascii=False, indent=1))
        return 0
    if sys.stdout.isatty() and not args.quiet:
        print("\n")  # the streamed draft above; the checked answer follows
    print(answer.text)
    if answer.refused:
        from .refusal import explain

        why = "; ".join(x for x in (explain(answer.reason), answer.note) if x)
        print(f"\n(searched: {answer.searched}{'; why: ' + why if why else ''})")
    elif answer.note:  # beside an answer: a part of the question the articles do not answer
        print(f"\n({answer.note})")
    if answer.scope:
        print(f"\n(searched {answer.scope})")
    for c in answer.citations:
        source = ", ".join(x for x in (c.chunk.title, c.chunk.publisher, c.chunk.date) if x)
        print(f"\n[{c.n}] {source}\n    “{c.quote}”")
    t = answer.timings
    if not args.quiet:
        print(f"\n({t.get('retrieve', 0):.2f}s retrieval, {t.get('first_token', 0):.2f}s to first token, "
              f"{t.get('total', 0):.2f}s total, {answer.prompt_tokens} prompt tokens, {answer.model})", file=sys.stderr)
    return 0


def _evidence(evidence) -> str:
    """'reading 2 passages:' then per passage '[n] title, publisher, date' and its best sentence, quoted."""
    lines = [f"reading {len(evidence.hits)} passage{'s' if len(evidence.hits) != 1 else ''}:"]
    for n, (hit, (start, end)) in enumerate(zip(evidence.hits, evidence.best), 1):
        c = hit.chunk
        lines.append(f"[{n}] " + ", ".join(x for x in (c.title, c.publisher, c.date) if x))
        if end > start:
            lines.append(f"    “{' '.join(c.text[start:end].split())}”")
    return "\n".join(lines) + "\n"


def _search(args, config: Config) -> int:
    from .pipeline import Pipeline

    hits = Pipeline(config).search(args.question, args.k, _where(args))
    if args.json:
        print(json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=1))
        return 0
    for rank, h in enumerate(hits, 1):
        print(f"{rank}. {h.score:.4f} (cosine {h.similarity:.2f}) {h.chunk.title} [{h.chunk.id}]\n   {h.chunk.text[:200]}")
    return 0


# ---- the article library: rag add / remove / list, and the filters of ask and search ----


def _add_filter_args(p: argparse.ArgumentParser) -> None:
    f = p.add_argument_group("search only within (applied in retrieval)")
    f.add_argument("--article", action="append", default=[], metavar="ID", help="an article id (repeatable; see rag list)")
    f.add_argument("--publisher", action="append", default=[], help="a publisher (repeatable)")
    f.add_argument("--since", default="", metavar="YYYY-MM-DD", help="articles dated on or after")
    f.add_argument("--until", default="", metavar="YYYY-MM-DD", help="articles dated on or before")


def _where(args):
    from .retrieve import Filter

    where = Filter(articles=tuple(args.article), publishers=tuple(args.publisher), since=args.since, until=args.until)
    return where or None


def _add_library_parsers(sub, common: argparse.ArgumentParser) -> None:
    a = sub.add_parser("add", parents=[common], help="copy articles into the corpus and index them")
    a.add_argument("files", nargs="+", type=Path, metavar="FILE", help=".txt, .md or .html files")
    a.add_argument("--json", action="store_true", help="print the per-file report as JSON")
    a.set_defaults(run=_add)
    r = sub.add_parser("remove", parents=[common], help="delete an article from the corpus and the index")
    r.add_argument("id", help="the article id (see rag list)")
    r.set_defaults(run=_remove)
    ls = sub.add_parser("list", parents=[common], help="list the indexed articles, newest first")
    ls.add_argument("--json", action="store_true", help="print the listing as JSON")
    ls.set_defaults(run=_list)


def _library(config: Config):
    from .library import Library
    from .pipeline import Pipeline

    return Library(Pipeline(replace(config, index_named=False)))  # adding or removing rebuilds even a named index


def _add(args, config: Config) -> int:
    change = _library(config).add([(p.name, p) for p in args.files])
    if args.json:
        print(json.dumps([asdict(f) for f in change.files], ensure_ascii=False, indent=1))
    else:
        for f in change.files:
            extra = f" ({f.passages} passages)" if f.status == "added" else ""
            print(f"{f.status:9} {f.name}: {f.detail}{extra}")
        if change.build:
            print(f"index: {change.build.chunks} passages, {change.build.embedded} embedded in {change.build.seconds:.1f}s")
    return 0 if any(f.status != "skipped" for f in change.files) else 1


def _remove(args, config: Config) -> int:
    change = _library(config).remove(args.id)
    print(f"removed {change.removed}: index now {change.build.chunks} passages")
    return 0


def _list(args, config: Config) -> int:
    from .library import Library
    from .pipeline import Pipeline

    listing = Library(Pipeline(config)).articles()
    if args.json:
        print(json.dumps(asdict(listing), ensure_ascii=False, indent=1))
        return 0
    for a in listing.articles:
        meta = " · ".join(x for x in (a.byline and f"by {a.byline}", a.publisher, a.date) if x)
        print(f"{a.doc_id}  {a.title}" + (f"  ({meta})" if meta else "") + f"  [{a.file}, {a.passages} passages]")
    print(f"{len(listing.articles)} articles, {listing.passages} passages; embedding model {listing.embed_model}, "
          f"built {listing.built}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
