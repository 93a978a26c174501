"""The process entry point, for `aksmesh` and `python -m generator`: set the interpreter up
for one short run, then hand over to the command line."""

import gc
import signal


def run() -> None:
    # SIGTERM unwinds the run like Ctrl-C does (cli.main says so and exits 143), rather than
    # killing it with its staging directory behind.
    signal.signal(signal.SIGTERM, _terminate)
    # A run is short and leaves little cyclic garbage. The collector's passes over a heap
    # that only grows cost 3-4 % of a render, small (most of it while importing) or large,
    # and free nothing: the peak memory of a 255-cluster render is the same without them.
    gc.disable()
    from .cli import main

    main()


def _terminate(signum: int, frame: object) -> None:
    from .cli import Terminated

    raise Terminated


if __name__ == "__main__":
    run()
