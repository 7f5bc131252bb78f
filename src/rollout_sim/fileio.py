"""Every file and folder the tool writes goes through here: the rule is *only ever replace
what rollout-sim wrote itself*.

A results folder proves it was written by this tool with its ``manifest.json`` (a format tag
and the list of every file in it). ``--out`` may replace an existing path only when it is
such a folder with nothing else in it, or an empty folder; anything else (a folder with other
content, a file, a device, a symbolic link, the current, home or root folder, a folder that
holds the scenario) is refused with one line before anything is computed.

Writes are atomic. A folder is built in a hidden sibling ``.NAME.tmp-PID-XXXXXXXX`` (marked
as partial until complete) and swapped in with two renames (old aside to
``.NAME.old-PID-XXXXXXXX``, new into place); SIGINT/SIGTERM are held back during the swap.
A ``kill -9`` between the two renames leaves the old folder aside: the next command into the
same place finds it and puts it back (:func:`recover`), so there is never neither the old nor
the new results. Single files go through a temporary file, ``fsync`` and one rename.

Reading a file the user names lives in :mod:`rollout_sim.userfiles` (re-exported here:
:func:`read_user_file`, :func:`decode_text`).
:data:`JsonObject` is the one type for a JSON or YAML document as read or about to be written.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias

from .errors import InputError
from .userfiles import decode_text, read_user_file

__all__ = [
    "RESULTS_FORMAT",
    "CommandTiming",
    "JsonObject",
    "OutputRefused",
    "WriteError",
    "atomic_write",
    "decode_text",
    "deferred_signals",
    "foreign_entries",
    "is_report_file",
    "owned_results_folder",
    "prepare_file",
    "prepare_results_dir",
    "read_user_file",
    "recover",
    "regular_member",
    "remove_owned_tree",
    "results_dir",
    "stale_temp_files",
    "write_manifest",
]

#: The format tag in every results folder's ``manifest.json``.
RESULTS_FORMAT = "rollout-sim-results/1"
#: Present in a temporary results folder until it is complete.
PARTIAL_MARKER = ".rollout-sim-partial"
#: The largest manifest read when checking a folder (a real one is a few kB).
_MAX_MANIFEST_BYTES = 4 * 1024 * 1024
#: ``.NAME.tmp-PID-HEX`` / ``.NAME.old-PID-HEX`` (and the PID-less names of version 0.1).
#: A JSON object (or a YAML mapping) as :func:`json.loads` or a YAML reader gives it, or as
#: about to be written: the type of the I/O edge only (manifests, the scenario document a
#: report or ``--set`` walks, the JSON Schema). Anything that crosses layers inside the
#: package is a typed object instead (:mod:`rollout_sim.summaries`, the scenario models).
JsonObject: TypeAlias = dict[str, Any]

_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?:(?P<pid>\d+)-)?[0-9a-f]{8}$")


class OutputRefused(InputError):
    """A destination the tool will not write to (it holds something the tool did not write)."""


class WriteError(OSError):
    """Writing failed (disk full, permissions); earlier results are untouched."""


# --------------------------------------------------------------------------------------------
# Signals


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the duration; deliver the first one afterwards.

    Used around renames and short writes that must not be cut in half. Python runs signal
    handlers in the main thread only, so elsewhere this does nothing (and need not).
    Replacing the Python-level handlers (rather than masking signals) is what works in a
    process with helper threads: the kernel may deliver a masked-in-main signal to another
    thread, but the Python handler still runs in the main thread, and here it only records.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def record(signum: int, frame: object) -> None:
        received.append(signum)

    saved = {s: signal.signal(s, record) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
        if received:
            signal.raise_signal(received[0])  # the original handler acts on it now


# --------------------------------------------------------------------------------------------
# Single files


def _temp_name(path: Path, kind: str = "tmp") -> Path:
    return path.with_name(f".{path.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")


def atomic_write(path: Path, data: bytes | str | Callable[[BinaryIO], None]) -> None:
    """Write *data* to *path* through a temporary file beside it, ``fsync`` and one rename.

    *data* is bytes, text (UTF-8) or a function writing to a binary file. A reader never sees
    half a file; an error or a signal leaves the previous file (if any) and no temporary file.
    The file gets mode 0666 less the umask, like any ordinary file. Signals are held back
    while writing, so keep this for files that take at most a second or so to write.
    """
    tmp = _temp_name(path)
    with deferred_signals():
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "wb") as fh:
                if callable(data):
                    data(fh)
                else:
                    fh.write(data.encode("utf-8") if isinstance(data, str) else data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise


def stale_temp_files(folder: Path) -> list[Path]:
    """Temporary files of :func:`atomic_write` in *folder* left by processes no longer alive."""
    out = []
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            m = _LEFTOVER.match(entry.name)
            if m and m["kind"] == "tmp" and not _alive(m["pid"]) and entry.is_file():
                out.append(entry)
    return out


# --------------------------------------------------------------------------------------------
# Which folders the tool wrote


def _read_manifest(folder: Path) -> Mapping[str, Any] | None:
    path = folder / "manifest.json"
    try:
        st = path.lstat()
        if not _is_regular(st.st_mode) or st.st_size > _MAX_MANIFEST_BYTES:
            return None
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        return None
    # Version 0.1 wrote no format tag; its manifest names the version and every file.
    if data.get("format") != RESULTS_FORMAT and "rollout_sim_version" not in data:
        return None
    return data


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def is_report_file(path: Path) -> bool:
    """A regular file that starts like an HTML report this tool writes."""
    try:
        if not _is_regular(path.lstat().st_mode):
            return False
        with path.open("rb") as fh:
            head = fh.read(2048)
    except OSError:
        return False
    return REPORT_MARKER in head


#: In the ``<head>`` of every report (see templates/report.html.j2).
REPORT_MARKER = b'<meta name="generator" content="rollout-sim">'


def foreign_entries(folder: Path, limit: int = 3) -> list[str] | None:
    """What in a results folder rollout-sim did not write (up to *limit* names).

    ``None`` if *folder* has no manifest of this tool at all; ``[]`` if every entry is one
    its manifest lists (or the report). Symbolic links are never the tool's, nor a file whose
    bytes are no longer those the manifest's SHA-256 records (the user edited it: listed as
    ``name (edited)``; manifests written before the digests were kept are trusted by name).
    """
    manifest = _read_manifest(folder)
    if manifest is None:
        return None
    digests = manifest.get("sha256")
    if not isinstance(digests, dict):
        digests = {}
    listed = {str(f) for f in manifest["files"]} | {"manifest.json", PARTIAL_MARKER}
    listed_dirs = {p.as_posix() for f in listed for p in Path(f).parents}
    found: list[str] = []
    for root, dirs, files in os.walk(folder):
        base = Path(root)
        for name in [*dirs, *files]:
            p = base / name
            rel = p.relative_to(folder).as_posix()
            if name in files:
                ours = rel in listed or (rel == "report.html" and is_report_file(p))
            else:
                ours = rel in listed_dirs
            if p.is_symlink() or not ours:
                found.append(rel + ("" if name in files else "/"))
            elif rel in digests and _sha256(p) != digests[rel]:
                found.append(f"{rel} (edited)")
            if len(found) >= limit:
                return found
        dirs[:] = [d for d in dirs if not (base / d).is_symlink()]
    return found


def owned_results_folder(folder: Path) -> bool:
    """*folder* is a results folder of this tool with nothing else in it."""
    return not folder.is_symlink() and folder.is_dir() and foreign_entries(folder) == []


def _ours(folder: Path) -> bool:
    """A temporary or set-aside folder this tool provably made."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    if (folder / PARTIAL_MARKER).is_file() and not (folder / PARTIAL_MARKER).is_symlink():
        return True
    return foreign_entries(folder) == []


