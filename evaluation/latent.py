"""Latent-space EBMs: the same graph autoencoder with an ED prior, a short-run-MCMC prior and a Gaussian prior.

Three stages, each writing JSON under ``results/latent/``:

* ``validate``: for each dataset, training seed, prior and KL weight, train a ``LatentGraphEBM`` on
  four fifths of the training split (``hold_out(train, 0.2, seed)``) and score 512 samples per
  sampler setting against the held-out fifth (gdss degree / clustering / orbit MMD). A setting
  scores sum(MMD) / sum(floor), the floor being training graphs drawn against the same held-out
  graphs at the same sample size. Each prior's recipe (KL weight and sampler setting) is the one
  with the lowest score averaged over datasets and seeds: one recipe for every dataset.
* ``test``: each prior's chosen recipe, and ``GraphEBM`` with its defaults for reference, trained
  on the whole training split per seed, 1,024 samples scored once against the test split, next to
  the real-vs-real floor at 1,024 samples, with novelty, uniqueness and wall times.
* ``qm9``: each prior's chosen recipe (from the graph validation: no setting is chosen on QM9) in
  a ``LatentMoleculeEBM``, trained per seed on the QM9 training split for the same wall-clock
  budget, 10,000 molecules scored once as GDSS reports them: validity without correction,
  uniqueness, novelty, NSPDK MMD and FCD against the test split.
* ``toy``: a 2-D latent space on ego_small, its codes, the Gaussian prior and the ED prior (a figure).

    cd evaluation
    python latent.py validate --jobs 2 --out results/latent/validation.json
    python latent.py test --validation results/latent/validation.json --jobs 2 --out results/latent/test.json
    python latent.py qm9 --recipes results/latent/test.json --minutes 5 --jobs 1 --out results/latent/qm9.json
    python latent.py toy --out results/latent/toy2d.png
    python latent.py table results/latent/test.json
    python latent.py table results/latent/qm9.json
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch
from graph_results import provenance, write_report

from edgraph import GraphEBM
from edgraph.datasets import dataset_info, load_graphs
from edgraph.metrics import graph_mmd, graph_novelty, graph_uniqueness, reference_floor
from edgraph.models import LatentGraphEBM
from edgraph.models.base import hold_out

DATASETS = ("ego_small", "community_small_gdss")
STATS = ("degree", "clustering", "orbit")
PRIORS = ("ed", "mcmc", "gaussian")
FLOOR_SEEDS = range(5)


def sampler_settings(model: LatentGraphEBM) -> dict[str, dict]:
    """The sampler settings validation compares for a prior: MALA chains of several lengths for a
    learned prior, plus, for the short-run-MCMC prior, its own training chain (Pang et al. sample
    with it); the Gaussian prior's starts are exact samples."""
    c = model.config
    if c.prior == "gaussian":
        return {"exact": {"steps": 0}}
    settings = {f"mala{steps}": {"sampler": "mala", "steps": steps} for steps in (100, 300, 1000)}
    if c.prior == "mcmc":
        settings["short-run"] = {"sampler": "langevin", "steps": c.mcmc_steps, "step_size": c.mcmc_step_size}
    return settings


def floor_ratio(mmd: dict[str, float], floor: dict[str, dict[str, float]]) -> float:
    """sum of MMD over the statistics divided by the sum of their floors."""
    return sum(mmd[s] for s in STATS) / sum(floor[s]["mean"] for s in STATS)


def scored(samples: list, reference: list, train: list, floor: dict, seconds: float) -> dict:
    mmd = graph_mmd(samples, reference, STATS)
    return {
        "mmd": mmd,
        "ratio": floor_ratio(mmd, floor),
        "novelty": graph_novelty(samples, train),
        "uniqueness": graph_uniqueness(samples),
        "mean_edges": statistics.fmean(g.number_of_edges() for g in samples),
        "sample_seconds": seconds,
    }


