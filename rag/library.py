"""The articles of a Pipeline's corpus: list them, add files or pasted text, remove one; each change is
indexed incrementally (only new or edited articles are embedded) and then swapped into the Pipeline, so
answers keep using the previous index until the new one is complete.

    lib = Library(pipeline)
    lib.add([("kirby.txt", Path("/tmp/kirby.txt"))]).files  # -> [FileReport(name='kirby.txt', status='added', ...)]
    lib.remove("kirby")
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Literal

import numpy as np

from .build import BuildReport
from .corpus import MAX_BYTES, SUFFIXES, load_corpus, read_document
from .errors import CorpusError
from .retrieve import iso_date

Status = Literal["added", "unchanged", "skipped"]
Reason = Literal["", "unsafe name", "not text", "too large", "empty", "binary", "no article text", "renamed"]
Progress = Callable[[float, str], None]  # (fraction done 0..1, what is happening)
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"PK\x03\x04", b"\xff\xd8\xff", b"GIF8", b"\x7fELF")


@dataclass(frozen=True)
class Article:
    """One indexed article as the Articles tab and `rag list` show it."""

    doc_id: str
    title: str
    publisher: str
    date: str  # as the article gives it
    file: str  # path relative to the corpus folder
    passages: int
    byline: str = ""  # who wrote it, as the article writes it


@dataclass(frozen=True)
class Listing:
    articles: list[Article]  # newest first; undated last
    embed_model: str = ""
    built: str = ""  # when the index was built (local time, ISO)
    passages: int = 0


@dataclass(frozen=True)
class FileReport:
    """What happened to one uploaded file. `reason` says why it was skipped (or 'renamed' when it was saved
    under another name because its name belonged to a different article); `detail` is the sentence to show."""

    name: str  # as given by the user
    status: Status
    reason: Reason = ""
    detail: str = ""
    doc_id: str = ""  # the article's id once saved (the file name without its suffix)
    passages: int = 0


@dataclass(frozen=True)
class Change:
    """The outcome of add() or remove(): per-file reports and the index build (None when nothing changed)."""

    files: list[FileReport] = field(default_factory=list)
    build: BuildReport | None = None
    removed: str = ""


@dataclass(frozen=True)
class Verdict:
    """One check of an uploaded file: it passed when `reason` is ''; `name` is the name to save it under."""

    reason: Reason = ""
    detail: str = ""
    name: str = ""


def safe_name(name: str) -> Verdict:
    """An uploaded file's name -> the name to save it under, or why it is refused. A name with a folder part
    is refused, not shortened: '../x.txt' names a place outside the corpus.

    'Kirby speech (1).txt' -> Verdict(name='Kirby_speech_1.txt'); '../../etc/x.txt' -> Verdict('unsafe name', ...)
    """
    if not name or "/" in name or "\\" in name or name in (".", "..") or any(ord(ch) < 32 for ch in name) \
            or len(name) > 255:
        return Verdict("unsafe name", "unsafe file name (a folder part or control characters): refused")
    stem, dot, suffix = name.rpartition(".")
    if not dot or f".{suffix.lower()}" not in SUFFIXES:
        return Verdict("not text", "not a .txt, .md or .html file")
    stem = re.sub(r"[^\w.-]+", "_", stem).strip("._-")[:120]  # no leading dot: no hidden files
    if not stem:
        return Verdict("unsafe name", "the file name has no usable characters")
    return Verdict(name=f"{stem}.{suffix.lower()}")


def check_size(size: int, max_bytes: int = MAX_BYTES) -> Verdict:
    """Checked before reading, so a huge upload is never loaded: 6_000_000 -> Verdict('too large', ...)"""
    if size > max_bytes:
        return Verdict("too large", f"too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:g} MB)")
    return Verdict()


def check_bytes(data: bytes) -> Verdict:
    """Whether `data` may be an article: b'' -> Verdict('empty', 'the file is empty')."""
    if not data.strip():
        return Verdict("empty", "the file is empty")
    if b"\x00" in data[:8192] or data.startswith(_BINARY_MAGIC):
        return Verdict("binary", "a binary file, not text")
    return Verdict()


def slug(title: str) -> str:
    """'Kirby: “We're closer”!' -> 'Kirby_We_re_closer'"""
    return re.sub(r"[^\w-]+", "_", title).strip("_-")[:80] or "article"


