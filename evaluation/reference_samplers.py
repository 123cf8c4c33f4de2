"""What samplers that learn nothing score: the yardsticks beside the graph results.

A model's MMD is read against the real-vs-real floor, which is what copies of the training graphs
score. This script scores, exactly as ``graph_results.py`` scores a model (1,024 graphs per
sampling seed against the test split, gdss protocol, novelty against the training split), the
samplers a reader should compare a model with:

* ``flip1`` and ``flip2``: a training graph drawn uniformly, with 1 or 2 of its node pairs
  (drawn uniformly) toggled. Most such graphs are novel, so they are the cheapest way to
  pass the novelty rule;
* ``near_copies``: with probability ν, a training graph toggled at one pair such that it is
  isomorphic to no training graph (redrawn until it is), and a training graph as it is otherwise,
  with ν the novelty the library's selection rule asks of a model
  (``edgraph.models.graph.novelty_required``), here of the test graphs: their own novelty
  less 10 points. The least a model must add to copying;
* ``recipe``: the generator a synthetic dataset was drawn by, at fresh seeds (community_small,
  sbm_small and lobster_small: their own; community_small_gdss: GraphRNN's published community
  recipe, which ``community_small`` is drawn by). A model of the recipe would score this.

For the families of random graphs (``RANDOM_FAMILIES``), the floor is also computed with the
training split replaced by fresh draws of the same size from the recipe (``--floor-draws``,
against the same test split): how far the floor itself moves with the draw of the training graphs,
which its ± (over resamples of one training split) does not show.

    python evaluation/reference_samplers.py --out evaluation/results/graphs/reference_samplers.json
    python evaluation/reference_samplers.py --table evaluation/results/graphs/reference_samplers.json
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from collections.abc import Callable
from pathlib import Path

import networkx as nx
from graph_results import provenance, times_floor, write_report

from edgraph.datasets import graph_benchmarks, load_graphs
from edgraph.metrics import graph_mmd, graph_novelty, reference_floor
from edgraph.models.graph import novelty_required

DATASETS = ("ego_small", "community_small_gdss", "community_small", "sbm_small", "lobster_small")
STATS = ("degree", "clustering", "orbit")
#: The generators of the synthetic datasets, called as ``recipe(seed=..., num_graphs=...)``.
RECIPES: dict[str, Callable[..., list[nx.Graph]]] = {
    "community_small_gdss": graph_benchmarks.community_small,
    "community_small": graph_benchmarks.community_small,
    "sbm_small": graph_benchmarks.sbm_small,
    "lobster_small": graph_benchmarks.lobster_small,
}
#: Recipe seeds start here, far from the seeds the datasets were drawn from; training splits drawn
#: afresh for the floor start at the second.
RECIPE_SEED, FLOOR_DRAW_SEED = 1000, 2000
#: The datasets whose recipe is their distribution: their floor is also drawn with fresh training splits.
RANDOM_FAMILIES = ("community_small", "sbm_small", "lobster_small")
#: Tries at a novel one-pair edit before giving up.
MAX_TRIES = 10_000


def toggled(graph: nx.Graph, pairs: int, rng: random.Random) -> nx.Graph:
    """A copy of ``graph`` with ``pairs`` distinct node pairs, drawn uniformly, toggled.

    >>> toggled(nx.complete_graph(4), 2, random.Random(0)).number_of_edges()
    4
    """
    out = graph.copy()
    nodes = list(out)
    if pairs > len(nodes) * (len(nodes) - 1) // 2:
        raise ValueError(f"a graph of {len(nodes)} nodes has fewer than {pairs} node pairs to toggle")
    chosen: set[tuple] = set()
    while len(chosen) < pairs:
        u, v = rng.sample(nodes, 2)
        chosen.add((min(u, v), max(u, v)))
    for u, v in chosen:
        if out.has_edge(u, v):
            out.remove_edge(u, v)
        else:
            out.add_edge(u, v)
    return out


def samplers(dataset: str, train: list[nx.Graph], required: float) -> dict[str, Callable[[int, int], list]]:
    """The reference samplers of a dataset: ``sampler(num, seed) -> graphs``."""

    def flips(pairs: int) -> Callable[[int, int], list]:
        def sample(num: int, seed: int) -> list:
            rng = random.Random(seed)
            return [toggled(rng.choice(train), pairs, rng) for _ in range(num)]

        return sample

    def novel_edit(rng: random.Random) -> nx.Graph:
        # about half of ego_small's one-pair edits are novel, and most of the other datasets'
        for _ in range(MAX_TRIES):
            graph = toggled(rng.choice(train), 1, rng)
            if graph_novelty([graph], train) == 1:
                return graph
        raise RuntimeError(f"no novel one-pair edit of a training graph in {MAX_TRIES} tries")

    def near_copies(num: int, seed: int) -> list:
        rng = random.Random(seed)
        return [novel_edit(rng) if rng.random() < required else rng.choice(train) for _ in range(num)]

    out = {"flip1": flips(1), "flip2": flips(2), "near_copies": near_copies}
    if dataset in RECIPES:
        out["recipe"] = lambda num, seed: RECIPES[dataset](seed=RECIPE_SEED + seed, num_graphs=num)
    return out


def run(args: argparse.Namespace) -> dict:
    rows, floor_draws = [], {}
    for dataset in args.datasets:
        train, test = load_graphs(dataset, "train"), load_graphs(dataset, "test")
        data_novelty = graph_novelty(test, train, clean=False)
        required = novelty_required(test, train)
        floor = reference_floor(train, test, args.num, stats=STATS)
        for name, sample in samplers(dataset, train, required).items():
            runs = []
            for seed in args.seeds:
                graphs = sample(args.num, seed)
                mmd, novelty = graph_mmd(graphs, test, STATS), graph_novelty(graphs, train)
                runs.append({"seed": seed, "mmd": mmd, "novelty": novelty})
            row = {"dataset": dataset, "sampler": name, "required_novelty": required, "data_novelty": data_novelty}
            rows.append({**row, "floor": floor, "runs": runs})
            print(json.dumps({**row, "mmd": runs[0]["mmd"], "novelty": runs[0]["novelty"]}), flush=True)
        if dataset in RANDOM_FAMILIES:
            draws = [RECIPES[dataset](seed=FLOOR_DRAW_SEED + d, num_graphs=len(train)) for d in range(args.floor_draws)]
            floors = [reference_floor(graphs, test, args.num, stats=STATS) for graphs in draws]
            floor_draws[dataset] = {"own": floor, "draws": floors}
    return {"num": args.num, "seeds": args.seeds, "rows": rows, "floor_draws": floor_draws, **provenance()}


def table(path: str) -> str:
    """A Markdown table: each sampler's mean MMD over the seeds, as a multiple of the floor, and its novelty."""
    report = json.loads(Path(path).read_text())
    lines = [
        "| dataset | sampler | degree | clustering | orbit | novel | novelty required |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        cells = []
        for stat in STATS:
            value = statistics.fmean(r["mmd"][stat] for r in row["runs"])
            cells.append(f"{value:.4f} ({times_floor(value, row['floor'][stat]['mean'])})")
        novel = statistics.fmean(r["novelty"] for r in row["runs"])
        cells += [f"{novel:.2f}", f"{row['required_novelty']:.2f}"]
        lines.append(f"| {row['dataset']} | {row['sampler']} | " + " | ".join(cells) + " |")
    lines += ["", "| dataset | floor | degree | clustering | orbit |", "|---|---|---|---|---|"]
    for dataset, floors in report["floor_draws"].items():
        own = [f"{floors['own'][s]['mean']:.4f}" for s in STATS]
        lines.append(f"| {dataset} | the dataset's training split | " + " | ".join(own) + " |")
        ranges = [[f[s]["mean"] for f in floors["draws"]] for s in STATS]
        cells = [f"{min(r):.4f}–{max(r):.4f}" for r in ranges]
        label = f"{len(floors['draws'])} fresh training splits (min–max)"
        lines.append(f"| {dataset} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--num", type=int, default=1024)
    parser.add_argument("--floor-draws", type=int, default=4, help="fresh training splits per random family")
    parser.add_argument("--out")
    parser.add_argument("--table", help="print the Markdown table of this result file")
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    write_report(run(args), args.out)


if __name__ == "__main__":
    main()