def validation_job(job: tuple) -> dict:
    dataset, seed, prior, kl_weight, steps, num = job
    torch.set_num_threads(1)
    train, held = hold_out(load_graphs(dataset, "train"), 0.2, seed)
    model = LatentGraphEBM(dataset_info(dataset).max_nodes, prior=prior, kl_weight=kl_weight)
    start = time.perf_counter()
    model.fit(train, max_steps=steps, val_fraction=0, seed=seed, progress=False)
    train_seconds = time.perf_counter() - start
    floor = reference_floor(train, held, num, FLOOR_SEEDS, stats=STATS)
    settings = {}
    for name, options in sampler_settings(model).items():
        start = time.perf_counter()
        samples = model.sample(num, seed=seed, **options)
        settings[name] = {"options": options, **scored(samples, held, train, floor, time.perf_counter() - start)}
    row = {"dataset": dataset, "seed": seed, "prior": prior, "kl_weight": kl_weight, "steps": steps}
    print(json.dumps({**row, **{k: round(v["ratio"], 2) for k, v in settings.items()}}), flush=True)
    return {**row, "train_seconds": train_seconds, "floor": floor, "settings": settings}


def choose(validation: dict) -> dict[str, dict]:
    """Each prior's recipe with the lowest validation score averaged over datasets and seeds."""
    scores: dict[tuple, list[float]] = {}
    options = {}
    for row in validation["rows"]:
        for name, setting in row["settings"].items():
            key = (row["prior"], row["kl_weight"], name)
            scores.setdefault(key, []).append(setting["ratio"])
            options[key] = setting["options"]
    chosen = {}
    for prior in {key[0] for key in scores}:
        key = min((k for k in scores if k[0] == prior), key=lambda k: statistics.fmean(scores[k]))
        chosen[prior] = {
            "kl_weight": key[1],
            "setting": key[2],
            "sampler_options": options[key],
            "score": statistics.fmean(scores[key]),
        }
    return chosen


def test_job(job: tuple) -> dict:
    dataset, seed, prior, recipe, steps, num = job
    torch.set_num_threads(1)
    train, test = load_graphs(dataset, "train"), load_graphs(dataset, "test")
    max_nodes = dataset_info(dataset).max_nodes
    if prior == "graph_ebm":
        model: GraphEBM | LatentGraphEBM = GraphEBM(max_nodes)
        fit_options, sampler_options = {}, {}
    else:
        model = LatentGraphEBM(max_nodes, prior=prior, kl_weight=recipe["kl_weight"])
        fit_options, sampler_options = {"max_steps": steps, "val_fraction": 0}, recipe["sampler_options"]
    start = time.perf_counter()
    model.fit(train, seed=seed, progress=False, **fit_options)
    train_seconds = time.perf_counter() - start
    floor = reference_floor(train, test, num, FLOOR_SEEDS, stats=STATS)
    start = time.perf_counter()
    samples = model.sample(num, seed=seed, **sampler_options)
    result = scored(samples, test, train, floor, time.perf_counter() - start)
    row = {"dataset": dataset, "seed": seed, "prior": prior, "steps": model.steps_trained}
    print(json.dumps({**row, "ratio": round(result["ratio"], 2)}), flush=True)
    return {**row, "train_seconds": train_seconds, "sampler_options": sampler_options, "floor": floor, **result}


def qm9_job(job: tuple) -> dict:
    from edgraph.datasets import load_molecules
    from edgraph.metrics.molecular import molecule_metrics
    from edgraph.models import LatentMoleculeEBM

    seed, prior, recipe, minutes, num = job
    torch.set_num_threads(1)
    train = load_molecules("qm9", "train")
    model = LatentMoleculeEBM(prior=prior, kl_weight=recipe["kl_weight"])
    start = time.perf_counter()
    model.fit(train, seed=seed, progress=False, max_steps=None, max_minutes=minutes)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    tensors = model.sample_tensors(num, seed=seed, **recipe["sampler_options"])
    sample_seconds = time.perf_counter() - start
    smiles, corrected = model.decode(tensors), model.decode(tensors, correct=True)
    metrics = molecule_metrics(smiles, frozenset(train), load_molecules("qm9", "test"), corrected=corrected)
    row = {"seed": seed, "prior": prior, "steps": model.steps_trained}
    print(json.dumps({**row, "fcd": round(metrics["fcd"], 3), "validity": metrics["validity"]}), flush=True)
    return {
        **row,
        "train_seconds": train_seconds,
        "sample_seconds": sample_seconds,
        "sampler_options": recipe["sampler_options"],
        **metrics,
    }


