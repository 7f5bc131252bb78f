"""Running a command: signals, and every error turned into one line and an exit code.

Exit codes: 0 ok, 1 failure (a bug or a write error), 2 bad input, 130 interrupted.
Errors are one line on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from ..errors import InputError, ScenarioError, SimulationError, one_line
from .arguments import build_parser
from .commands import COMMANDS

__all__ = ["main", "program"]


@contextmanager
def _signals_stop_cleanly() -> Iterator[None]:
    """SIGTERM acts like Ctrl-C (KeyboardInterrupt) for the whole life of a command.

    Every command then stops the same way on either signal: temporary files removed, earlier
    results intact, exit code 130, one line. The previous handlers are restored afterwards
    (``main`` may be called in-process, by tests or notebooks).
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved_term = signal.signal(signal.SIGTERM, signal.default_int_handler)
    saved_int = signal.getsignal(signal.SIGINT)
    if saved_int is not signal.SIG_IGN:  # a background job that ignores Ctrl-C keeps doing so
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, saved_term)
        if saved_int is not None:
            signal.signal(signal.SIGINT, saved_int)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``rollout-sim``; returns the exit code."""
    try:
        with _signals_stop_cleanly():
            return _main(argv)
    except KeyboardInterrupt:  # before the command started, or while it was reporting one
        print("interrupted", file=sys.stderr)
        return 130


def program() -> NoReturn:
    """The ``rollout-sim`` program (its console script, and ``python -m rollout_sim``):
    :func:`main`, then the process ends without the interpreter tearing down every object.

    A national run leaves a million objects (the world, the run's records, the tables) that the
    interpreter would free one by one at exit: 0.25–0.33 s of the main job, after its last
    file is written. The process ends at once only when nothing can be lost that way: standard
    output and error flushed, the ``atexit`` hooks run (multiprocessing, logging, Dask, ...),
    and no other thread alive (the interpreter would wait for it); otherwise it exits as usual.
    """
    import atexit
    import os
    import threading

    code = main()
    if threading.active_count() > 1:
        sys.exit(code)
    # What the interpreter's exit would run first (it clears them: a later exit runs none).
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed or broken stream: the interpreter's usual exit
        sys.exit(code)
    os._exit(code)


def _main(argv: Sequence[str] | None) -> int:
    from ..experiments.runner import Interrupted
    from ..fileio import WriteError

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        if hasattr(args, "executor"):  # before any work: the world is not built for nothing
            from ..experiments.executors import check_executor_options

            check_executor_options(args.executor, args.jobs, args.scheduler)
        return COMMANDS[args.command](args)
    except InputError as exc:
        if args.debug:
            traceback.print_exc()
        problems = [exc, *getattr(exc, "others", [])]
        for problem in problems:
            if problem.source is None and getattr(args, "scenario", None) is not None:
                problem.source = str(args.scenario)  # world checks name a key path only
        if args.command == "validate" and isinstance(exc, ScenarioError) and exc.others:
            for problem in problems:  # validate lists every problem, one line each
                print(f"error: {problem.line(with_others=False)}", file=sys.stderr)
            if exc.unlisted:
                print(f"error: ... and {exc.unlisted} more problems not listed", file=sys.stderr)
        else:
            print(f"error: {exc.line()}", file=sys.stderr)
        return 2
    except WriteError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {one_line(exc.strerror or str(exc))}", file=sys.stderr)
        return 2
    except SimulationError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"internal error: {exc}", file=sys.stderr)
        return 1
    except Interrupted as exc:
        print(str(exc), file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`rollout-sim validate x.yaml | head -1`): not a bug. Point
        # stdout at nothing so the interpreter's final flush does not fail a second time.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug: say so in one line, keep the traceback for --debug
        if args.debug:
            traceback.print_exc()
        print(
            one_line(
                f"internal error: {type(exc).__name__}: {exc} (run again with --debug for the "
                "traceback, and please report it)"
            ),
            file=sys.stderr,
        )
        return 1
