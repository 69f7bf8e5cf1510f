"""Entry point of `popool` and `python -m popool_gui` (also the PyInstaller entry script)."""

import multiprocessing
import os
import sys


def main() -> int:
    # First call: in a frozen Windows build a spawned worker re-runs this executable and must stop here.
    multiprocessing.freeze_support()
    if sys.stdout is None or sys.stderr is None:
        # A windowed Windows build has no console; writes must go somewhere harmless.
        sink = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
        sys.stdout = sys.stdout or sink
        sys.stderr = sys.stderr or sink
    from popool_gui.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
