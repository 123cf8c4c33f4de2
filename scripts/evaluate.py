"""Same as `edgraph evaluate ...`: see `python scripts/evaluate.py --help`."""

import sys

from edgraph.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
