"""QM9 generation with a MoleculeEBM, evaluated as GDSS reports it (Jo et al., ICML 2022, Table 3).

Trains on the GDSS train split for a wall-clock budget, samples molecules, and computes validity
without and with valence correction, uniqueness, novelty, NSPDK MMD and FCD (against the GDSS
test split). Writes the numbers to a JSON file and the table + a sample grid to a markdown report.

Full setting (10,000 samples, 60 minutes of training on 2 CPU cores):

    python evaluation/qm9.py --minutes 60 --num-samples 10000

Short run (what the recorded report holds unless it says otherwise):

    python evaluation/qm9.py --minutes 10 --num-samples 1000

``--checkpoint RUN_DIR`` samples and evaluates a model trained by an earlier run of this script
(its training record is read from ``RUN_DIR/qm9_training.json``) instead of training one;
``--report-only`` rewrites ``evaluation/qm9.md`` from an existing JSON (with ``--note``, replacing
the remark recorded in it).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import torch

from edgraph import __version__
from edgraph.chem import dense_to_smiles, draw_molecules
from edgraph.datasets import load_molecule_tensors, load_molecules
from edgraph.io import atomic_write
from edgraph.metrics.molecular import molecule_metrics
from edgraph.models.molecule import MoleculeEBM

HERE = Path(__file__).resolve().parent
GDSS = {"validity": 0.9572, "nspdk_mmd": 0.003, "fcd": 2.900}  # GDSS, Table 3 (QM9), w/o correction
TARGETS = {"validity": (">=", 0.90), "uniqueness": (">=", 0.95), "nspdk_mmd": ("<=", 0.01), "fcd": ("<=", 5.0)}
FULL = {"minutes": 60, "num_samples": 10000}


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _command(argv: list[str]) -> str:
    """The command line of this run, without the ``--note`` text (recorded on its own)."""
    words = [Path(argv[0]).name, *argv[1:]]
    if "--note" in words:
        del words[words.index("--note") : words.index("--note") + 2]
    return " ".join(words)


def run(args: argparse.Namespace) -> dict:
    """Train, sample and evaluate; return the results record."""
    torch.set_num_threads(args.threads)
    model_options = dict(
        hidden=args.hidden,
        layers=args.layers,
        num_negatives=args.num_negatives,
        eps_atoms=args.eps_atoms,
        eps_bonds=args.eps_bonds,
        sampler=args.sampler,
        sampler_steps=args.steps,
        step_size=args.step_size,
    )
    train_options = dict(
        max_minutes=args.minutes,
        max_steps=None,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_schedule=args.lr_schedule,
        seed=args.seed,
        progress=False,
        checkpoint_every=500,
    )
    if args.checkpoint:
        model = MoleculeEBM.load(args.checkpoint)
        training = json.loads((Path(args.checkpoint) / "qm9_training.json").read_text())
        model.config.sampler, model.config.sampler_steps, model.config.step_size = (
            args.sampler,
            args.steps,
            args.step_size,
        )
    else:
        run_dir = Path(args.run_dir) if args.run_dir else Path(tempfile.mkdtemp(prefix="edgraph-qm9-"))
        model = MoleculeEBM(**model_options)
        start = time.perf_counter()
        model.fit(load_molecule_tensors("qm9", "train"), run_dir=run_dir, **train_options)
        training = {
            **train_options,
            "steps": model.steps_trained,
            "seconds": round(time.perf_counter() - start, 1),
            "threads": args.threads,
        }
        atomic_write(run_dir / "qm9_training.json", json.dumps(training, indent=2))

    start = time.perf_counter()
    dense = model.sample_tensors(args.num_samples, seed=args.sample_seed, progress=True)
    sample_seconds = time.perf_counter() - start
    smiles = dense_to_smiles(*dense)
    corrected = dense_to_smiles(*dense, correct=True)

    start = time.perf_counter()
    scores = molecule_metrics(
        smiles,
        frozenset(load_molecules("qm9", "train")),
        load_molecules("qm9", "test"),
        corrected=corrected,
        fcd=args.fcd,
    )
    metric_seconds = time.perf_counter() - start

    samples_file = args.out.with_name(args.out.stem + "_samples.json")
    atomic_write(samples_file, json.dumps({"smiles": smiles, "smiles_corrected": corrected}))
    draw_molecules(smiles[:32], args.out.with_name(args.out.stem + "_samples.png"))
    return {
        "dataset": "qm9 (GDSS split: train 120,803, test 13,082)",
        "command": _command(sys.argv),
        "short_run": training["max_minutes"] < FULL["minutes"] or args.num_samples < FULL["num_samples"],
        "model": {**model.metadata()["config"], "atom_types": list(model.config.atom_types)},
        "training": training,
        "sampling": {
            "num_samples": args.num_samples,
            "seed": args.sample_seed,
            "sampler": args.sampler,
            "steps": args.steps,
            "step_size": args.step_size,
            "seconds": round(sample_seconds, 1),
        },
        "metric_seconds": round(metric_seconds, 1),
        "metrics": scores,
        "published_gdss": GDSS,
        "targets": {k: list(v) for k, v in TARGETS.items()},
        "versions": {
            "edgraph": __version__,
            "python": platform.python_version(),
            "torch": torch.__version__,
            "rdkit": _version("rdkit"),
            "fcd": _version("fcd"),
            "platform": platform.platform(),
        },
        "samples_file": samples_file.name,
        "note": args.note,
    }


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def _number(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def report(results: dict) -> str:
    """The markdown report of one results record."""
    m, t, s = results["metrics"], results["training"], results["sampling"]
    meets = {}
    for key, (op, bound) in results["targets"].items():
        value = m.get(key)
        meets[key] = "–" if value is None else ("yes" if (value >= bound if op == ">=" else value <= bound) else "no")
    label = "edgraph MoleculeEBM (ED)" + (" — short run" if results["short_run"] else "")
    lines = [
        "# QM9: MoleculeEBM trained with Energy Discrepancy",
        "",
        "Generated by `evaluation/qm9.py` from `evaluation/results/qm9.json`; do not edit by hand.",
        "",
        f"Recorded run: `{results['command']}` — {t['steps']} training steps in {t['seconds'] / 60:.1f} min "
        f"on {t['threads']} CPU thread{'s' if t['threads'] > 1 else ''} (a machine shared with other jobs), "
        f"{s['num_samples']:,} samples "
        f"({s['sampler']}, {s['steps']} steps, {s['seconds'] / 60:.1f} min).",
    ]
    if results["short_run"]:
        lines += [
            "",
            f"**This row is a short run**, not the full setting ({FULL['num_samples']:,} samples, "
            f"{FULL['minutes']} minutes of training on 2 CPU cores). The full command is:",
            "",
            "    python evaluation/qm9.py --minutes 60 --num-samples 10000",
        ]
    lines += [
        "",
        "| model | samples | validity w/o corr. | validity w/ corr. | uniqueness | novelty | NSPDK MMD | FCD |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| GDSS (Jo et al. 2022, published) | 10,000 | {_percent(GDSS['validity'])} | – | – | – | "
        f"{_number(GDSS['nspdk_mmd'], 5)} | {_number(GDSS['fcd'])} |",
        f"| {label} | {m['num_generated']:,} | {_percent(m.get('validity'))} | "
        f"{_percent(m.get('validity_corrected'))} | {_percent(m.get('uniqueness'))} | "
        f"{_percent(m.get('novelty'))} | {_number(m.get('nspdk_mmd'), 5)} | {_number(m.get('fcd'))} |",
        "",
        "Targets (10,000 samples): "
        + ", ".join(
            f"{k} {op} {bound} ({'met' if meets[k] == 'yes' else 'not met' if meets[k] == 'no' else 'not measured'})"
            for k, (op, bound) in results["targets"].items()
        )
        + ".",
        "",
        "Definitions (as GDSS): validity w/o correction = fraction of generated graphs RDKit sanitizes "
        "(an N or O with one extra bond becomes a cation); uniqueness, novelty (vs the train split), NSPDK "
        "MMD and FCD (vs the test split) are computed on the valid corrected molecules.",
        "",
        *([results["note"], ""] if results.get("note") else []),
        'First 32 samples without correction ("invalid" = does not sanitize):',
        "",
        "![QM9 samples](results/qm9_samples.png)",
        "",
        f"Versions: {', '.join(f'{k} {v}' for k, v in results['versions'].items() if k != 'platform')}.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=FULL["minutes"], help="training wall-clock budget")
    parser.add_argument("--num-samples", type=int, default=FULL["num_samples"])
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--num-negatives", type=int, default=16)
    parser.add_argument("--eps-atoms", type=float, default=0.1)
    parser.add_argument("--eps-bonds", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument(
        "--lr-schedule",
        default="constant",
        choices=["constant", "cosine"],
        help="the recorded run predates the cosine schedule: constant reproduces it",
    )
    parser.add_argument("--sampler", default="gibbs", choices=["gibbs", "gwg", "dula", "dmala"])
    parser.add_argument("--steps", type=int, default=1000, help="sampler steps")
    parser.add_argument("--step-size", type=float, default=0.25)
    parser.add_argument("--no-fcd", dest="fcd", action="store_false")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--run-dir", help="training run folder (default: a temporary folder)")
    parser.add_argument("--checkpoint", help="evaluate the model of an earlier run folder instead of training")
    parser.add_argument("--note", help="a remark recorded in the JSON and printed in the report")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "qm9.json")
    parser.add_argument("--report", type=Path, default=HERE / "qm9.md")
    parser.add_argument("--report-only", action="store_true", help="rewrite the report from --out")
    args = parser.parse_args(argv)
    if args.report_only:
        results = json.loads(args.out.read_text())
        if args.note is not None:  # a remark added after the run; the measured numbers stay as written
            results["note"] = args.note
            atomic_write(args.out, json.dumps(results, indent=2))
    else:
        results = run(args)
        atomic_write(args.out, json.dumps(results, indent=2))
    atomic_write(args.report, report(results))
    print(json.dumps(results["metrics"], indent=2))


if __name__ == "__main__":
    main()
