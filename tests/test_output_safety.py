"""The tool never replaces what it did not write, and an interrupted write never loses results.

Every refused destination is checked the same way: exit code 2, exactly one line on stderr,
and every byte under the test's folder (and the destination itself) unchanged.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from rollout_sim import fileio
from rollout_sim.fileio import RESULTS_FORMAT, recover

from conftest import QUICKSTART, run_cli

TINY = (
    "--set", "geography.synthetic.villages=200", "--set", "horizon_years=1",
    "--no-plots", "--quiet",
)  # fmt: skip


def snapshot(folder: Path) -> dict[str, object]:
    """Every entry under *folder*: bytes of files, link targets, a mark for folders."""
    out: dict[str, object] = {}
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            p = Path(root) / name
            rel = p.relative_to(folder).as_posix()
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = p.read_bytes()
    return out


def refused(code: int, out: str, err: str, *fragments: str) -> str:
    assert "Traceback" not in err, err
    assert code == 2, (code, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "nothing was changed" in lines[0], err
    for f in fragments:
        assert f in lines[0], err
    return lines[0]


def tiny_run(out: Path | str, *extra: str, cwd: Path | None = None) -> tuple[int, str, str]:
    return run_cli("run", QUICKSTART, "--out", str(out), *TINY, *extra, cwd=cwd)


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    """The issue's example: a folder of the user's with a file and a subfolder."""
    d = tmp_path / "mydata"
    (d / "sub").mkdir(parents=True)
    (d / "notes.txt").write_text("keep\n")
    (d / "sub" / "more.txt").write_text("keep too\n")
    return d


def test_a_folder_with_other_content_is_refused(tmp_path: Path, user_folder: Path) -> None:
    before = snapshot(tmp_path)
    line = refused(*tiny_run(user_folder), "mydata", "did not write")
    assert "--out" in line
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("out", [".", ""])
def test_the_current_folder_is_refused(tmp_path: Path, out: str) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    before = snapshot(tmp_path)
    refused(*tiny_run(out, cwd=tmp_path), "current folder")
    assert snapshot(tmp_path) == before


def test_the_current_folder_is_refused_even_when_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    refused(*tiny_run(empty, cwd=empty), "the current folder")
    refused(*tiny_run(tmp_path, cwd=empty), "a parent of the current folder")
    assert list(empty.iterdir()) == []


def test_home_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    work = tmp_path / "work"
    work.mkdir()
    refused(*tiny_run(home, cwd=work), "home folder")
    assert list(home.iterdir()) == []


def test_a_folder_holding_the_scenario_is_refused(tmp_path: Path) -> None:
    scenarios = tmp_path / "project" / "scen"
    scenarios.mkdir(parents=True)
    scenario = scenarios / "qs.yaml"
    scenario.write_bytes(QUICKSTART.read_bytes())
    work = tmp_path / "work"
    work.mkdir()
    before = snapshot(tmp_path)
    for out in (scenarios, scenarios.parent):
        code, o, e = run_cli("run", scenario, "--out", out, *TINY, cwd=work)
        refused(code, o, e, "a folder holding")
    assert snapshot(tmp_path) == before


def test_a_regular_file_even_the_scenario_is_refused(tmp_path: Path) -> None:
    scenario = tmp_path / "qs.yaml"
    scenario.write_bytes(QUICKSTART.read_bytes())
    other = tmp_path / "data.csv"
    other.write_text("a,b\n1,2\n")
    before = snapshot(tmp_path)
    for out in (scenario, other):
        code, o, e = run_cli("run", scenario, "--out", out, *TINY)
        refused(code, o, e, "it is a file, not a results folder")
    assert snapshot(tmp_path) == before


def test_a_special_file_is_refused(tmp_path: Path) -> None:
    before = os.stat("/dev/null")
    refused(*tiny_run("/dev/null"), "special file")
    assert tiny_run(tmp_path / "res")[0] == 0
    refused(*run_cli("report", tmp_path / "res", "--out", "/dev/null"), "special file")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    refused(*tiny_run(fifo), "special file")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    assert tiny_run(real)[0] == 0
    link = tmp_path / "link"
    link.symlink_to(real)
    before = snapshot(tmp_path)
    refused(*tiny_run(link), "symbolic link")
    assert snapshot(tmp_path) == before


def test_an_empty_folder_may_be_used(tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert tiny_run(out) == (0, "", "")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == RESULTS_FORMAT
    assert set(manifest["files"]) == {
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()
    } - {"manifest.json"}


def test_own_results_are_replaced_but_not_with_a_users_file_in_them(tmp_path: Path) -> None:
    out = tmp_path / "res"
    assert tiny_run(out)[0] == 0
    first = (out / "timeseries.csv").read_bytes()
    assert tiny_run(out, "--seed", "3")[0] == 0  # its own folder: replaced
    assert (out / "timeseries.csv").read_bytes() != first
    (out / "my-notes.md").write_text("analysis")
    before = snapshot(tmp_path)
    refused(*tiny_run(out, "--seed", "4"), "my-notes.md")
    assert snapshot(tmp_path) == before
    # A link placed inside is not the tool's either.
    (out / "my-notes.md").unlink()
    (out / "plots").mkdir()
    (out / "plots" / "extra.png").symlink_to(tmp_path)
    refused(*tiny_run(out, "--seed", "4"), "plots/")


def test_a_folder_that_only_looks_like_results_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "fake"
    out.mkdir()
    (out / "manifest.json").write_text('{"hello": "world"}')
    before = snapshot(tmp_path)
    refused(*tiny_run(out), "did not write")
    assert snapshot(tmp_path) == before


def test_every_writing_command_refuses(tmp_path: Path, user_folder: Path) -> None:
    funding = QUICKSTART.parent / "funding_policies.yaml"
    small = [*TINY, "--reps", "2", "--executor", "serial"]
    commands = [
        ["run", QUICKSTART, *small],
        ["compare", funding, "--policies", "output_based", *small],
        ["sweep", QUICKSTART, "--grid", "operators.0.build_crews=2,3", *small],
        ["calibrate", QUICKSTART.parent / "peru_ipt.yaml", "--quiet"],
    ]
    before = snapshot(tmp_path)
    for cmd in commands:
        refused(*run_cli(*cmd, "--out", user_folder), "mydata")
    assert snapshot(tmp_path) == before


def test_a_file_the_user_edited_in_a_results_folder_is_never_replaced(tmp_path: Path) -> None:
    """The manifest keeps each file's SHA-256: a results file edited since (notes added to
    the resolved scenario, which the README invites to rerun) is no longer the tool's."""
    res = tmp_path / "res"
    assert tiny_run(res)[0] == 0
    assert tiny_run(res)[0] == 0  # untouched: its own, replaced
    edited = res / "scenario.resolved.yaml"
    edited.write_text(edited.read_text() + "# my notes: try 20 crews\n")
    before = snapshot(tmp_path)
    line = refused(*tiny_run(res), "scenario.resolved.yaml (edited)")
    assert "did not write" in line
    assert snapshot(tmp_path) == before
    # A manifest from before the digests were kept is trusted by the files' names.
    manifest = json.loads((res / "manifest.json").read_text())
    del manifest["sha256"]
    (res / "manifest.json").write_text(json.dumps(manifest))
    assert tiny_run(res)[0] == 0
    assert "my notes" not in edited.read_text()


