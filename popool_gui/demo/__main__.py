"""`python -m popool_gui.demo`: the demo portal on its own (the same as `popool portal`)."""

from __future__ import annotations

import argparse
import sys

from popool_gui.demo.cli import add_portal_arguments, run_portal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m popool_gui.demo", description="Serve the demo portal.")
    add_portal_arguments(parser)
    return run_portal(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
