"""python -m neuralzip: the same as the nzip command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
