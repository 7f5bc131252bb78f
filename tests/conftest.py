"""Shared fixtures and helpers for the test suite.

The helpers are plain functions (importable as ``from conftest import run_cli``) and are also
offered as fixtures of the same names, so a test can use whichever style reads better.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``forks`` run first. The results writer forks a child to draw only from a
    process without other threads (a forked copy of a thread's lock could deadlock), and a
    test that starts Dask leaves its offload thread alive for the rest of the session: later,
    these tests would only see the no-fork path."""
    items.sort(key=lambda item: item.get_closest_marker("forks") is None)  # stable


_SMALL_SCENARIO: dict[str, Any] = {
    "name": "small",
    "seed": 42,
    "start_date": "2019-07-01",
    "horizon_years": 2,
    "geography": {
        "synthetic": {"villages": 300, "width_km": 80, "height_km": 60, "clusters": 12},
        "pops": {"largest_villages": 3, "min_spacing_km": 20},
        "depots": {"largest_villages": 1},
    },
    "operators": [{"name": "ruralco", "cash_usd": 2_000_000, "build_crews": 4}],
    "outputs": {"plots": False},
}


def small_scenario_dict(**top_level: Any) -> dict[str, Any]:
    """A fresh, minimal valid scenario: 300 synthetic villages, 2 years, one operator.

    Keyword arguments replace top-level keys (``small_scenario_dict(seed=7)``). The result is
    a deep copy, so tests may mutate it freely.
    """
    data = copy.deepcopy(_SMALL_SCENARIO)
    data.update(copy.deepcopy(top_level))
    return data


def write_yaml(tmp_path: Path, data: Any, name: str = "s.yaml") -> Path:
    """Write *data* as YAML (``yaml.safe_dump``) to ``tmp_path / name``; return the path."""
    path = Path(tmp_path) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@contextlib.contextmanager
def _working_dir(cwd: str | Path | None) -> Iterator[None]:
    if cwd is None:
        yield
        return
    before = Path.cwd()
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(before)


def run_cli(*args: str | Path, cwd: str | Path | None = None) -> tuple[int, str, str]:
    """Run ``rollout_sim.cli.main(list(args))`` in-process; return (exit code, stdout, stderr).

    argparse usage errors (and ``--help``) raise ``SystemExit``; its code is returned as well.
    """
    from rollout_sim.cli import main

    out, err = io.StringIO(), io.StringIO()
    with _working_dir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: Any = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):  # SystemExit("message") prints the message, exits 1
        code = 1
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def quickstart_path() -> Path:
    """The shipped quickstart scenario."""
    return QUICKSTART


@pytest.fixture(name="small_scenario_dict")
def _small_scenario_dict_fixture() -> Callable[..., dict[str, Any]]:
    """The :func:`small_scenario_dict` factory."""
    return small_scenario_dict


@pytest.fixture(name="write_yaml")
def _write_yaml_fixture() -> Callable[..., Path]:
    """The :func:`write_yaml` helper."""
    return write_yaml


@pytest.fixture(name="run_cli")
def _run_cli_fixture() -> Callable[..., tuple[int, str, str]]:
    """The :func:`run_cli` helper."""
    return run_cli


@pytest.fixture(autouse=True, scope="session")
def _private_world_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the tests' cached worlds out of the user's cache (subprocesses inherit it too)."""
    old = os.environ.get("ROLLOUT_SIM_CACHE")
    os.environ["ROLLOUT_SIM_CACHE"] = str(tmp_path_factory.mktemp("world-cache"))
    yield
    if old is None:
        os.environ.pop("ROLLOUT_SIM_CACHE", None)
    else:
        os.environ["ROLLOUT_SIM_CACHE"] = old
