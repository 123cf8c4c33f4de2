"""The ``edgraph`` command: ``datasets``, ``train``, ``sample`` and ``evaluate``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from edgraph.datasets import DATASETS, describe, load_graphs


def _datasets(args: argparse.Namespace) -> None:
    names = [args.dataset] if args.dataset else sorted(DATASETS)
    for name in names:
        summary = {"dataset": name, "split": args.split, **describe(load_graphs(name, args.split, args.root))}
        print(json.dumps(summary))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``edgraph`` command."""
    parser = argparse.ArgumentParser(prog="edgraph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser("datasets", help="summarise the graph datasets")
    data.add_argument("--dataset", choices=sorted(DATASETS), help="one dataset (default: all)")
    data.add_argument("--split", default="all", choices=["train", "test", "all"])
    data.add_argument("--root", help="data folder (default: $EDGRAPH_DATA, else <repo>/datasets)")
    data.set_defaults(run=_datasets)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``edgraph`` console script."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        print(f"edgraph: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
