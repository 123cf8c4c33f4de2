"""Planar, SBM and lobster graphs (64-187 nodes) on a CPU or GPU budget: V.U.N., MMD and PGD.

One training run per dataset of ``GraphEBM`` or ``LatentGraphEBM`` (``--model graph|latent``) on
the training graphs minus a validation fifth, for ``--minutes`` wall minutes (0: the model's own
default budget); each ``--setting`` of the sampler is scored on the validation graphs (V.U.N., then
the sum of the gran-protocol MMDs), and only the best one samples for the test split, which is
scored once: V.U.N., MMD against the test graphs next to the real-vs-real floor at the same
sample size, and the PolyGraph Discrepancy.

    python evaluation/large_graphs.py --dataset planar --minutes 60 --setting gwg:2000 --setting dmala:200:0.1 \\
        --out evaluation/results/large/planar.json
    python evaluation/large_graphs.py --dataset sbm --model latent --minutes 0 --setting mala:1000:0.05 \\
        --out evaluation/results/large/sbm_latent.json
    python evaluation/large_graphs.py --table evaluation/results/large/*.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from graph_results import ed_budget, git_commit, mean_std, trained_model

from edgraph import GraphEBM, __version__
from edgraph.cli import GRAPH_MODELS
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import graph_mmd, reference_floor
from edgraph.metrics.polygraph_metrics import polygraph_discrepancy
from edgraph.metrics.vun import graph_vun
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out

STATS = ("degree", "clustering", "orbit", "spectral")


def parse_setting(text: str) -> dict:
    """``SAMPLER:STEPS[:STEP_SIZE]`` as sampling options, e.g. ``dmala:200:0.1``."""
    sampler, steps, *step_size = text.split(":")
    return {"sampler": sampler, "steps": int(steps), **({"step_size": float(step_size[0])} if step_size else {})}


def score(
    model: GraphEBM | LatentGraphEBM, setting: str, family: str, reference: list, train: list, seed: int, pgd: bool
) -> dict:
    """Sample as many graphs as ``reference`` holds and score them against it (validity: ``family``)."""
    start = time.perf_counter()
    samples = model.sample(len(reference), seed=seed, **parse_setting(setting))
    seconds = time.perf_counter() - start
    row = {"setting": setting, "seed": seed, "sampling_seconds": seconds, "num": len(samples)}
    row["mmd"] = graph_mmd(samples, reference, stats=STATS, protocol="gran")
    row.update(graph_vun(samples, train, family))
    row["mean_edges"] = statistics.fmean(g.number_of_edges() for g in samples)
    if pgd:
        row.update(polygraph_discrepancy(samples, reference))
    return row


def run(args: argparse.Namespace) -> dict:
    info = dataset_info(args.dataset)
    train, test = load_graphs(args.dataset, "train"), load_graphs(args.dataset, "test")
    fit_graphs, validation = hold_out(train, 0.2, args.seed)
    training = ed_budget(minutes=args.minutes, model=args.model)
    options = "".join(f"-{k}{v}" for k, v in sorted(json.loads(args.model_options).items()))
    model_name = "" if args.model == "graph" else f"-{args.model}"
    run_dir = Path(args.run_root) / f"{args.dataset}{model_name}-{args.minutes:g}min{options}-seed{args.seed}"
    model, train_seconds = trained_model(
        training, run_dir, info.max_nodes, json.loads(args.model_options), {}, args.seed, fit_graphs, validation
    )
    print(f"trained {model.steps_trained} steps in {train_seconds:.0f} s", flush=True)
    selection = [score(model, s, args.dataset, validation, fit_graphs, 0, pgd=False) for s in args.setting]
    for row in selection:
        print(json.dumps(row), flush=True)
    best = max(selection, key=lambda row: (row["vun"], -sum(row["mmd"].values())))["setting"]
    test_rows = [score(model, best, args.dataset, test, train, seed, pgd=True) for seed in args.sample_seeds]
    for row in test_rows:
        print(json.dumps(row), flush=True)
    return {
        "dataset": args.dataset,
        "model": args.model,
        "minutes": args.minutes,
        "seed": args.seed,
        "model_options": json.loads(args.model_options),
        "steps": model.steps_trained,
        "decoder_temperature": getattr(model, "decoder_temperature", None),
        "train_seconds": train_seconds,
        "fit_graphs": len(fit_graphs),
        "validation_graphs": len(validation),
        "selection": selection,
        "chosen_setting": best,
        "test": test_rows,
        "floor": reference_floor(train, test, len(test), range(5), protocol="gran", stats=STATS),
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "git_commit": git_commit(),
        "versions": {"edgraph": __version__, "torch": torch.__version__},
        "threads": torch.get_num_threads(),
        "command": " ".join(sys.argv),
    }


def formatted(values: list[float]) -> str:
    spread = mean_std(values)
    return f"{spread['mean']:.4f} ± {spread['std']:.4f}"


def table(paths: list[str]) -> str:
    """Markdown rows, one per training run (seed): test V.U.N., PGD and gran MMDs (mean ± std over
    sampling seeds), with the floor."""
    lines = [
        "| dataset | model | seed | budget | steps | sampler | generated | sampling (s) | V.U.N. | PGD | degree "
        "| clustering | orbit | spectral |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    reports = [json.loads(Path(path).read_text()) for path in paths]
    for i, report in enumerate(reports):
        rows = report["test"]
        cells = [
            report["dataset"],
            GRAPH_MODELS[report.get("model", "graph")].__name__,
            str(report["seed"]),
            (f"{report['minutes']:g} min" if report["minutes"] else "defaults")
            + f" ({report['device']}"
            + (f", {report['threads']} thread)" if report["device"] == "cpu" else ")"),
            str(report["steps"]),
            report["chosen_setting"]
            + ("" if report.get("decoder_temperature") is None else f", T = {report['decoder_temperature']:g}"),
            str(rows[0]["num"]),
            f"{statistics.fmean(r['sampling_seconds'] for r in rows):.1f}",
            formatted([r["vun"] for r in rows]),
            formatted([r["pgd"] for r in rows]),
            *(formatted([r["mmd"][s] for r in rows]) for s in STATS),
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if i + 1 == len(reports) or reports[i + 1]["dataset"] != report["dataset"]:  # one floor per dataset
            floor = report["floor"]
            lines.append(
                f"| {report['dataset']} | | | real-vs-real floor | | | {rows[0]['num']} | | | | "
                + " | ".join(f"{floor[s]['mean']:.4f} ± {floor[s]['std']:.4f}" for s in STATS)
                + " |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", nargs="+", help="print a Markdown table of these result files")
    parser.add_argument("--dataset", choices=["planar", "sbm", "lobster"], default="planar")
    parser.add_argument(
        "--minutes", type=float, default=60.0, help="training wall-time budget (0: the model's default budget)"
    )
    parser.add_argument("--seed", type=int, default=0, help="training seed (and validation split)")
    parser.add_argument("--setting", action="append", help="SAMPLER:STEPS[:STEP_SIZE], repeatable")
    parser.add_argument("--sample-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--model", choices=sorted(GRAPH_MODELS), default="graph", help="GraphEBM or LatentGraphEBM")
    parser.add_argument("--model-options", default="{}", help="JSON of the model's options")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--run-root", default="runs/large")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    if not args.setting or not args.out:
        parser.error("a run needs --setting (at least one) and --out")
    torch.set_num_threads(args.threads)
    report = run(args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(table([args.out]))


if __name__ == "__main__":
    main()
