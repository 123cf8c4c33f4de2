"""Generation results on ego_small / community_small_gdss: one command per row of the tables.

For each training seed: train a GraphEBM (``--model latent``: a LatentGraphEBM) for a step or
wall-clock budget (neither: the model's defaults), then for each sampling seed
sample graphs and compute MMD^2 against the test split under the "gdss" and "gran" protocols,
at two sample sizes: 1,024 generated graphs, and as many as the test split (GDSS's setting,
5 sampling seeds). The real-vs-real floor at the same sizes is computed alongside.

    python evaluation/graph_results.py --dataset ego_small --max-steps 1400 --train-seeds 0 1 2 \
        --out evaluation/results/graphs/ego_small_ed_seeds012.json [--objective pcd --cd-sampler gwg --cd-steps 10]
    python evaluation/graph_results.py --table evaluation/results/graphs/*.json  # the tables, as Markdown
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from edgraph import GraphEBM, __version__
from edgraph.cli import GRAPH_MODELS as MODELS
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import graph_mmd, graph_novelty, graph_uniqueness, reference_floor
from edgraph.models import INITS, LatentGraphEBM
from edgraph.training import TrainConfig, metrics_files

STATS = ("degree", "clustering", "orbit", "spectral")
PROTOCOLS = ("gdss", "gran")


def mean_std(values: list[float]) -> dict[str, float]:
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}


def evaluate(
    model: GraphEBM | LatentGraphEBM, train: list, test: list, num: int, seeds: list[int], sampler_options: dict
) -> dict:
    """MMD of ``num`` sampled graphs per seed, both protocols, plus sampling wall time, uniqueness
    and novelty (against the training graphs)."""
    runs = []
    for seed in seeds:
        start = time.perf_counter()
        graphs = model.sample(num, seed=seed, **sampler_options)
        seconds = time.perf_counter() - start
        runs.append(
            {
                "seed": seed,
                "sample_seconds": seconds,
                "mean_edges": statistics.fmean(g.number_of_edges() for g in graphs),
                "uniqueness": graph_uniqueness(graphs),
                "novelty": graph_novelty(graphs, train),
                **{p: graph_mmd(graphs, test, STATS, protocol=p) for p in PROTOCOLS},
            }
        )
    return {"num_generated": num, "runs": runs}


def run(args: argparse.Namespace) -> dict:
    info = dataset_info(args.dataset)
    train, test = load_graphs(args.dataset, "train"), load_graphs(args.dataset, "test")
    model_options, train_options = json.loads(args.model_options), json.loads(args.train_options)
    sampler_options = {
        k: v
        for k, v in (
            ("sampler", args.sampler),
            ("steps", args.steps),
            ("step_size", args.step_size),
            ("init", args.init),
        )
        if v is not None
    }
    results = []
    for train_seed in args.train_seeds:
        kind = "" if args.model == "graph" else f"{args.model}-"
        run_dir = Path(args.run_root) / f"{args.dataset}-{kind}{args.objective}-seed{train_seed}"
        model, train_seconds = trained_model(
            args, run_dir, info.max_nodes, model_options, train_options, train_seed, train, test
        )
        results.append(
            {
                "train_seed": train_seed,
                "train_seconds": train_seconds,
                "steps": model.steps_trained,
                "selected_step": model.selected_step,
                "decoder_temperature": getattr(model, "decoder_temperature", None),
                "large": evaluate(model, train, test, args.num, args.sample_seeds, sampler_options),
                "test_size": evaluate(model, train, test, len(test), list(range(5)), sampler_options),
                "validation_log": [str(p) for p in metrics_files(run_dir)],
                "validation": validation_curve([str(p) for p in metrics_files(run_dir)]),
            }
        )
        print(json.dumps({k: v for k, v in results[-1].items() if k != "validation_log"})[:2000], flush=True)
    floors = {
        p: {str(n): reference_floor(train, test, n, range(5), protocol=p, stats=STATS) for n in (args.num, len(test))}
        for p in PROTOCOLS
    }
    return {
        "dataset": args.dataset,
        "model": args.model,
        "objective": args.objective,
        "minutes": args.minutes,
        "max_steps": args.max_steps,
        "model_config": asdict(model.config),
        "model_options": model_options,
        "train_options": train_options,
        "sampler_options": sampler_options,
        "cd": {"sampler": args.cd_sampler, "steps": args.cd_steps, "energy_penalty": args.cd_energy_penalty}
        if args.objective == "pcd"
        else None,
        "train_seeds": args.train_seeds,
        "sample_seeds": args.sample_seeds,
        "results": results,
        "floors": floors,
        "data_novelty": graph_novelty(test, train, clean=False),
        **provenance(),
    }


def trained_model(
    args: argparse.Namespace,
    run_dir: Path,
    max_nodes: int,
    model_options: dict,
    train_options: dict,
    seed: int,
    train: list,
    test: list,
    labels: list[int] | None = None,
) -> tuple[GraphEBM | LatentGraphEBM, float]:
    """The model of one training seed and its training wall time: trained in ``run_dir``, or loaded
    from it when an earlier command of the same recipe finished there (so several sampling settings
    share one training run; the recipe is checked, not assumed). ``labels``: the classes of the
    ``train`` graphs, for a class-conditional model. With neither a step nor a time budget the
    model's own defaults apply; with a time budget alone, training runs until the time is up."""
    budget = {"max_minutes": args.minutes, "max_steps": args.max_steps} if args.minutes or args.max_steps else {}
    options = dict(
        **budget,
        seed=seed,
        objective=args.objective,
        cd_sampler=args.cd_sampler,
        cd_steps=args.cd_steps,
        cd_energy_penalty=args.cd_energy_penalty,
        **({} if args.val_every is None else {"val_every": args.val_every}),
        **train_options,
    )
    model_class = MODELS[args.model]
    # the training options as fit resolves them, defaults included: a run made under other defaults is another recipe
    resolved = asdict(TrainConfig.from_dict({**model_class.fit_defaults, **options}))
    recipe = {"model": model_class(max_nodes, **model_options).metadata()["config"], "train": resolved}
    done = run_dir / "recipe.json"
    if done.is_file():
        saved = json.loads(done.read_text())
        if saved["recipe"] != recipe:
            raise SystemExit(f"{run_dir} holds a run of another recipe; choose another --run-root")
        return model_class.load(run_dir), saved["train_seconds"]
    model = model_class(max_nodes, **model_options)
    labelled = {} if labels is None else {"labels": labels}
    start = time.perf_counter()
    model.fit(train, run_dir=run_dir, reference=test, progress=False, **labelled, **options)
    seconds = time.perf_counter() - start
    done.write_text(json.dumps({"recipe": recipe, "train_seconds": seconds}))
    return model, seconds


