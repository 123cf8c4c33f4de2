"""Continuous ED on 2-D toy densities, against denoising score matching and CD with Langevin.

Part 1 (``--part densities``): an :class:`~edgraph.energies.feedforward.MLPEnergy` is trained on each toy
density by Gaussian Energy Discrepancy (several ``t``), denoising score matching and persistent
contrastive divergence with Langevin chains, for the same CPU-time budget. Metric: the exact test
negative log-likelihood ``E(x) + log Z``, with ``Z = sum_grid exp(-E) * cell area`` on a fine
grid over ``[-L, L]^2`` (mass outside the box is ignored; lower is better). Figure: heat maps.

Part 2 (``--part mixture``): data from ``p_0.2 = 0.2 N(-m, 1) + 0.8 N(m, 1)`` and the model family
``p_rho``; ED_{q_t}(p_0.2, -log p_rho), score matching and the negative log-likelihood as functions
of rho. With Gaussian noise of variance t the ED inner integral is exact,
``log sum_x' q_t(y|x') p_rho(x') = log p_rho * N(0, t) (y)``, so

    ED_t(rho) = E_data[-log p_rho(x)] + E_{y ~ p_0.2 * N(0, t)}[log (p_rho * N(0, t))(y)],

computed both by quadrature (population) and from finite samples (n data points, one y each),
repeated over seeds to show where the empirical minimiser lands (Schröder et al., NeurIPS 2023,
Section 4: small t behaves like score matching, large t like maximum likelihood).

Usage:
    python evaluation/toy2d.py --part densities --seconds 4 --out evaluation/results/toy2d.json
    python evaluation/toy2d.py --part mixture --out evaluation/results/toy2d_mixture.json
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from budget import train_for_cpu_seconds  # noqa: E402  (same folder)
from figures import density_grid  # noqa: E402  (same folder)
from ising import _versions  # noqa: E402  (same folder; shared provenance record)

from edgraph.datasets.toys import TOY_DENSITIES, toy_density_samples
from edgraph.energies.feedforward import MLPEnergy
from edgraph.objectives import (
    PersistentCD,
    PersistentChains,
    denoising_score_matching,
    energy_discrepancy,
    score_matching,
)
from edgraph.perturbations import Gaussian
from edgraph.samplers import Langevin

BOX = 4.5
ED_TIMES = (0.05, 0.25, 1.0)


def _methods(ed_times) -> list[str]:
    return [f"ed-t{t:g}" for t in ed_times] + ["dsm", "pcd-langevin"]


def _loss_function(method: str, generator: torch.Generator, args):
    if method.startswith("ed-t"):
        perturbation = Gaussian(float(method[4:]))
        return lambda energy, x: energy_discrepancy(
            energy, x, perturbation, num_negatives=args.num_negatives, w=1.0, generator=generator
        )
    if method == "dsm":
        return lambda energy, x: denoising_score_matching(energy, x, args.dsm_sigma, generator=generator)
    sampler = Langevin(args.langevin_step)

    def uniform(n, g):
        return (torch.rand(n, 2, generator=g) * 2 - 1) * 4

    chains = PersistentChains(uniform(args.batch_size * 10, generator), reinit=uniform, reinit_prob=0.05)
    # the energy's magnitude is regularised as in Du & Mordatch (2019): alpha * (E+^2 + E-^2)
    return PersistentCD(sampler, args.langevin_steps, chains, args.batch_size, generator, energy_penalty=0.1)


def grid_log_density(energy, resolution: int) -> tuple[torch.Tensor, float]:
    """``-E`` on a ``resolution^2`` grid over ``[-BOX, BOX]^2`` and ``log Z`` of the box."""
    axis = torch.linspace(-BOX, BOX, resolution)
    cell = (axis[1] - axis[0]).item() ** 2
    points = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), -1).reshape(-1, 2)
    with torch.no_grad():
        negative_energy = -torch.cat([energy(chunk) for chunk in points.split(8192)])
    log_z = torch.logsumexp(negative_energy.double(), 0).item() + math.log(cell)
    return negative_energy.reshape(resolution, resolution), log_z


def train_density(name: str, method: str, args) -> tuple[dict, torch.Tensor]:
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    train = toy_density_samples(name, args.num_train, seed=args.seed)
    test = toy_density_samples(name, args.num_test, seed=args.seed + 1)
    energy = MLPEnergy(2, hidden=args.hidden, layers=3, activation="silu")
    spent = train_for_cpu_seconds(
        energy,
        _loss_function(method, generator, args),
        train,
        args.seconds,
        args.batch_size,
        args.lr,
        generator,
        clip=10.0,
    )
    log_density, log_z = grid_log_density(energy, args.resolution)
    with torch.no_grad():
        nll = (energy(test).double().mean() + log_z).item()
    record = {"density": name, "method": method, "test_nll": nll, **spent}
    return record, (log_density - log_z).exp()


def data_nll_floor(name: str, args) -> float:
    """NLL of the test set under a histogram of 200k fresh samples on the same grid (reference)."""
    sample = toy_density_samples(name, 200_000, seed=args.seed + 2)
    edges = np.linspace(-BOX, BOX, 101)
    hist, _, _ = np.histogram2d(sample[:, 0].numpy(), sample[:, 1].numpy(), bins=[edges, edges])
    cell = (edges[1] - edges[0]) ** 2
    density = (hist + 1e-3) / (hist.sum() + 1e-3 * hist.size) / cell
    test = toy_density_samples(name, args.num_test, seed=args.seed + 1).numpy()
    index = np.clip(((test + BOX) / (2 * BOX) * 100).astype(int), 0, 99)
    return float(-np.log(density[index[:, 0], index[:, 1]]).mean())


def run_densities(args) -> dict:
    torch.set_num_threads(1)
    methods = _methods(args.ed_times)
    records, maps = [], {}
    for name in args.densities:
        for method in methods:
            record, density = train_density(name, method, args)
            records.append(record)
            maps[(name, method)] = density
            print(
                f"{name:12s} {method:13s} NLL {record['test_nll']:.3f} ({record['parameter_updates']} updates)",
                flush=True,
            )
    table = {name: {r["method"]: r["test_nll"] for r in records if r["density"] == name} for name in args.densities}
    floors = {name: data_nll_floor(name, args) for name in args.densities}
    summary = {
        "experiment": "toy2d_density_estimation",
        "metric": "test NLL (nats, exact normalisation on a grid over [-4.5, 4.5]^2; lower is better)",
        "config": {k: v for k, v in vars(args).items() if k not in ("out", "part")},
        "seed": args.seed,
        "versions": _versions(),
        "budget_clock": "process CPU time per run, torch.set_num_threads(1)",
        "table": table,
        "histogram_reference_nll": floors,
        "runs": records,
        "total_cpu_seconds": sum(r["cpu_seconds"] for r in records),
        "total_wall_seconds": sum(r["wall_seconds"] for r in records),
        "markdown": _markdown(table, floors, methods),
    }
    args.out.write_text(json.dumps(summary, indent=1))
    _plot_maps(maps, args.densities, methods, args.out.with_suffix(".png"), args)
    return summary


def _markdown(table: dict, floors: dict, methods: list[str]) -> str:
    lines = ["| density | " + " | ".join(methods) + " | histogram ref. |", "|---|" + "---|" * (len(methods) + 1)]
    for name, scores in table.items():
        best = min(scores.values())
        cells = [f"**{scores[m]:.2f}**" if scores[m] == best else f"{scores[m]:.2f}" for m in methods]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {floors[name]:.2f} |")
    return "\n".join(lines)


def _plot_maps(maps: dict, densities, methods, path: Path, args) -> None:
    def draw(ax, name: str, column: str) -> None:
        if column == "data":
            sample = toy_density_samples(name, 20000, seed=args.seed)
            ax.hist2d(
                sample[:, 0].numpy(), sample[:, 1].numpy(), bins=100, range=[[-BOX, BOX], [-BOX, BOX]], cmap="viridis"
            )
        else:
            ax.imshow(maps[(name, column)].numpy(), origin="lower", cmap="viridis", extent=[-BOX, BOX, -BOX, BOX])

    density_grid(densities, ["data", *methods], draw, path, cell=1.6)


# ---------------------------------------------------------------------------------------------
# The mixture experiment
# ---------------------------------------------------------------------------------------------


def mixture_log_density(x: torch.Tensor, rho: torch.Tensor, m: float, variance: float = 1.0) -> torch.Tensor:
    """``log(rho N(x; -m, v) + (1 - rho) N(x; m, v))`` broadcast over ``x`` and ``rho``."""
    log_normal = lambda mean: -0.5 * (x - mean) ** 2 / variance - 0.5 * math.log(2 * math.pi * variance)  # noqa: E731
    return torch.logaddexp(torch.log(rho) + log_normal(-m), torch.log1p(-rho) + log_normal(m))


def mixture_curves(x: torch.Tensor, y_by_t: dict, rhos: torch.Tensor, m: float, weights=None) -> dict:
    """NLL, score matching and ED_t against rho, as (weighted) averages over the given points."""

    def average(values):  # values [points, rhos]
        return (values * weights[:, None]).sum(0) if weights is not None else values.mean(0)

    nll = average(-mixture_log_density(x[:, None], rhos[None], m))
    curves = {"nll": nll}
    sm = []
    for rho in rhos:
        energy = lambda points: -mixture_log_density(points[:, 0], rho, m)  # noqa: E731
        sm.append(score_matching(energy, x[:, None], reduction="none").detach())
    curves["score_matching"] = average(torch.stack(sm, 1))
    for t, (y, y_weights) in y_by_t.items():
        smoothed = mixture_log_density(y[:, None], rhos[None], m, 1.0 + t)
        inner = (smoothed * y_weights[:, None]).sum(0) if y_weights is not None else smoothed.mean(0)
        curves[f"ed_t{t:g}"] = nll + inner
    return curves


def run_mixture(args) -> dict:
    torch.set_num_threads(1)
    start = time.perf_counter()
    m, rho_true = args.mixture_m, 0.2
    rhos = torch.linspace(0.01, 0.99, 99, dtype=torch.float64)
    times = args.mixture_times
    # population curves by quadrature: x ~ p_0.2, y ~ p_0.2 * N(0, t) on a fine grid
    grid = torch.linspace(-m - 12, m + 12, 8001, dtype=torch.float64)
    step = (grid[1] - grid[0]).item()
    w_x = mixture_log_density(grid, torch.tensor(rho_true, dtype=torch.float64), m).exp() * step
    y_pop = {
        t: (grid, mixture_log_density(grid, torch.tensor(rho_true, dtype=torch.float64), m, 1 + t).exp() * step)
        for t in times
    }
    population = mixture_curves(grid, y_pop, rhos, m, weights=w_x)
    # finite samples: n data points, one y per point, repeated over seeds
    argmins = {key: [] for key in population}
    for repeat in range(args.mixture_repeats):
        g = torch.Generator().manual_seed(args.seed + repeat)
        component = torch.rand(args.mixture_n, generator=g, dtype=torch.float64) < rho_true
        x = torch.where(component, -m, m) + torch.randn(args.mixture_n, generator=g, dtype=torch.float64)
        ys = {
            t: (x + math.sqrt(t) * torch.randn(args.mixture_n, generator=g, dtype=torch.float64), None) for t in times
        }
        curves = mixture_curves(x, ys, rhos, m)
        for key, values in curves.items():
            argmins[key].append(rhos[int(values.argmin())].item())
    summary_rows = {}
    for key in population:
        values = population[key]
        found = np.array(argmins[key])
        summary_rows[key] = {
            "population_argmin_rho": rhos[int(values.argmin())].item(),
            # identifiability: how much the population loss rises from rho = 0.2 to rho = 0.5
            "population_gap_0.5_vs_0.2": (values[49] - values[19]).item(),
            "sample_argmin_mean": float(found.mean()),
            "sample_argmin_sd": float(found.std()),
            "sample_argmin_within_0.05_of_0.2": float((np.abs(found - rho_true) <= 0.05).mean()),
        }
    record = {
        "experiment": "toy2d_mixture_identifiability",
        "config": {
            "m": m,
            "rho_true": rho_true,
            "t": list(times),
            "n": args.mixture_n,
            "repeats": args.mixture_repeats,
            "rho_grid": [0.01, 0.99, 99],
        },
        "seed": args.seed,
        "versions": _versions(),
        "wall_seconds": time.perf_counter() - start,
        "summary": summary_rows,
        "sample_argmins": argmins,
        "population_curves": {key: values.tolist() for key, values in population.items()},
        "rho": rhos.tolist(),
    }
    args.out.write_text(json.dumps(record, indent=1))
    _plot_mixture(rhos, population, summary_rows, args.out.with_suffix(".png"))
    return record


def _plot_mixture(rhos, population: dict, summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for key, values in population.items():
        left.plot(rhos, (values - values.min()).clamp_min(1e-9), label=key)
    left.axvline(0.2, color="k", lw=0.6, ls=":")
    left.set(
        xlabel="rho",
        ylabel="loss(rho) - min loss",
        yscale="log",
        ylim=(1e-6, 10),
        title="population losses, p_0.2 = 0.2 N(-m,1) + 0.8 N(m,1)",
    )
    left.legend(fontsize=7)
    keys = list(summary)
    means = [summary[k]["sample_argmin_mean"] for k in keys]
    sds = [summary[k]["sample_argmin_sd"] for k in keys]
    right.errorbar(range(len(keys)), means, yerr=sds, fmt="o", capsize=3)
    right.axhline(0.2, color="k", lw=0.6, ls=":")
    right.set_xticks(range(len(keys)), keys, rotation=30, fontsize=7)
    right.set(ylabel="argmin rho (mean +- sd over repeats)", title="finite-sample minimiser")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("densities", "mixture"), required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--densities", nargs="+", default=list(TOY_DENSITIES), choices=list(TOY_DENSITIES))
    parser.add_argument("--seconds", type=float, default=4.0, help="CPU seconds per (density, method)")
    parser.add_argument("--ed-times", type=float, nargs="+", default=list(ED_TIMES))
    parser.add_argument("--num-negatives", type=int, default=16)
    parser.add_argument("--dsm-sigma", type=float, default=0.1)
    parser.add_argument("--langevin-step", type=float, default=0.01)
    parser.add_argument("--langevin-steps", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--num-train", type=int, default=20000)
    parser.add_argument("--num-test", type=int, default=5000)
    parser.add_argument("--resolution", type=int, default=300)
    parser.add_argument("--mixture-m", type=float, default=4.0)
    parser.add_argument("--mixture-times", type=float, nargs="+", default=[0.01, 0.1, 1.0, 4.0, 16.0])
    parser.add_argument("--mixture-n", type=int, default=1000)
    parser.add_argument("--mixture-repeats", type=int, default=50)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    return run_densities(args) if args.part == "densities" else run_mixture(args)


if __name__ == "__main__":
    main()