def test_the_run_store_is_checked_too(tmp_path: Path) -> None:
    store = tmp_path / ".res.runs"
    store.mkdir()
    (store / "thesis.tex").write_text("chapter 1")
    before = snapshot(tmp_path)
    code, o, e = run_cli(
        "run", QUICKSTART, "--out", tmp_path / "res", *TINY, "--reps", "2", "--executor", "serial"
    )
    refused(code, o, e, ".res.runs")
    assert snapshot(tmp_path) == before


def test_schema_out_replaces_only_its_own_file(tmp_path: Path) -> None:
    mine = tmp_path / "notes.json"
    mine.write_text('{"my": "data"}')
    before = snapshot(tmp_path)
    refused(*run_cli("schema", "--out", mine), "did not write")
    refused(*run_cli("schema", "--out", tmp_path), "it is a folder")
    assert snapshot(tmp_path) == before
    # A path ending in a slash names a folder: refused, not written as a file of that name.
    code, _, err = run_cli("schema", "--out", f"{tmp_path}/new/")
    assert code == 2 and "names a folder; expected a file" in err
    assert snapshot(tmp_path) == before
    target = tmp_path / "scenario.schema.json"
    assert run_cli("schema", "--out", target) == (0, "", "")
    assert run_cli("schema", "--out", target) == (0, "", "")  # its own: replaced
    # A folder not there yet is made, as report --out makes it (it was an internal error).
    nested = tmp_path / "editor" / "schemas" / "scenario.json"
    assert run_cli("schema", "--out", nested) == (0, "", "")
    assert nested.read_bytes() == target.read_bytes()


