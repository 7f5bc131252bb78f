#!/usr/bin/env python3
"""Set-up and tasks for a fresh machine with only Python >= 3.11 (stdlib only).

    python3 dev.py run     # create .venv, install, run the main job (Peru, scenarios/peru_ipt.yaml)
    python3 dev.py test    # create .venv, install, then lint, format check, types and tests

The virtual environment is (re)installed only when pyproject.toml, setup.py or the C sources
of the optional accelerators change (the editable install compiles them in place); the
package's bytecode is brought up to date at every call (``compile_sources``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".rollout-sim-installed"
#: What the install depends on: a change to any of these reinstalls (and recompiles).
INSTALL_INPUTS = (
    "pyproject.toml",
    "setup.py",
    "src/rollout_sim/_netcore.c",
    "src/rollout_sim/_reach.c",
    "src/rollout_sim/_buffers.h",
)


def _sh(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit(f"rollout-sim needs Python >= 3.11; this is {sys.version.split()[0]}")
    digest = hashlib.sha256()
    for name in INSTALL_INPUTS:
        digest.update((ROOT / name).read_bytes())
    want = digest.hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == want and PY.exists():
        return
    if not PY.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    _sh(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _sh(PY, "-m", "pip", "install", "--quiet", "-e", ".[dev,dask]")
    STAMP.write_text(want + "\n")


def compile_sources() -> None:
    """Byte-compile the package's sources where their cached bytecode is missing or stale.

    An editable install leaves ``src`` uncompiled, and Python writes the cache on first import
    only where it may (not under ``PYTHONDONTWRITEBYTECODE``, set on some machines): every
    command would then compile ~130 modules again before doing anything, ~0.3 s of each run.
    Up to date, this is a stat of each file (~0.07 s). Best effort: where the cache cannot be
    written (a read-only checkout) the commands run as they would have anyway."""
    subprocess.run(
        [str(PY), "-m", "compileall", "-q", "src/rollout_sim"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )


def run(args: list[str]) -> None:
    scenario = args[0] if args else "scenarios/peru_ipt.yaml"
    _sh(BIN / "rollout-sim", "run", scenario, *args[1:])


LINTED = ("src", "tests", "benchmarks", "scripts", "dev.py", "setup.py")


def ensure_chromium() -> None:
    """The report's browser test needs Debian's chromium; install it where it is missing."""
    if shutil.which("chromium") or not shutil.which("apt-get"):
        return
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        print("chromium missing and not root: the browser test will be skipped", flush=True)
        return
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    print("+ apt-get install chromium (for the report's browser test)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], env=env, check=False, **quiet)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"],
        env=env,
        check=False,
        **quiet,
    )


def test(args: list[str]) -> None:
    ensure_chromium()
    paths = [p for p in LINTED if (ROOT / p).exists()]
    _sh(BIN / "ruff", "check", *paths)
    _sh(BIN / "ruff", "format", "--check", *paths)
    _sh(BIN / "mypy")
    _sh(PY, "-m", "pytest", "-q", *args)


TASKS = {"run": run, "test": test}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        sys.exit(f"usage: python3 {Path(__file__).name} {{{','.join(TASKS)}}} [args...]")
    ensure_venv()
    compile_sources()
    TASKS[sys.argv[1]](sys.argv[2:])
