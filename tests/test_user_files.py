"""Every file the user names is read the same bounded, checked way (fileio.read_user_file)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rollout_sim.errors import InputError, ScenarioError
from rollout_sim.experiments.calibrate import read_observed
from rollout_sim.fileio import read_user_file


def test_devices_pipes_folders_and_size_are_refused_before_reading(tmp_path: Path) -> None:
    kw = {"what": "thing", "expected": "a thing file", "max_bytes": 10}
    with pytest.raises(InputError, match=r"^/dev/zero: is a device; expected a thing file$"):
        read_user_file("/dev/zero", **kw)  # type: ignore[arg-type]
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"is a named pipe \(FIFO\); expected a thing file$"):
        read_user_file(fifo, **kw)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"is a directory; expected a thing file$"):
        read_user_file(tmp_path, **kw)  # type: ignore[arg-type]
    big = tmp_path / "big"
    big.write_bytes(b"x" * 20_000_001)
    with pytest.raises(InputError, match=r"thing is 20.0 MB; expected at most 0 MB$"):
        read_user_file(big, **kw)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"thing not found$"):
        read_user_file(tmp_path / "none", **kw)  # type: ignore[arg-type]
    small = tmp_path / "ok"
    small.write_bytes(b"0123456789")
    assert read_user_file(small, **kw) == b"0123456789"  # type: ignore[arg-type]


def test_an_observed_series_on_a_device_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as exc:
        read_observed("/dev/zero", "calibration.targets[0]")
    assert exc.value.line() == (
        "/dev/zero: calibration.targets[0]: is a device; expected a CSV file"
    )
