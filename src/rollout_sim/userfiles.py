"""Reading a file the user names (a village file, an observed series, ...): one bounded,
checked read that refuses devices, pipes, folders and huge files with one line.

Re-exported by :mod:`rollout_sim.fileio`, the package's one I/O module; it lives apart because
it reads (any user's file) where the rest of ``fileio`` writes (only what the tool owns).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import InputError

__all__ = ["decode_text", "read_user_file"]


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_user_file(
    path: str | Path,
    *,
    what: str,
    expected: str,
    max_bytes: int,
    size_note: str = "",
    error: type[InputError] = InputError,
    where: str | None = None,
) -> bytes:
    """The bytes of a file the user names (a village file, an observed series, ...), or one
    line saying why not: missing, unreadable, a directory, a device or pipe, too big.

    Devices and pipes are refused from ``stat`` before they are opened: opening a FIFO blocks
    until someone writes to it, and ``/dev/zero`` never ends. The read itself is bounded
    (*max_bytes*), in case the file changes between the check and the read. *what* names the
    file in messages ("village file"), *expected* what it should be ("a regular village file
    (CSV or GeoJSON)").
    """
    p = Path(path)
    source = str(p)

    def fail(message: str) -> InputError:
        return error(message, source=source, where=where)

    def too_big(size: int) -> InputError:
        note = f" {size_note}" if size_note else ""
        return fail(
            f"{what} is {size / 1e6:,.1f} MB; expected at most {max_bytes / 1e6:,.0f} MB{note}"
        )

    try:
        info = p.stat()
    except FileNotFoundError:
        raise fail(f"{what} not found") from None
    except OSError as exc:
        raise fail(f"cannot read {what} ({exc.strerror})") from None
    except ValueError as exc:  # e.g. a NUL byte in the path
        raise fail(f"cannot read {what} ({exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise fail(f"is a directory; expected {expected}")
    if not stat.S_ISREG(info.st_mode):
        raise fail(f"is {_file_kind(info.st_mode)}; expected {expected}")
    if info.st_size > max_bytes:
        raise too_big(info.st_size)
    try:
        # O_NONBLOCK: should the path have become a FIFO since the check, opening it must not
        # wait for a writer (it is a no-op for regular files).
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise fail(f"is not a regular file; expected {expected}")
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise fail(f"cannot read {what} ({exc.strerror})") from None
    if len(raw) > max_bytes:
        raise too_big(len(raw))
    return raw


def decode_text(
    raw: bytes, *, source: str, encoding: str = "utf-8", error: type[InputError] = InputError
) -> str:
    """*raw* as text, or one line naming the first byte that is not *encoding* (``utf-8``, or
    ``utf-8-sig`` to drop a byte-order mark)."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text (bad byte at offset {exc.start})", source=source) from None