def ed_budget(max_steps: int | None = None, minutes: float | None = None, model: str = "graph") -> argparse.Namespace:
    """The training recipe :func:`trained_model` reads for ED under a step or time budget, as the
    experiments outside this script use it: plain ED with no validation for ``GraphEBM``, the
    model's own validation defaults for ``LatentGraphEBM``."""
    return argparse.Namespace(
        model=model,
        minutes=minutes,
        max_steps=max_steps,
        objective="ed",
        cd_sampler="gwg",
        cd_steps=10,
        cd_energy_penalty=0.0,
        val_every=0 if model == "graph" else None,
    )


def provenance() -> dict:
    """Where a result comes from: the commit, the versions, the threads and the command line."""
    return {
        "git_commit": git_commit(),
        "versions": {"edgraph": __version__, "torch": torch.__version__, "python": platform.python_version()},
        "threads": torch.get_num_threads(),
        "command": " ".join(sys.argv),
    }


def write_report(report: dict, out: str | None) -> None:
    """Write ``report`` as JSON to ``out`` (creating its folder), when an ``out`` is given."""
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(report, indent=1))


def git_commit() -> str | None:
    """The commit of the working tree that produced a result (``None`` outside a git checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent)
    except OSError:
        return None
    return out.stdout.strip() or None


def sampling_runs(report: dict, setting: str) -> list[dict]:
    """Every (training seed, sampling seed) run of ``setting`` ("large" or "test_size")."""
    return [r for result in report["results"] for r in result[setting]["runs"]]


def summarise(report: dict, setting: str, protocol: str) -> dict[str, dict[str, float]]:
    """Mean and std of each statistic over all (training seed, sampling seed) runs."""
    runs = sampling_runs(report, setting)
    return {s: mean_std([r[protocol][s] for r in runs]) for s in STATS}


def budget(report: dict, setting: str) -> tuple[float, float, float]:
    """Mean training seconds, training steps and sampling seconds (of ``setting``) over all runs."""
    results = report["results"]
    return (
        statistics.fmean(r["train_seconds"] for r in results),
        statistics.fmean(r["steps"] for r in results),
        statistics.fmean(r["sample_seconds"] for r in sampling_runs(report, setting)),
    )


def table(paths: list[str]) -> str:
    """Markdown tables of result files: ours, with the floors at the same sample sizes."""
    lines = []
    for protocol in PROTOCOLS:
        lines += [
            f"### Protocol `{protocol}`",
            "",
            "| dataset | method | train (s) | steps | generated | sampling (s) "
            "| degree | clustering | orbit | spectral |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for path in paths:
            report = json.loads(Path(path).read_text())
            method = label(path, report)
            for setting in ("large", "test_size"):
                num = report["results"][0][setting]["num_generated"]
                train_s, steps, sample_s = budget(report, setting)
                ours = summarise(report, setting, protocol)
                floor = report["floors"][protocol][str(num)]
                cells = [f"{ours[s]['mean']:.4f} ± {ours[s]['std']:.4f}" for s in STATS]
                floor_cells = [f"{floor[s]['mean']:.4f} ± {floor[s]['std']:.4f}" for s in STATS]
                lines.append(
                    f"| {report['dataset']} | {method} | {train_s:.0f} | {steps:.0f} | {num} | "
                    f"{sample_s:.1f} | " + " | ".join(cells) + " |"
                )
                lines.append(
                    f"| {report['dataset']} | real-vs-real floor | | | {num} | | " + " | ".join(floor_cells) + " |"
                )
        lines.append("")
    return "\n".join(lines)


def variant(report: dict) -> str:
    """What sets a result file apart from the defaults: objective, model, training and sampler options."""
    parts = [report["objective"].upper()] if report.get("model", "graph") == "graph" else ["latent ED prior"]
    if report["cd"]:
        parts.append(f"{report['cd']['sampler']} k={report['cd']['steps']} penalty={report['cd']['energy_penalty']}")
    if report.get("max_steps"):
        parts.append(f"max_steps={report['max_steps']}")
    if report.get("minutes"):
        parts.append(f"minutes={report['minutes']:g}")
    for key in ("model_options", "train_options", "sampler_options"):
        parts += [f"{k}={v}" for k, v in report.get(key, {}).items()]
    return " ".join(parts)


def label(path: str, report: dict) -> str:
    """A table row's method: its variant and the result file it comes from."""
    return f"{variant(report)} (`{Path(path).stem}`)"


