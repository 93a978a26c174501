"""The process entry point, for `aksmesh` and `python -m generator`: set the interpreter up
for one short run, then hand over to the command line."""

import gc
import os
import signal
import sys


def run() -> None:
    # SIGTERM unwinds the run like Ctrl-C does (cli.main says so and exits 143), rather than
    # killing it with its staging directory behind.
    signal.signal(signal.SIGTERM, _terminate)
    # A run is short and leaves little cyclic garbage. The collector's passes over a heap
    # that only grows cost 3-4 % of a render, small (most of it while importing) or large,
    # and free nothing: the peak memory of a 255-cluster render is the same without them.
    gc.disable()
    from .cli import main

    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = _exit_code(exit_.code)
    # Leave without the interpreter's teardown: freeing every object and module one by one
    # (and its final collection, which runs even with the collector disabled) is 6 % of a
    # 3-cluster render's instructions (callgrind) and frees nothing the OS would not. Every
    # file aksmesh writes is closed by then; only the terminal streams are still buffered.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # e.g. a closed pipe: as Python itself exits when it cannot flush
        code = code or 120
    os._exit(code)


def _exit_code(code: object) -> int:
    """sys.exit's argument as the process's status, as the interpreter would make it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _terminate(signum: int, frame: object) -> None:
    from .cli import Terminated

    raise Terminated


if __name__ == "__main__":
    run()
