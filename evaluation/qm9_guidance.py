"""Steering QM9 samples towards a QED target with a property term, at several weights.

Loads a trained MoleculeEBM, fits a QED regressor on its training molecules
(:class:`edgraph.models.PropertyRegressor`, seed 0), then samples ``--num`` molecules at each
weight λ of the term λ (f(x) − y*)² (λ = 0: unconditional) with the model's default sampler, and
scores each set by the true RDKit QED of its valid molecules, validity without correction,
uniqueness and novelty (against the training split). Weights and the target are fixed before the
run; nothing is chosen on the test split.

    python evaluation/qm9_guidance.py --checkpoint runs/qm9 --out evaluation/results/control/qm9_qed.json
    python evaluation/qm9_guidance.py --table evaluation/results/control/qm9_qed.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from graph_results import provenance, write_report

from edgraph.chem import molecule_properties
from edgraph.datasets import load_molecules
from edgraph.metrics.molecular import canonical_set, molecule_metrics
from edgraph.models import MoleculeEBM, PropertyRegressor


def score(model: MoleculeEBM, regressor: PropertyRegressor, weight: float, args: argparse.Namespace, train) -> dict:
    terms = [regressor.term(args.target, weight)] if weight else []
    start = time.perf_counter()
    tensors = model.sample_tensors(args.num, seed=args.seed, terms=terms)
    seconds = time.perf_counter() - start
    smiles = model.decode(tensors)
    with torch.no_grad():
        predicted = regressor(*tensors)
    qed = [v for v in molecule_properties(smiles, "qed") if v is not None]
    metrics = molecule_metrics(smiles, train, [], nspdk=False, fcd=False)
    return {
        "weight": weight,
        "sample_seconds": seconds,
        "validity": metrics["validity"],
        "uniqueness": metrics["uniqueness"],
        "novelty": metrics["novelty"],
        "qed_mean": statistics.fmean(qed),
        "qed_std": statistics.stdev(qed),
        "qed_median": statistics.median(qed),
        "predicted_qed_mean": predicted.mean().item(),
        "qed": qed,
    }


def run(args: argparse.Namespace) -> dict:
    model = MoleculeEBM.load(args.checkpoint)
    start = time.perf_counter()
    regressor = PropertyRegressor.fit(model, "qed", seed=0, progress=True)
    fit_seconds = time.perf_counter() - start
    train_smiles = load_molecules("qm9", "train")
    train = canonical_set(train_smiles)
    train_qed = [v for v in molecule_properties(train_smiles, "qed") if v is not None]
    rows = []
    for weight in args.weights:
        rows.append(score(model, regressor, weight, args, train))
        print(json.dumps({k: v for k, v in rows[-1].items() if k != "qed"}), flush=True)
    return {
        "checkpoint": str(args.checkpoint),
        "steps_trained": model.steps_trained,
        "sampler": model.config.sampler,
        "sampler_steps": model.config.sampler_steps,
        "target": args.target,
        "num": args.num,
        "regressor": {
            "validation_mae": regressor.validation_mae.item(),
            "fit_seconds": fit_seconds,
            "hidden": regressor.hidden,
            "layers": regressor.layers,
        },
        "train_qed_mean": statistics.fmean(train_qed),
        "train_qed_std": statistics.stdev(train_qed),
        "rows": rows,
        **provenance(),
    }


def table(path: str) -> str:
    report = json.loads(Path(path).read_text())
    lines = [
        f"### QM9: QED target {report['target']} (`{report['command']}` at {str(report['git_commit'])[:7]})",
        "",
        f"Model: {report['steps_trained']:,} training steps; {report['num']:,} samples per weight "
        f"({report['sampler']}, {report['sampler_steps']:,} steps, seed fixed). QED regressor: mean absolute "
        f"error {report['regressor']['validation_mae']:.3f} on held-out training molecules, fit in "
        f"{report['regressor']['fit_seconds']:.0f} s. Training molecules: QED {report['train_qed_mean']:.3f} "
        f"± {report['train_qed_std']:.3f}. QED: true RDKit values of the valid samples (mean ± std, median); "
        "predicted: the regressor's mean over all samples.",
        "",
        "| weight λ | validity w/o corr. | uniqueness | novelty | QED mean ± std | QED median | predicted "
        "| sampling (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['weight']:g} | {r['validity']:.1%} | {r['uniqueness']:.1%} | {r['novelty']:.1%} "
            f"| {r['qed_mean']:.3f} ± {r['qed_std']:.3f} | {r['qed_median']:.3f} | {r['predicted_qed_mean']:.3f} "
            f"| {r['sample_seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def plot(path: str, figure: str) -> None:
    """True QED of the valid samples against the weight (box plots), with the target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report = json.loads(Path(path).read_text())
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.boxplot([r["qed"] for r in report["rows"]], showfliers=False)
    ax.set_xticks(range(1, len(report["rows"]) + 1), [f"{r['weight']:g}" for r in report["rows"]])
    ax.axhline(report["target"], color="tab:red", linestyle="--", label=f"target {report['target']}")
    ax.axhline(report["train_qed_mean"], color="gray", linestyle=":", label="training mean")
    ax.set_xlabel("weight λ of λ (f(x) − y*)²")
    ax.set_ylabel("true QED of valid samples")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(figure, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", help="print the Markdown table of this result file")
    parser.add_argument("--plot", nargs=2, metavar=("RESULTS", "FIGURE"), help="draw QED against the weight")
    parser.add_argument("--checkpoint", default="runs/qm9")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 30.0, 100.0, 300.0])
    parser.add_argument("--target", type=float, default=0.7)
    parser.add_argument("--num", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    if args.plot:
        plot(*args.plot)
        return
    torch.set_num_threads(args.threads)
    write_report(run(args), args.out)


if __name__ == "__main__":
    main()