def remove_owned_tree(folder: Path) -> None:
    """Delete a folder this tool wrote, its markers last (best effort).

    Deleting the manifest and the partial marker last means that a deletion cut short
    still leaves the proof that the rest may be deleted by the next run.
    """
    markers = {folder / "manifest.json", folder / PARTIAL_MARKER}
    for root, dirs, files in os.walk(folder, topdown=False):
        base = Path(root)
        for name in files:
            if base / name not in markers:
                with contextlib.suppress(OSError):
                    (base / name).unlink()
        for name in dirs:
            with contextlib.suppress(OSError):
                p = base / name
                p.unlink() if p.is_symlink() else p.rmdir()
    for m in markers:
        with contextlib.suppress(OSError):
            m.unlink()
    with contextlib.suppress(OSError):
        folder.rmdir()


def _alive(pid: str | None) -> bool:
    """Is process *pid* (a name's PID part) alive, other than this one?"""
    if pid is None or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def recover(target: Path) -> list[str]:
    """Finish or undo what a killed write into *target* left behind; notes for the user.

    A set-aside ``.NAME.old-*`` folder with no *target* means a run died between its two
    renames: the old results are put back (the new ones were never confirmed). Temporary
    and set-aside folders of dead processes are deleted if they are provably this tool's;
    those of a live process (a run still going) are left alone.
    """
    parent = target.parent
    notes: list[str] = []
    try:
        entries = sorted(parent.iterdir(), key=lambda p: p.name)
    except OSError:
        return notes
    leftovers = []
    for entry in entries:
        m = _LEFTOVER.match(entry.name)
        if m and m["name"] == target.name and not _alive(m["pid"]) and _ours(entry):
            leftovers.append((m["kind"], entry))
    olds = sorted(
        (e for k, e in leftovers if k == "old"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    with deferred_signals():
        if olds and not os.path.lexists(target):
            os.replace(olds[0], target)
            notes.append(f"{target}: put back the results an interrupted write had set aside")
            olds = olds[1:]
        stale = [e for k, e in leftovers if k == "tmp"] + olds
        for entry in stale:
            remove_owned_tree(entry)
    if stale:
        notes.append(f"{target}: removed {len(stale)} temporary folder(s) of interrupted runs")
    return notes


# --------------------------------------------------------------------------------------------
# Checking a destination before anything is computed


def _absolute(path: Path) -> Path:
    """*path* made absolute with its parent's symbolic links resolved, its last part kept."""
    p = Path(os.path.abspath(path))
    return p if p.parent == p else p.parent.resolve() / p.name


def _protected(extra: Sequence[Path]) -> dict[Path, str]:
    """Folders never to be replaced, with what they are."""
    out: dict[Path, str] = {}
    cwd = Path.cwd().resolve()
    for anc in [cwd, *cwd.parents]:
        out.setdefault(
            anc, "the current folder" if anc == cwd else "a parent of the current folder"
        )
    with contextlib.suppress(RuntimeError, KeyError):
        home = Path.home().resolve()
        out[home] = "your home folder"
    for f in extra:
        folder = _absolute(f).parent
        for anc in [folder, *folder.parents]:
            out.setdefault(anc, f"a folder holding {f}")
    out[Path("/")] = "the root folder"
    return out


def _refuse(target: Path, label: str, why: str) -> OutputRefused:
    # The path in full (not cut like other values): it is what the user must recognise.
    return OutputRefused(
        f"{why}; rollout-sim only replaces what it wrote itself: choose another --out "
        "(nothing was changed)",
        source=f"{label} {target}" if label else str(target),
    )


def _check_writable(target: Path, label: str) -> None:
    """The nearest existing folder above *target* accepts a new entry (tried, then undone)."""
    anc = target.parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        raise _refuse(target, label, f"{anc} is not a folder")
    try:
        with deferred_signals():  # a signal between the two would leave the probe behind
            probe = tempfile.mkdtemp(prefix=f".{target.name}.probe-", dir=anc)
            os.rmdir(probe)
    except OSError as exc:
        raise WriteError(
            exc.errno or errno.EACCES,
            f"{target}: cannot write there ({exc.strerror or exc}); nothing was changed",
        ) from None


def prepare_results_dir(
    target: Path, *, label: str = "--out", protect: Sequence[Path] = ()
) -> tuple[Path, list[str]]:
    """Check that results may be written to *target*, before any work; (path, notes).

    Raises :class:`OutputRefused` (bad input, exit 2) for a destination the tool must not
    replace and :class:`WriteError` when the place cannot be written. *protect* are input
    files (the scenario) whose folders must never be replaced. Leftovers of interrupted
    writes into the same place are recovered first (the notes say what was done).
    """
    if str(target) in ("", "."):
        raise _refuse(target, label, "it is the current folder")
    path = _absolute(target)
    danger = _protected(protect)
    for candidate in (path, path.resolve()):
        if candidate in danger:
            raise _refuse(target, label, f"it is {danger[candidate]}")
    notes = recover(path)
    if os.path.lexists(path):
        if path.is_symlink():
            raise _refuse(target, label, "it is a symbolic link")
        if not path.is_dir():
            what = "a file" if path.is_file() else "a special file"
            raise _refuse(target, label, f"it is {what}, not a results folder")
        foreign = foreign_entries(path)
        if foreign is None:
            try:
                entries = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
            except OSError as exc:
                raise WriteError(
                    exc.errno or errno.EACCES, f"{path}: cannot read it ({exc.strerror})"
                ) from None
            if entries:
                shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
                raise _refuse(target, label, f"it holds files rollout-sim did not write ({shown})")
        elif foreign:
            shown = ", ".join(foreign)
            raise _refuse(target, label, f"it holds files rollout-sim did not write ({shown})")
    _check_writable(path, label)
    return path, notes


def prepare_file(
    target: Path, *, label: str, owned: Callable[[Path], bool], protect: Sequence[Path] = ()
) -> Path:
    """Check that a single file may be written to *target*: absent, or one *owned* says
    this tool wrote (a report, a schema). Raises like :func:`prepare_results_dir`."""
    if str(target) in ("", "."):
        raise _refuse(target, label, "it is the current folder")
    path = _absolute(target)
    for f in protect:
        if path == _absolute(f) or path.resolve() == _absolute(f).resolve():
            raise _refuse(target, label, "it is an input file")
    if os.path.lexists(path):
        if path.is_symlink():
            raise _refuse(target, label, "it is a symbolic link")
        if path.is_dir():
            raise _refuse(target, label, "it is a folder")
        if not path.is_file():
            raise _refuse(target, label, "it is a special file")
        if not owned(path):
            raise _refuse(target, label, "it is a file rollout-sim did not write")
    for stale in stale_temp_files(path.parent):
        if stale.name.startswith(f".{path.name}.tmp-"):
            with contextlib.suppress(OSError):
                stale.unlink()
    _check_writable(path, label)
    return path


# --------------------------------------------------------------------------------------------
# Writing a results folder


class CommandTiming(dict[str, float]):
    """A command's phases (seconds) for its manifest's ``timing``, and the clock it started
    on (``time.perf_counter``): :func:`write_manifest` sets ``total_wall_seconds`` when it
    writes, so that the total counts the tables and plots written before it, not only the
    work done when the timing was handed to the writer."""

    def __init__(self, started: float, phases: Mapping[str, float] | None = None) -> None:
        super().__init__(phases or {})
        self.started = started
        self["total_wall_seconds"] = round(time.perf_counter() - started, 3)

    def until_now(self) -> dict[str, float]:
        """The phases with the total up to now."""
        return {**self, "total_wall_seconds": round(time.perf_counter() - self.started, 3)}


def _sha256(path: Path) -> str | None:
    """The SHA-256 of a file's bytes (hex), or None if it cannot be read."""
    import hashlib

    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def write_manifest(folder: Path, fields: Mapping[str, Any]) -> JsonObject:
    """Write ``manifest.json`` last: the format tag, *fields*, the list of every file and
    each one's SHA-256 (so that a file edited since is known: :func:`foreign_entries`); a
    :class:`CommandTiming` under ``timing`` gets its total up to now."""
    files = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != PARTIAL_MARKER
    )
    timing = fields.get("timing")
    if isinstance(timing, CommandTiming):
        fields = {**fields, "timing": timing.until_now()}
    digests = {f: _sha256(folder / f) for f in files}
    manifest = {"format": RESULTS_FORMAT, **fields, "files": files, "sha256": digests}
    atomic_write(folder / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


@contextlib.contextmanager
def results_dir(target: Path) -> Iterator[Path]:
    """Yield a temporary folder to fill; on success it replaces *target* atomically.

    The caller must end with :func:`write_manifest`. Only a folder this tool wrote (or an
    empty one) is ever replaced; a write error is raised as :class:`WriteError` naming
    *target*, with earlier results untouched and no temporary folder left.
    """
    target = _absolute(target)
    parent = target.parent
    tmp = _temp_name(target)
    made = False
    try:
        # Made inside the try that removes it again: a signal held back while it is made is
        # delivered as the deferral ends, and must find that clean-up in place (it had
        # left the folder and its marker behind).
        with deferred_signals():
            try:
                parent.mkdir(parents=True, exist_ok=True)
                tmp.mkdir()
                (tmp / PARTIAL_MARKER).touch()
            except OSError as exc:
                raise WriteError(
                    exc.errno or errno.EIO,
                    f"{target}: cannot write results there ({exc.strerror or exc}); "
                    "nothing was changed",
                ) from None
            made = True
        yield tmp
        if _read_manifest(tmp) is None:
            raise RuntimeError(f"bug: results for {target} written without a manifest")
        with deferred_signals():
            if os.path.lexists(target):
                # Checked before the run, and again now: the user may have added files since.
                if not (target.is_dir() and not target.is_symlink()):
                    raise _refuse(target, "", "it is no longer a folder")
                foreign = foreign_entries(target)
                if foreign or (foreign is None and any(target.iterdir())):
                    raise _refuse(target, "", "files were added to it or edited during the run")
            (tmp / PARTIAL_MARKER).unlink()
            old = None
            if os.path.lexists(target):
                old = _temp_name(target, "old")
                os.replace(target, old)
            try:
                os.replace(tmp, target)
            except OSError:
                if old is not None:
                    os.replace(old, target)  # put the earlier results back
                raise
            if old is not None:
                remove_owned_tree(old)
    except OSError as exc:
        with deferred_signals():
            remove_owned_tree(tmp)
        if not made:
            raise  # the folder could not be made: said above
        raise WriteError(
            exc.errno or errno.EIO,
            f"{target}: could not write results ({exc.strerror or exc}); earlier results "
            "there, if any, are unchanged",
        ) from None
    except BaseException:
        with deferred_signals():
            remove_owned_tree(tmp)
        raise


# --------------------------------------------------------------------------------------------
# Reading a results folder safely


def regular_member(root: Path, rel: str) -> Path | None:
    """``root / rel`` if it is a regular file inside *root* reached without symbolic links.

    What ``report`` embeds must be a file this tool wrote into the folder, never whatever a
    link points to (``plots/map.png -> /etc/shadow``).
    """
    path = root
    try:
        for part in Path(rel).parts:
            if part in ("..", "/"):
                return None
            path = path / part
            if path.is_symlink():
                return None
        return path if _is_regular(path.lstat().st_mode) else None
    except OSError:
        return None