def run_jobs(function, jobs: list[tuple], workers: int) -> list[dict]:
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(function, jobs))


def validate(args: argparse.Namespace) -> None:
    jobs = [
        (d, s, p, k, args.max_steps, args.num)
        for d, s, p, k in itertools.product(args.datasets, args.seeds, args.priors, args.kl_weights)
    ]
    rows = run_jobs(validation_job, jobs, args.jobs)
    report = {"max_steps": args.max_steps, "num": args.num, "rows": rows, **provenance()}
    report["chosen"] = choose(report)
    write_report(report, args.out)


def test(args: argparse.Namespace) -> None:
    validation = json.loads(Path(args.validation).read_text())
    chosen = validation["chosen"]
    jobs = [
        (d, s, p, chosen.get(p), validation["max_steps"], args.num)
        for d, s, p in itertools.product(args.datasets, args.seeds, [*chosen, "graph_ebm"])
    ]
    rows = run_jobs(test_job, jobs, args.jobs)
    report = {"chosen": chosen, "num": args.num, "rows": rows, **provenance()}
    for dataset in args.datasets:
        train, test_graphs = load_graphs(dataset, "train"), load_graphs(dataset, "test")
        report.setdefault("data_novelty", {})[dataset] = graph_novelty(test_graphs, train, clean=False)
    write_report(report, args.out)


def qm9(args: argparse.Namespace) -> None:
    chosen = json.loads(Path(args.recipes).read_text())["chosen"]
    jobs = [(s, p, chosen[p], args.minutes, args.num) for s, p in itertools.product(args.seeds, PRIORS)]
    rows = run_jobs(qm9_job, jobs, args.jobs)
    write_report({"chosen": chosen, "minutes": args.minutes, "num": args.num, "rows": rows, **provenance()}, args.out)


def toy(args: argparse.Namespace) -> None:
    """A 2-D latent space on ego_small: the codes of the training graphs, the Gaussian prior, and
    the ED prior fitted to the codes."""
    import matplotlib.pyplot as plt

    torch.set_num_threads(1)
    train = load_graphs("ego_small", "train")
    model = LatentGraphEBM(dataset_info("ego_small").max_nodes, latent_dim=2, kl_weight=args.kl_weight)
    model.fit(train, max_steps=args.max_steps, val_fraction=0, seed=0, progress=False)
    network = model.sampling_energy
    x, mask = model._training_tensors()
    with torch.no_grad():
        mean, log_var = network.posterior(x, mask)
        codes = mean + torch.randn(mean.shape, generator=torch.Generator().manual_seed(0)) * (0.5 * log_var).exp()
        side = torch.linspace(-4, 4, 200)
        grid = torch.stack(torch.meshgrid(side, side, indexing="xy"), -1).reshape(-1, 2)
        densities = {
            "Gaussian prior N(0, I)": (-0.5 * (grid**2).sum(-1)),
            "ED prior exp(-E(z)) N(z; 0, I)": -network(grid),
        }
    figure, axes = plt.subplots(1, 3, figsize=(12, 4), sharex=True, sharey=True)
    axes[0].scatter(codes[:, 0], codes[:, 1], s=4, alpha=0.6)
    axes[0].set_title("codes z ~ q(z | x) of training graphs")
    for axis, (title, log_density) in zip(axes[1:], densities.items()):
        density = (log_density - log_density.max()).exp().reshape(200, 200)
        axis.contourf(side, side, density, levels=20, cmap="viridis")
        axis.scatter(codes[:, 0], codes[:, 1], s=2, c="white", alpha=0.4)
        axis.set_title(title)
    axes[0].set_xlim(-4, 4)
    axes[0].set_ylim(-4, 4)
    figure.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=120)
    write_report({"kl_weight": args.kl_weight, "max_steps": args.max_steps, **provenance()}, f"{args.out}.json")


def mean_of(rows: list[dict], key: str) -> float:
    return statistics.fmean(r[key] for r in rows)


