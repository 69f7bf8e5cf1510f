"""PyInstaller's entry script: the same `main` as the `popool` console command."""

import sys

from popool_gui.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
