"""The process entry point, for `aksmesh` and `python -m generator`: set the interpreter up
for one short run, then hand over to the command line."""

import gc


def run() -> None:
    # A run is short and leaves little cyclic garbage. The collector's passes over a heap
    # that only grows cost 3-4 % of a render, small (most of it while importing) or large,
    # and free nothing: the peak memory of a 255-cluster render is the same without them.
    gc.disable()
    from .cli import main

    main()


if __name__ == "__main__":
    run()