def times_floor(value: float, floor: float) -> str:
    """``value`` as a multiple of the floor, e.g. ``"1.20×"``; a floor of 0 (trees have no
    clustering) has no multiples, so the value is marked as above it or at it.

    >>> times_floor(0.012, 0.01), times_floor(0.5, 0.0), times_floor(0.0, 0.0)
    ('1.20×', 'floor 0', 'at floor 0')
    """
    if floor > 0:
        return f"{value / floor:.2f}×"
    return "at floor 0" if value == 0 else "floor 0"


def pooled(paths: list[str]) -> list[tuple[str, dict]]:
    """The result files with those of the same dataset and variant (and floors) merged into one
    report over all their training seeds, labelled by their file names joined with ``+``."""
    groups: dict[tuple[str, str], tuple[list[str], dict]] = {}
    for path in paths:
        report = json.loads(Path(path).read_text())
        key = (report["dataset"], variant(report))
        if key not in groups:
            groups[key] = ([path], report)
            continue
        names, merged = groups[key]
        if merged["floors"] != report["floors"]:
            raise SystemExit(f"{path} and {names[0]} have different floors; they cannot be pooled")
        names.append(path)
        merged["results"] = merged["results"] + report["results"]
        merged["train_seeds"] = merged["train_seeds"] + report["train_seeds"]
    return [("+".join(Path(p).stem for p in names) + ".json", report) for names, report in groups.values()]


