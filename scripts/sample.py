"""Same as `edgraph sample ...`: see `python scripts/sample.py --help`."""

import sys

from edgraph.cli import main

if __name__ == "__main__":
    sys.exit(main(["sample", *sys.argv[1:]]))
