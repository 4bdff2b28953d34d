"""scripts/setup: which llama.cpp build a CPU gets (AMX with the gcc workaround, the no-AMX path, portable),
read with `scripts/setup --print-build`, which installs nothing; and scripts/prove_llama.py, the proof run a
build must pass before setup keeps it."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
SETUP = PROJECT / "scripts" / "setup"
XEON = ("fpu sse sse2 avx avx2 fma f16c bmi2 avx512f avx512bw avx512vl avx512dq avx512cd avx512vbmi avx512_vnni "
        "avx512_bf16 amx_bf16 amx_tile amx_int8")
ZEN = "fpu sse sse2 avx avx2 fma f16c bmi2"


def build_for(tmp_path, flags: str, *args: str, **env: str) -> tuple[str, str]:
    """The (variant, cmake args) setup chooses on a CPU reporting `flags`."""
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    environ = {k: v for k, v in os.environ.items() if k != "RAG_NO_AMX"}
    out = subprocess.run(["bash", str(SETUP), "--print-build", *args], capture_output=True, text=True, check=True,
                         env={**environ, "RAG_CPUINFO": str(cpuinfo), **env})
    variant, cmake = out.stdout.rstrip("\n").split("\t")
    return variant, cmake


def gcc_header_has_the_tile_config_bug() -> bool:
    include = subprocess.run(["cc", "-print-file-name=include"], capture_output=True, text=True).stdout.strip()
    header = Path(include) / "amxtileintrin.h"
    return header.is_file() and '"m" (*((const void **)' in header.read_text()


def test_a_cpu_with_amx_gets_the_native_build_with_amx(tmp_path):
    variant, cmake = build_for(tmp_path, XEON)
    assert variant.startswith("amx+avx512+vbmi+vnni+bf16")
    assert "-DGGML_NATIVE=ON" in cmake and "AMX_INT8=OFF" not in cmake
    # the gcc 12 workaround only where the compiler's header needs it
    assert ("-fno-dse -fno-tree-dse" in cmake) == gcc_header_has_the_tile_config_bug()
    assert ("(-fno-dse)" in variant) == gcc_header_has_the_tile_config_bug()


def test_no_amx_is_forced_by_the_environment_and_is_the_fallback(tmp_path):
    forced, cmake = build_for(tmp_path, XEON, RAG_NO_AMX="1")
    assert forced == "avx512+vbmi+vnni+bf16"
    assert "-DGGML_AMX_INT8=OFF" in cmake and "-DGGML_NATIVE=OFF" in cmake and "-DGGML_AVX512_VNNI=ON" in cmake
    assert build_for(tmp_path, XEON, "no-amx") == (forced, cmake)  # what an AMX build that fails its proof becomes


def test_a_cpu_without_amx_keeps_todays_build(tmp_path):
    variant, cmake = build_for(tmp_path, ZEN)
    assert variant == "avx2"
    assert "-DGGML_AMX_INT8=OFF" in cmake and "AVX512" not in cmake
    assert build_for(tmp_path, ZEN, "portable")[0] == "avx2 (portable)"


@pytest.mark.slow
def test_the_proof_run_generates_from_a_long_prompt_and_checks_the_answer(monkeypatch, capsys):
    """One real run (a few hundred tokens on two cores take a while): the default model reads the long prompt and
    names the ferry; asked to find a word the answer lacks, the proof fails, as it does for a garbling build."""
    sys.path.insert(0, str(PROJECT / "scripts"))
    import prove_llama

    monkeypatch.setattr(prove_llama, "WANT", "Zebra")
    assert prove_llama.main() == 1
    line = capsys.readouterr().err
    assert line.startswith("prove_llama: wrong answer") and "24 generated" in line
    assert "Aurora" in line  # the right answer, which the real WANT accepts
    assert int(line.split("(")[1].split()[0]) >= 300  # several hundred prompt tokens, not a one-token smoke test


def test_a_build_that_fails_its_proof_falls_back_one_step_at_a_time_and_is_remembered(tmp_path):
    """setup's own functions, with the compiler and the model stubbed: an AMX build whose proof run crashes
    gives way to the same build without AMX, which is kept; the next setup run keeps it without rebuilding."""
    functions = SETUP.read_text().split('if [ "${1:-}" = --print-build ]')[0].split("\ncpu_build() {", 1)[1]
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"flags\t\t: {XEON}\n")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    python = tmp_path / ".venv" / "bin" / "python"
    # the stub interpreter: imports work; the proof run crashes (SIGSEGV-like 139) for the AMX build only
    python.write_text('#!/bin/bash\nif [ "$1" = scripts/prove_llama.py ]; then\n'
                      '  case "$(cat .venv/.llama-built)" in amx*) exit 139 ;; *) exit 0 ;; esac\nfi\nexit 0\n')
    python.chmod(0o755)
    script = ("set -euo pipefail\ncpu_build() {" + functions +
              '\ninstall_llama() { echo "BUILD $1" >> builds.log; }\n'
              "ensure_llama\nprove_llama\nensure_llama\nprove_llama\n")
    run = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "RAG_CPUINFO": str(cpuinfo)})
    assert run.returncode == 0, run.stderr
    builds = (tmp_path / "builds.log").read_text().splitlines()
    assert [b.split(" (")[0] for b in builds] == ["BUILD amx+avx512+vbmi+vnni+bf16", "BUILD avx512+vbmi+vnni+bf16"]
    assert "failed its proof run" in run.stderr and "falling back to avx512+vbmi+vnni+bf16" in run.stderr
    kept = (tmp_path / ".venv" / ".llama-build").read_text()
    assert kept.startswith("avx512+vbmi+vnni+bf16 ") and "AMX_INT8=OFF" in kept
    assert (tmp_path / ".venv" / ".llama-failed").read_text().startswith("amx+")  # never rebuilt on the next run