def ablation_table(paths: list[str], pool: bool = False) -> str:
    """One row per result file: the variant, its budget and its gdss MMD at the large sample size,
    each statistic also as a multiple of the real-vs-real floor, the share of novel graphs (not
    isomorphic to a training graph), and the same share among the test graphs themselves. With
    ``pool``, one row per dataset and variant over the seeds of all its files (:func:`pooled`)."""
    lines = [
        "| dataset | variant | seeds (train × sample) | train (s) | steps | sampling (s) "
        "| degree | clustering | orbit | novel | test graphs novel |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    reports = pooled(paths) if pool else [(path, json.loads(Path(path).read_text())) for path in paths]
    for path, report in reports:
        ours = summarise(report, "large", "gdss")
        num = report["results"][0]["large"]["num_generated"]
        floor = report["floors"]["gdss"][str(num)]
        train_s, steps, sample_s = budget(report, "large")
        cells = [f"{ours[s]['mean']:.4f} ({times_floor(ours[s]['mean'], floor[s]['mean'])})" for s in STATS[:3]]
        seeds = f"{','.join(map(str, report['train_seeds']))} × {','.join(map(str, report['sample_seeds']))}"
        runs = sampling_runs(report, "large")
        novel = statistics.fmean(r["novelty"] for r in runs)
        data_novel = f"{report['data_novelty']:.2f}" if "data_novelty" in report else "–"
        lines.append(
            f"| {report['dataset']} | {label(path, report)} | {seeds} | {train_s:.0f} | {steps:.0f} | {sample_s:.1f} | "
            + " | ".join(cells)
            + f" | {novel:.2f} | {data_novel} |"
        )
    return "\n".join(lines)


def validation_curve(csv_paths: list[str]) -> list[dict[str, float]]:
    """Rows ``{step, seconds, degree, clustering}`` of the validation MMD logged during training."""
    rows = []
    for path in csv_paths:
        with open(path) as handle:
            for row in csv.DictReader(handle):
                if row.get("val_degree"):
                    rows.append(
                        {
                            "step": int(row["step"]),
                            "seconds": float(row["val_seconds"]),
                            "degree": float(row["val_degree"]),
                            "clustering": float(row["val_clustering"]),
                        }
                    )
    return rows


def figures(paths: list[str], out_dir: Path) -> None:
    """Embed validation curves in the result files; plot MMD against training time (one line per
    method and seed) and sampled graphs next to test graphs for each dataset."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from edgraph.plotting import plot_graph_grid

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for path in paths:
        report = json.loads(Path(path).read_text())
        for result in report["results"]:
            if "validation" not in result and all(Path(p).is_file() for p in result.get("validation_log", [])):
                result["validation"] = validation_curve(result["validation_log"])
            curve = result.get("validation", [])
            label = f"{report['dataset']} {report['objective'].upper()} seed {result['train_seed']}"
            for ax, stat in zip(axes, ("degree", "clustering")):
                if curve:
                    ax.plot([r["seconds"] for r in curve], [r[stat] for r in curve], marker=".", label=label)
        Path(path).write_text(json.dumps(report, indent=2))
        run_dir = (
            Path(report["results"][0]["validation_log"][0]).parents[2]
            if report["results"][0].get("validation_log")
            else None
        )
        if run_dir is not None and (run_dir / "model.pt").is_file() and report["objective"] == "ed":
            test = load_graphs(report["dataset"], "test")
            plot_graph_grid(
                {"sampled": MODELS[report.get("model", "graph")].load(run_dir).sample(8, seed=0), "test": test[:8]},
                out_dir / f"{report['dataset']}_samples.png",
            )
    if not any(ax.lines for ax in axes):  # no run logged validation curves (--val-every)
        plt.close(fig)
        return
    for ax, stat in zip(axes, ("degree", "clustering")):
        ax.set_xlabel("training wall time (s)")
        ax.set_ylabel(f"{stat} MMD² (64 samples vs test)")
        ax.set_yscale("log")
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out_dir / "mmd_vs_time.png", dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", nargs="+", help="print Markdown tables of these result files")
    parser.add_argument("--ablation", nargs="+", help="print one compact row per result file (1,024 samples, gdss)")
    parser.add_argument("--pool", action="store_true", help="--ablation: one row per dataset and variant")
    parser.add_argument("--figures", nargs="+", help="write figures of these result files")
    parser.add_argument("--dataset", default="ego_small")
    parser.add_argument(
        "--minutes",
        type=float,
        help="training wall-clock budget (a step budget alone is "
        "reproducible run for run; a time budget also steers the cosine schedule by the clock)",
    )
    parser.add_argument("--max-steps", type=int, help="training step budget (whichever comes first)")
    parser.add_argument("--train-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sample-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--num", type=int, default=1024)
    parser.add_argument(
        "--model", default="graph", choices=list(MODELS), help="graph: GraphEBM; latent: LatentGraphEBM"
    )
    parser.add_argument("--objective", default="ed", choices=["ed", "pcd"])
    parser.add_argument("--cd-sampler", default="gwg")
    parser.add_argument("--cd-steps", type=int, default=10)
    parser.add_argument("--cd-energy-penalty", type=float, default=0.0)
    parser.add_argument("--sampler")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--step-size", type=float)
    parser.add_argument("--init", choices=INITS, help="chain starts (default: noise)")
    parser.add_argument("--model-options", default="{}", help="JSON of the model's options")
    parser.add_argument("--train-options", default="{}", help="JSON of further TrainConfig options (ema_decay, ...)")
    parser.add_argument("--val-every", type=int, help="log validation MMD every N steps")
    parser.add_argument("--run-root", default="runs/evaluation")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    if args.ablation:
        print(ablation_table(args.ablation, args.pool))
        return
    if args.figures:
        figures(args.figures, Path(args.figures[0]).parent)
        return
    report = run(args)
    out = Path(args.out or f"evaluation/results/{args.dataset}_{args.objective}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"-> {out}")


if __name__ == "__main__":
    main()