def test_report_out_replaces_only_its_own_report(tmp_path: Path) -> None:
    res = tmp_path / "res"
    assert tiny_run(res)[0] == 0
    mine = tmp_path / "briefing.html"
    mine.write_text("<html>my briefing</html>")
    before = snapshot(tmp_path)
    refused(*run_cli("report", res, "--out", mine, "--quiet"), "did not write")
    refused(*run_cli("report", res, "--out", res / "summary.json", "--quiet"))
    assert snapshot(tmp_path) == before
    assert run_cli("report", res, "--quiet") == (0, "", "")
    assert run_cli("report", res, "--quiet") == (0, "", "")  # its own report: replaced
    # A new folder named with a slash gets the report inside it, not a file of its name.
    assert run_cli("report", res, "--out", f"{tmp_path}/deck/", "--quiet") == (0, "", "")
    assert (tmp_path / "deck" / "report.html").is_file()
    # The folder with its report in it is still the tool's own: a rerun replaces it.
    assert tiny_run(res, "--seed", "5")[0] == 0


def test_report_embeds_only_files_inside_the_folder(tmp_path: Path) -> None:
    res = tmp_path / "res"
    code, _, err = run_cli(
        "run", QUICKSTART, "--out", res, "--quiet", "--set", "geography.synthetic.villages=200"
    )
    assert code == 0, err
    secret = tmp_path / "shadow"
    secret.write_bytes(b"SECRET-BYTES-" * 50)
    import base64

    (res / "plots" / "map.png").unlink()
    (res / "plots" / "map.svg").unlink()
    (res / "plots" / "map.png").symlink_to(secret)
    linked_dir = tmp_path / "elsewhere"
    linked_dir.mkdir()
    (linked_dir / "snapshots.png").write_bytes(b"OTHER-SECRET" * 50)
    assert run_cli("report", res, "--quiet") == (0, "", "")
    html = (res / "report.html").read_bytes()
    for needle in (b"SECRET-BYTES", base64.b64encode(secret.read_bytes())[:40]):
        assert needle not in html
    assert b'id="map"' in html
    # A symlinked summary is refused, not read.
    (res / "summary.json").rename(tmp_path / "summary.json")
    (res / "summary.json").symlink_to(tmp_path / "summary.json")
    code, _out, err = run_cli("report", res, "--quiet")
    assert code == 2 and len(err.splitlines()) == 1 and "summary.json" in err


def test_unwritable_destination_fails_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rollout_sim.engine

    def must_not_run(*a: object, **k: object) -> None:
        raise AssertionError("simulated before checking the destination")

    monkeypatch.setattr(rollout_sim.engine, "simulate", must_not_run)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = tiny_run(blocker / "res")
    assert code == 2 and len(err.splitlines()) == 1 and "not a folder" in err

    def denied(*a: object, **k: object) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fileio.tempfile, "mkdtemp", denied)
    code, _, err = tiny_run(tmp_path / "res")
    assert code == 2, err
    assert err.splitlines() == [
        f"error: {tmp_path / 'res'}: cannot write there (Permission denied); nothing was changed"
    ]
    assert not (tmp_path / "res").exists()


def test_disk_full_while_writing_keeps_earlier_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "res"
    assert tiny_run(out)[0] == 0
    before = snapshot(tmp_path)
    real = fileio.atomic_write

    def full(path: Path, data: object) -> None:
        if path.name == "summary.json":
            raise OSError(28, "No space left on device")
        real(path, data)  # type: ignore[arg-type]

    monkeypatch.setattr("rollout_sim.report.writer.atomic_write", full)
    code, _, err = tiny_run(out, "--seed", "9")
    assert code == 2 and len(err.splitlines()) == 1
    assert str(out) in err and "No space left on device" in err
    assert snapshot(tmp_path) == before


# --- a kill at any instant of the swap -------------------------------------------------------