def qm9_table(result: dict) -> None:
    print(f"QM9, {result['minutes']} minutes of training per run, {result['num']} samples, mean over seeds:")
    print("\n| prior | validity w/o correction | uniqueness | novelty | NSPDK | FCD (per seed) | steps | sample s |")
    print("|---|---|---|---|---|---|---|---|")
    for prior in PRIORS:
        rows = [r for r in result["rows"] if r["prior"] == prior]
        mean = functools.partial(mean_of, rows)
        seeds = " / ".join(f"{r['fcd']:.2f}" for r in rows)
        print(
            f"| {prior} | {mean('validity'):.1%} | {mean('uniqueness'):.1%} | {mean('novelty'):.1%} | "
            f"{mean('nspdk_mmd'):.4f} | **{mean('fcd'):.2f}** ({seeds}) | {mean('steps'):.0f} | "
            f"{mean('sample_seconds'):.1f} |"
        )


def table(args: argparse.Namespace) -> None:
    result = json.loads(Path(args.test).read_text())
    if "fcd" in result["rows"][0]:
        qm9_table(result)
        return
    print("recipes (chosen on validation graphs):")
    for prior, recipe in sorted(result["chosen"].items()):
        print(
            f"  {prior}: kl_weight {recipe['kl_weight']}, {recipe['setting']}, validation score {recipe['score']:.2f}"
        )
    print("\n| dataset | model | degree | clustering | orbit | × floor | novel | unique | train s | sample s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for dataset in DATASETS:
        for prior in [*PRIORS, "graph_ebm"]:
            rows = [r for r in result["rows"] if r["dataset"] == dataset and r["prior"] == prior]
            if not rows:
                continue
            mean = functools.partial(mean_of, rows)
            mmd = " | ".join(f"{statistics.fmean(r['mmd'][s] for r in rows):.4f}" for s in STATS)
            print(
                f"| {dataset} | {prior} | {mmd} | {mean('ratio'):.2f} | {mean('novelty'):.0%} | "
                f"{mean('uniqueness'):.0%} | {mean('train_seconds'):.0f} | {mean('sample_seconds'):.1f} |"
            )
        floor = result["rows"][[r["dataset"] for r in result["rows"]].index(dataset)]["floor"]
        print(f"| {dataset} | floor | " + " | ".join(f"{floor[s]['mean']:.4f}" for s in STATS) + " | 1 | | | | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("validate", "test"):
        command = commands.add_parser(name)
        command.add_argument("--datasets", nargs="+", default=list(DATASETS))
        command.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
        command.add_argument("--jobs", type=int, default=1)
        command.add_argument("--out", required=True)
    validate_command, test_command = commands.choices["validate"], commands.choices["test"]
    validate_command.add_argument("--priors", nargs="+", default=list(PRIORS))
    validate_command.add_argument("--kl-weights", dest="kl_weights", nargs="+", type=float, default=[0.03, 0.1, 0.3])
    validate_command.add_argument("--max-steps", dest="max_steps", type=int, default=5000)
    validate_command.add_argument("--num", type=int, default=512)
    test_command.add_argument("--validation", required=True)
    test_command.add_argument("--num", type=int, default=1024)
    qm9_command = commands.add_parser("qm9")
    qm9_command.add_argument("--recipes", required=True, help="a test or validation JSON holding the chosen recipes")
    qm9_command.add_argument("--minutes", type=float, default=5.0, help="training budget of every run")
    qm9_command.add_argument("--num", type=int, default=10000)
    qm9_command.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    qm9_command.add_argument("--jobs", type=int, default=1)
    qm9_command.add_argument("--out", required=True)
    toy_command = commands.add_parser("toy")
    toy_command.add_argument("--kl-weight", dest="kl_weight", type=float, default=0.3)
    toy_command.add_argument("--max-steps", dest="max_steps", type=int, default=5000)
    toy_command.add_argument("--out", required=True)
    table_command = commands.add_parser("table")
    table_command.add_argument("test")
    args = parser.parse_args()
    {"validate": validate, "test": test, "qm9": qm9, "toy": toy, "table": table}[args.command](args)


if __name__ == "__main__":
    main()
