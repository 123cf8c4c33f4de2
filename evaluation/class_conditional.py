"""Class-conditional generation: one GraphEBM trained on ego_small ∪ community_small_gdss, labelled by source.

For each training seed: hold out a fifth of the labelled training graphs (seeded), train
``GraphEBM(num_classes=2)`` on the rest, choose the classifier-free guidance weight on the held-out
graphs, then score the test split once:

* validation: for each weight, 256 samples per class against that class's held-out graphs (gdss
  degree / clustering / orbit MMD); a weight scores the mean over classes of
  sum(MMD) / sum(floor), the floor being training graphs against the same held-out graphs at the
  same sample size; the weight with the lowest score, pooled over seeds, is chosen;
* test: 1,024 samples per class at the chosen weight against that class's test split, next to the
  real-vs-real floor at 1,024 samples; and the mixed-label baseline, 1,024 samples of the same
  model's unlabelled energy E(x, no label) (a model of the union) scored against each class.

    cd evaluation
    python class_conditional.py --train-seeds 0 1 2 --rewire 0.5 --out results/control/class_conditional.json
    python class_conditional.py --table results/control/class_conditional.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from graph_results import ed_budget, provenance, trained_model, write_report

from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import graph_mmd, reference_floor
from edgraph.models.base import hold_out

CLASSES = ("ego_small", "community_small_gdss")
STATS = ("degree", "clustering", "orbit")
FLOOR_SEEDS = range(5)


def floor_ratio(mmd: dict[str, float], floor: dict[str, dict[str, float]]) -> float:
    """sum of MMD over the statistics divided by the sum of their floors."""
    return sum(mmd[s] for s in STATS) / sum(floor[s]["mean"] for s in STATS)


def split(seed: int) -> tuple[list, list, list, list]:
    """Training graphs and labels, and held-out graphs and labels, of the labelled union."""
    graphs, labels = [], []
    for label, name in enumerate(CLASSES):
        part = load_graphs(name, "train")
        graphs += part
        labels += [label] * len(part)
    kept, held = hold_out(list(range(len(graphs))), 0.2, seed)
    return (
        [graphs[i] for i in kept],
        [labels[i] for i in kept],
        [graphs[i] for i in held],
        [labels[i] for i in held],
    )


def run(args: argparse.Namespace) -> dict:
    training = ed_budget(max_steps=args.max_steps)
    max_nodes = max(dataset_info(name).max_nodes for name in CLASSES)
    tests = [load_graphs(name, "test") for name in CLASSES]
    trains = [load_graphs(name, "train") for name in CLASSES]
    seeds = []
    for seed in args.train_seeds:
        graphs, labels, held, held_labels = split(seed)
        run_dir = Path(args.run_root) / f"seed{seed}"
        options = {"num_classes": len(CLASSES), "label_dropout": args.label_dropout, "rewire": args.rewire}
        model, train_seconds = trained_model(training, run_dir, max_nodes, options, {}, seed, graphs, held, labels)
        validation = {}
        for label in range(len(CLASSES)):
            own = [g for g, c in zip(held, held_labels) if c == label]
            mine = [g for g, c in zip(graphs, labels) if c == label]
            floor = reference_floor(mine, own, args.val_num, FLOOR_SEEDS, stats=STATS)
            for weight in args.weights:
                samples = model.sample(args.val_num, label=label, guidance=weight, seed=seed)
                mmd = graph_mmd(samples, own, STATS)
                validation.setdefault(str(weight), {})[CLASSES[label]] = {
                    "mmd": mmd,
                    "floor": floor,
                    "ratio": floor_ratio(mmd, floor),
                }
        seeds.append({"train_seed": seed, "train_seconds": train_seconds, "model": model, "validation": validation})
        print(json.dumps({k: v for k, v in seeds[-1].items() if k != "model"})[:1500], flush=True)
    pooled = {
        w: statistics.fmean(r["ratio"] for s in seeds for r in s["validation"][str(w)].values()) for w in args.weights
    }
    chosen = min(args.weights, key=lambda w: pooled[w])
    floors = [reference_floor(train, test, args.num, FLOOR_SEEDS, stats=STATS) for train, test in zip(trains, tests)]
    for entry in seeds:
        model = entry.pop("model")
        entry["test"] = {}
        unlabelled = model.sample(args.num, seed=entry["train_seed"])
        for label, name in enumerate(CLASSES):
            start = time.perf_counter()
            samples = model.sample(args.num, label=label, guidance=chosen, seed=entry["train_seed"])
            seconds = time.perf_counter() - start
            mmd = graph_mmd(samples, tests[label], STATS)
            mixed = graph_mmd(unlabelled, tests[label], STATS)
            entry["test"][name] = {
                "mmd": mmd,
                "ratio": floor_ratio(mmd, floors[label]),
                "mixed_label_mmd": mixed,
                "mixed_label_ratio": floor_ratio(mixed, floors[label]),
                "sample_seconds": seconds,
            }
        print(json.dumps(entry["test"]), flush=True)
    return {
        "classes": CLASSES,
        "max_steps": args.max_steps,
        "label_dropout": args.label_dropout,
        "rewire": args.rewire,
        "weights": args.weights,
        "validation_score": {str(w): pooled[w] for w in args.weights},
        "chosen_weight": chosen,
        "num": args.num,
        "val_num": args.val_num,
        "floor": dict(zip(CLASSES, floors)),
        "seeds": seeds,
        **provenance(),
    }


def table(path: str) -> str:
    report = json.loads(Path(path).read_text())
    seeds = report["seeds"]
    lines = [
        f"### Class-conditional: ego_small ∪ community_small_gdss ({len(seeds)} training seeds; "
        f"`{report['command']}` at {str(report['git_commit'])[:7]})",
        "",
        "Guidance weight chosen on the held-out fifth (mean over classes and seeds of sum(MMD) / sum(floor), "
        f"{report['val_num']} samples per class): "
        + ", ".join(f"w = {w}: {s:.2f}" for w, s in report["validation_score"].items())
        + f"; chosen w = {report['chosen_weight']}.",
        "",
        f"Test split, {report['num']:,} samples per class and seed, gdss MMD (mean over seeds); "
        "ratio: sum(MMD) / sum(floor), the mean over seeds (min–max).",
        "",
        "| class | samples | degree | clustering | orbit | ratio to floor |",
        "|---|---|---|---|---|---|",
    ]
    for name in report["classes"]:
        floor = report["floor"][name]
        lines.append(
            f"| {name} | real vs real (floor) | " + " | ".join(f"{floor[s]['mean']:.4f}" for s in STATS) + " | 1 |"
        )
        for key, what in (("", f"label {name}, w = {report['chosen_weight']}"), ("mixed_label_", "no label (mixed)")):
            rows = [s["test"][name] for s in seeds]
            mmd = " | ".join(f"{statistics.fmean(r[key + 'mmd'][s] for r in rows):.4f}" for s in STATS)
            ratios = [r[key + "ratio"] for r in rows]
            lines.append(
                f"| {name} | {what} | {mmd} | {statistics.fmean(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f}) |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", help="print the Markdown table of this result file")
    parser.add_argument("--train-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-steps", type=int, default=1400)
    parser.add_argument("--label-dropout", type=float, default=0.1)
    parser.add_argument("--rewire", type=float, help="GraphEBM(rewire=...): add the degree-preserving ED term")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 1.0, 3.0])
    parser.add_argument("--num", type=int, default=1024)
    parser.add_argument("--val-num", type=int, default=256)
    parser.add_argument("--run-root", default="runs/class_conditional")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    torch.set_num_threads(1)
    write_report(run(args), args.out)


if __name__ == "__main__":
    main()
