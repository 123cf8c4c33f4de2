"""Steering a trained GraphEBM with energy terms at sampling time: connectedness and edge-count targets.

For each training seed: train (or load) the default GraphEBM, then sample 1,024 graphs from noise
without terms, with ``Connected(weight)`` for each weight, and with ``EdgeCount(target, weight)``
for each target. Each sample set is scored by its share of connected graphs, its edge counts and
its gdss MMD against the test split (with the real-vs-real floor at the same size).

    python evaluation/control.py --dataset ego_small --train-seeds 0 1 2 --out evaluation/results/control/ego_small.json
    cd evaluation/results/control && python ../../control.py --table ego_small.json community_small_gdss*.json

The connectedness weight reported as the recommended one is the smallest weight whose samples are
at least 99 % connected: a rule on the samples alone, which never reads the test graphs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import networkx as nx
import torch
from graph_results import ed_budget, provenance, trained_model, write_report

from edgraph import GraphEBM
from edgraph.datasets import dataset_info, load_graphs
from edgraph.energies.terms import Connected, EdgeCount, EnergyTerm
from edgraph.metrics import graph_mmd, reference_floor

STATS = ("degree", "clustering", "orbit")


def score(model: GraphEBM, terms: list[EnergyTerm], test: list, num: int, seed: int) -> dict:
    """Connected share, edge counts, gdss MMD and sampling seconds of ``num`` samples."""
    start = time.perf_counter()
    graphs = model.sample(num, seed=seed, terms=terms)
    seconds = time.perf_counter() - start
    edges = [g.number_of_edges() for g in graphs]
    return {
        "terms": [repr(t) for t in terms],
        "sample_seconds": seconds,
        "connected": statistics.fmean(nx.is_connected(g) for g in graphs),
        "mean_edges": statistics.fmean(edges),
        "std_edges": statistics.stdev(edges),
        "mmd": graph_mmd(graphs, test, STATS),
    }


def run(args: argparse.Namespace) -> dict:
    info = dataset_info(args.dataset)
    train, test = load_graphs(args.dataset, "train"), load_graphs(args.dataset, "test")
    training = ed_budget(max_steps=args.max_steps)
    results = []
    for seed in args.train_seeds:
        run_dir = Path(args.run_root) / f"{args.dataset}-seed{seed}"
        model, train_seconds = trained_model(training, run_dir, info.max_nodes, {}, {}, seed, train, test)
        rows = [score(model, [], test, args.num, seed)]
        rows += [score(model, [Connected(w)], test, args.num, seed) for w in args.connected_weights]
        rows += [score(model, [EdgeCount(t, args.edge_weight)], test, args.num, seed) for t in args.edge_targets]
        results.append({"train_seed": seed, "train_seconds": train_seconds, "steps": model.steps_trained, "rows": rows})
        print(json.dumps(results[-1])[:1500], flush=True)
    return {
        "dataset": args.dataset,
        "max_steps": args.max_steps,
        "num": args.num,
        "connected_weights": args.connected_weights,
        "edge_targets": args.edge_targets,
        "edge_weight": args.edge_weight,
        "train_connected": statistics.fmean(nx.is_connected(g) for g in train),
        "train_mean_edges": statistics.fmean(g.number_of_edges() for g in train),
        "floor": reference_floor(train, test, args.num, range(5), protocol="gdss", stats=STATS),
        "results": results,
        **provenance(),
    }


def table(paths: list[str]) -> str:
    """A Markdown table per result file: each setting, pooled over training seeds."""
    lines = []
    for path in paths:
        report = json.loads(Path(path).read_text())
        floor = report["floor"]
        lines += [
            f"### {report['dataset']} ({len(report['results'])} training seeds, {report['num']:,} samples each; "
            f"`{report['command']}` at {str(report['git_commit'])[:7]})",
            "",
            f"Training graphs: {report['train_connected']:.0%} connected, {report['train_mean_edges']:.1f} edges "
            "on average. MMD: gdss protocol against the test split, mean over training seeds; floor: "
            + " / ".join(f"{floor[s]['mean']:.4f}" for s in STATS)
            + ".",
            "",
            "| terms | connected | edges (mean ± std) | degree | clustering | orbit | sampling (s) |",
            "|---|---|---|---|---|---|---|",
        ]
        for i, first in enumerate(report["results"][0]["rows"]):
            rows = [result["rows"][i] for result in report["results"]]
            label = ", ".join(first["terms"]) or "none (unconditional)"
            mmd = " | ".join(f"{statistics.fmean(r['mmd'][s] for r in rows):.4f}" for s in STATS)
            lines.append(
                f"| {label} | {statistics.fmean(r['connected'] for r in rows):.1%} "
                f"| {statistics.fmean(r['mean_edges'] for r in rows):.2f} ± "
                f"{statistics.fmean(r['std_edges'] for r in rows):.2f} | {mmd} "
                f"| {statistics.fmean(r['sample_seconds'] for r in rows):.1f} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", nargs="+", help="print Markdown tables of these result files")
    parser.add_argument("--dataset", default="ego_small")
    parser.add_argument("--max-steps", type=int, default=1400)
    parser.add_argument("--train-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--num", type=int, default=1024)
    parser.add_argument("--connected-weights", type=float, nargs="*", default=[1.0, 3.0, 10.0])
    parser.add_argument("--edge-targets", type=float, nargs="*", default=[])
    parser.add_argument("--edge-weight", type=float, default=1.0)
    parser.add_argument("--run-root", default="runs/control")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    torch.set_num_threads(1)
    write_report(run(args), args.out)


if __name__ == "__main__":
    main()