class Library:
    """Adds, removes and lists the articles of `pipeline`'s corpus; one change (and one index build) at a time."""

    def __init__(self, pipeline, max_bytes: int = MAX_BYTES):
        self.pipeline = pipeline
        self.max_bytes = max_bytes
        self._lock = threading.Lock()  # one build at a time in this process; store's file lock covers others

    @property
    def corpus_dir(self) -> Path:
        return Path(self.pipeline.config.corpus_dir)

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def articles(self) -> Listing:
        """What the index the Pipeline answers from holds, newest first."""
        index = self.pipeline.index
        counts: dict[str, int] = {}
        first = {}
        for c in index.chunks:
            counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
            first.setdefault(c.doc_id, c)
        files = self.files_for(list(first))
        heads = index.articles
        articles = [Article(doc_id=d, title=c.title, publisher=c.publisher, date=c.date, file=files.get(d, ""),
                            passages=counts[d], byline=heads[d].byline if d in heads else "")
                    for d, c in first.items()]
        articles.sort(key=lambda a: a.title.casefold())
        articles.sort(key=lambda a: iso_date(a.date), reverse=True)  # '' (undated) sorts last
        m = index.manifest
        return Listing(articles, embed_model=str(m.get("embed_model", "")), built=str(m.get("created", "")),
                       passages=len(index.chunks))

    def add(self, files: list[tuple[str, Path]], progress: Progress | None = None) -> Change:
        """Save each (name as given, path to read) into the corpus folder and index them. A file whose bytes are
        already in the corpus is 'unchanged'; a name taken by a different article gets a new name ('renamed')."""
        progress = progress or (lambda fraction, message: None)
        with self._lock:
            progress(0.0, "checking files")
            known = self._hashes()
            reports: list[FileReport] = []
            written: list[Path] = []
            for name, path in files:
                report, target = self._save(name, Path(path), known)
                reports.append(report)
                if target is not None:
                    written.append(target)
            if not written:
                return Change(reports)
            try:
                build = self._reindex(progress)
            except BaseException:
                for path in written:  # a failed build leaves the corpus as it was
                    path.unlink(missing_ok=True)
                raise
            counts = self._passages()
            return Change([replace(r, passages=counts.get(r.doc_id, 0)) if r.status == "added" else r
                           for r in reports], build)

    def add_text(self, title: str, text: str, progress: Progress | None = None) -> Change:
        """A pasted article: saved as '<title>.md' with the title as its heading, then indexed like a file."""
        title, text = " ".join((title or "").split()), (text or "").strip()
        if not title:
            return Change([FileReport("(pasted text)", "skipped", "empty", "give the pasted text a title")])
        body = f"# {title}\n\n{text}\n"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "pasted.md"
            path.write_text(body if text else "", encoding="utf-8")
            return self.add([(f"{slug(title)}.md", path)], progress)

    def remove(self, doc_id: str, progress: Progress | None = None) -> Change:
        """Delete the article's file from the corpus folder and rebuild the index without it."""
        progress = progress or (lambda fraction, message: None)
        with self._lock:
            path = self._path_of(doc_id)
            if path is None:
                raise CorpusError(f"no article with id {doc_id!r} (see: rag list)")
            if len(self._files()) <= 1:
                raise CorpusError("cannot remove the last article: the index needs at least one")
            keep = path.with_name(path.name + f".removing-{os.getpid()}")
            os.replace(path, keep)  # out of the corpus; put back if the build fails
            try:
                build = self._reindex(progress)
            except BaseException:
                os.replace(keep, path)
                raise
            keep.unlink()
            return Change(build=build, removed=doc_id)

    def files_for(self, doc_ids) -> dict[str, str]:
        """doc_id -> file name relative to the corpus, for the given ids (what an exported answer cites)."""
        out = {}
        for doc_id in doc_ids:
            path = next((self.corpus_dir / f"{doc_id}{s}" for s in SUFFIXES if (self.corpus_dir / f"{doc_id}{s}").is_file()),
                        None)
            if path is not None and self.corpus_dir.resolve() in path.resolve().parents:
                out[doc_id] = str(path.relative_to(self.corpus_dir))
        missing = set(doc_ids) - out.keys()
        if missing:  # ids of same-named files in sub-folders: ask the corpus loader
            out.update({d: f for d, f in self._files().items() if d in missing})
        return out

    # ---- helpers ----

    def _save(self, name: str, path: Path, known: dict[str, str]) -> tuple[FileReport, Path | None]:
        shown = name or path.name
        named = safe_name(shown)
        if named.reason:
            return FileReport(shown, "skipped", named.reason, named.detail), None
        safe = named.name
        try:
            verdict = check_size(path.stat().st_size, self.max_bytes)
            data = b"" if verdict.reason else path.read_bytes()
        except OSError as e:
            return FileReport(shown, "skipped", "not text", f"cannot read the file ({e.strerror})"), None
        verdict = verdict if verdict.reason else check_bytes(data)
        if verdict.reason:
            return FileReport(shown, "skipped", verdict.reason, verdict.detail), None
        digest = hashlib.sha256(data).hexdigest()
        if digest in known:
            doc = Path(known[digest])
            return FileReport(shown, "unchanged", "", f"already in the library as {doc}",
                              doc_id=str(doc.with_suffix(""))), None
        with tempfile.TemporaryDirectory() as tmp:  # parse with the corpus rules before it enters the corpus
            probe = Path(tmp) / safe
            probe.write_bytes(data)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                doc = read_document(probe)
        if doc is None:
            why = str(caught[-1].message).rsplit(": ", 1)[-1] if caught else "no article text"
            kind: Reason = "binary" if "binary" in why else "no article text" if "no article" in why else "not text"
            return FileReport(shown, "skipped", kind, why), None
        target, renamed = self._free_name(safe)
        tmp_target = self.corpus_dir / f".{target.name}.{os.getpid()}.part"  # hidden: the corpus loader skips it
        tmp_target.write_bytes(data)
        os.replace(tmp_target, target)
        if target.resolve().parent != self.corpus_dir.resolve():  # belt and braces: never outside the corpus
            target.unlink()
            return FileReport(shown, "skipped", "unsafe name", "would be written outside the corpus folder"), None
        known[digest] = target.name
        if renamed:
            return FileReport(shown, "added", "renamed", f"saved as {target.name}: {safe} is a different article",
                              doc_id=target.stem), target
        return FileReport(shown, "added", "", f"saved as {target.name}", doc_id=target.stem), target

    def _free_name(self, safe: str) -> tuple[Path, bool]:
        """corpus/<safe>, or <stem>-2.<suffix>... when that article id (stem, any suffix) is taken."""
        stem, suffix = safe.rsplit(".", 1)
        taken = {p.stem.casefold() for p in self._article_paths()}
        candidate, n = stem, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{stem}-{n}"
        return self.corpus_dir / f"{candidate}.{suffix}", n > 1

    def _article_paths(self) -> list[Path]:
        return sorted(p for p in self.corpus_dir.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                      and not p.name.startswith("."))

    def _files(self) -> dict[str, str]:
        """doc_id -> file path relative to the corpus, with the corpus loader's ids."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                docs = load_corpus(self.corpus_dir)
            except CorpusError:
                return {}
        root = self.corpus_dir
        return {d.doc_id: str(Path(d.path).relative_to(root)) if d.path else "" for d in docs}

    def _path_of(self, doc_id: str) -> Path | None:
        rel = self._files().get(doc_id)
        if not rel:
            return None
        path = (self.corpus_dir / rel).resolve()
        return path if self.corpus_dir.resolve() in path.parents else None

    def _hashes(self) -> dict[str, str]:
        return {hashlib.sha256(p.read_bytes()).hexdigest(): str(p.relative_to(self.corpus_dir))
                for p in self._article_paths()}

    def _passages(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for c in self.pipeline.index.chunks:
            counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
        return counts

    def _reindex(self, progress: Progress) -> BuildReport:
        """Build the new index beside the one in use (store re-embeds only new or changed articles), then swap."""
        embedder = _Batches(self.pipeline.embedder, progress)
        progress(0.05, "reading articles")
        index, report = self.pipeline.open_store(named=False, embedder=embedder)  # FAISS files or Milvus
        self.pipeline.use_index(index, report)
        progress(1.0, f"indexed: {report.chunks} passages, {report.embedded} embedded in {report.seconds:.1f} s")
        return report


class _Batches:
    """Wraps an Embedder so a build reports its progress batch by batch (the web page's progress bar)."""

    def __init__(self, embedder, progress: Progress, batch: int = 32):
        self.embedder, self.progress, self.batch = embedder, progress, batch
        self.name, self.dim = embedder.name, embedder.dim

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        parts = []
        t0 = time.perf_counter()
        for start in range(0, len(texts), self.batch):
            parts.append(self.embedder.embed(texts[start:start + self.batch]))
            done = min(start + self.batch, len(texts))
            self.progress(0.1 + 0.85 * done / len(texts), f"embedding passages {done}/{len(texts)} "
                                                          f"({time.perf_counter() - t0:.1f} s)")
        return np.vstack(parts) if parts else self.embedder.embed([])