def _dead_pid() -> int:
    """A process id that is certainly not running (a child that has been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_kill_between_the_two_renames_is_recovered(tmp_path: Path) -> None:
    out = tmp_path / "res"
    assert tiny_run(out)[0] == 0
    old = snapshot(out)
    pid = _dead_pid()
    # The state a kill -9 leaves after the first rename: the old results set aside, the new
    # ones complete in their temporary folder, nothing at the destination.
    aside = tmp_path / f".res.old-{pid}-0123abcd"
    out.rename(aside)
    assert tiny_run(tmp_path / "staging")[0] == 0
    (tmp_path / "staging").rename(tmp_path / f".res.tmp-{pid}-89abcdef")
    notes = recover(out)
    assert notes[0] == f"{out}: put back the results an interrupted write had set aside"
    assert snapshot(out) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_a_killed_writer_is_recovered_by_the_next_command(tmp_path: Path) -> None:
    """A real process dies right after the first rename; the next command puts it right."""
    out = tmp_path / "res"
    assert tiny_run(out)[0] == 0
    old = snapshot(out)
    script = f"""
import os, sys
real = os.replace
def replace(src, dst):
    real(src, dst)
    if ".res.old-" in str(dst):
        os._exit(137)  # as if killed between the two renames
os.replace = replace
from rollout_sim.cli import main
sys.exit(main({[*map(str, ["run", QUICKSTART, "--out", out, *TINY, "--seed", "8"])]!r}))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 137, proc.stderr
    assert not out.exists()
    left = sorted(p.name[:9] for p in tmp_path.iterdir())
    assert left == [".res.old-", ".res.tmp-"]  # the old results aside, the new ones complete
    code, _, err = run_cli("report", out)  # any command into that place recovers it
    assert code == 0, err
    assert "put back the results" in err
    assert {k: v for k, v in snapshot(out).items() if k != "report.html"} == old
    assert tiny_run(out, "--seed", "8")[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_stale_temporary_folders_are_cleaned_up(tmp_path: Path) -> None:
    pid = _dead_pid()
    stale = tmp_path / f".res.tmp-{pid}-aaaabbbb"
    stale.mkdir()
    (stale / fileio.PARTIAL_MARKER).touch()
    (stale / "timeseries.csv").write_text("half")
    live = tmp_path / f".res.tmp-{os.getppid()}-ccccdddd"  # a live process: left alone
    live.mkdir()
    (live / fileio.PARTIAL_MARKER).touch()
    foreign = tmp_path / f".res.tmp-{pid}-eeeeffff"  # not provably ours: left alone
    foreign.mkdir()
    (foreign / "mine.txt").write_text("x")
    assert tiny_run(tmp_path / "res")[0] == 0
    assert not stale.exists() and live.exists() and foreign.exists()


def test_a_signal_while_the_temporary_folder_is_made_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT (as SIGTERM would) arriving while the results' temporary folder and its marker
    are made is held back until they are, then delivered: the folder is removed again, not
    left behind, and nothing else is touched. (A run in CI met this: the temporary folder and
    its marker outlived the interrupted command.)"""
    import signal

    target = tmp_path / "res"
    made = Path.touch

    def touch_and_interrupt(self: Path, *args: object, **kwargs: object) -> None:
        made(self, *args, **kwargs)  # type: ignore[arg-type]
        if self.name == fileio.PARTIAL_MARKER:
            signal.raise_signal(signal.SIGINT)  # held back: the deferral records it

    monkeypatch.setattr(Path, "touch", touch_and_interrupt)
    with pytest.raises(KeyboardInterrupt), fileio.results_dir(target):
        pytest.fail("the body must not run: the interruption comes first")
    assert list(tmp_path.iterdir()) == []


def test_a_temporary_folder_that_cannot_be_made_says_so_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder made, its marker refused (disk full): one WriteError saying that nothing
    was changed, and the half-made folder gone."""
    import errno

    def full(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "touch", full)
    with (
        pytest.raises(fileio.WriteError, match=r"cannot write results there .*nothing was changed"),
        fileio.results_dir(tmp_path / "res"),
    ):
        pytest.fail("the body must not run")
    assert list(tmp_path.iterdir()) == []


def test_a_tilde_in_out_is_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--out '~/res'`` (quoted, so the shell left the tilde) writes into the home folder,
    as a village file's ``~`` path reads from it: never a folder named ``~`` here, which a
    later ``rm -rf ~`` would turn into a disaster."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    assert tiny_run("~/res", cwd=work)[0] == 0
    assert (home / "res" / "manifest.json").is_file()
    assert not (work / "~").exists()
