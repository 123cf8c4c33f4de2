"""Learning the couplings of a lattice Ising model: Energy Discrepancy against PCD, equal time.

Ground truth (Grathwohl et al., "Oops I took a gradient", ICML 2021; Zhang et al., EB-GFN,
ICML 2022): a periodic ``dim x dim`` lattice, ``J = sigma * A``, no bias, ``log p(x) = s^T J s``.
Data: 2,000 samples by Gibbs chains of >= 1,000,000 single-site updates each
(:func:`edgraph.datasets.toys.ising_lattice_samples`). A full symmetric coupling matrix (zero
diagonal, zero bias) is learned with each method for the same CPU-time budget; the metric is
``neg_log_rmse = -log sqrt(mean_ij (J_learned - J_true)^2)`` (higher is better).

Every method shares one schedule (stated in the JSON):
  * phase 1 (first ``support_fraction`` of the budget): Adam on loss + l1 * sum_ij |J_ij|,
    learning rate decaying linearly in time from ``lr`` to ``lr / 10``; the phase's estimate is
    the average of its iterates over its last ``average_fraction`` (Polyak averaging);
  * debiasing (relaxed lasso): the support ``|J_ij| > support_threshold`` of that estimate is
    kept, every other entry is fixed at 0, and the same loss *without* the penalty is optimised
    on the support for the rest of the budget, learning rate ``refit_lr`` decaying linearly to 0;
    the result is again the average of the iterates over the phase's last ``average_fraction``.
The L1 penalty's shrinkage biases the kept couplings towards 0; the refit removes that bias.
``--no-debias`` runs the penalty with the decaying learning rate for the whole budget instead.

Usage:
    python evaluation/ising.py --dim 10 --sigma 0.1 --method ed --seconds 20 --out run.json
    python evaluation/ising.py --table --dims 10 --seconds 15 --out evaluation/results/ising_table_d10.json
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from edgraph.datasets.toys import ising_lattice_samples
from edgraph.energies.ising import IsingEnergy
from edgraph.objectives import PersistentCD, PersistentChains, energy_discrepancy
from edgraph.perturbations import BernoulliFlip
from edgraph.samplers import DMALA, GWG, Gibbs

METHODS = ("ed", "pcd-gibbs", "pcd-gwg", "pcd-dmala")
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Config:
    dim: int
    sigma: float
    method: str
    seconds: float
    seed: int = 0
    data_seed: int = 0
    num_samples: int = 2000
    data_sweeps: int | None = None  # None: >= 1,000,000 single-site updates per chain
    batch_size: int = 256
    lr: float = 0.01
    l1: float = 0.05
    debias: bool = True
    support_fraction: float = 0.5
    support_threshold: float = 0.01
    refit_lr: float = 0.005
    average_fraction: float = 0.5  # Polyak averaging over the last part of each phase
    eps: float = 0.1  # ED Bernoulli flip probability
    num_negatives: int = 32  # ED M
    w: float = 1.0  # ED stabiliser
    num_chains: int = 256  # PCD persistent chains (one batch)
    gibbs_sweeps: int = 1  # PCD-Gibbs: sweeps (D single-site steps each) per parameter update
    gwg_steps: int = 25  # PCD-GWG: one-site MH steps per update
    dmala_steps: int = 10  # PCD-DMALA: steps per update
    dmala_step_size: float = 0.2
    log_every: float = 0.5  # seconds between metric records


def neg_log_rmse(learned: torch.Tensor, truth: torch.Tensor) -> float:
    """``-log RMSE`` over all ``D x D`` entries (higher is better)."""
    return -0.5 * math.log(float((learned - truth).double().pow(2).mean()))


def _loss_function(config: Config, dim: int, generator: torch.Generator):
    """``loss(energy, batch) -> scalar`` of the chosen method (PCD advances its chains inside)."""
    if config.method == "ed":
        flip = BernoulliFlip(config.eps)
        return lambda energy, batch: energy_discrepancy(
            energy, batch, flip, num_negatives=config.num_negatives, w=config.w, generator=generator
        )
    sampler, steps = {
        "pcd-gibbs": (Gibbs(scan="systematic"), config.gibbs_sweeps * dim),
        "pcd-gwg": (GWG(), config.gwg_steps),
        "pcd-dmala": (DMALA(config.dmala_step_size), config.dmala_steps),
    }[config.method]
    start = torch.randint(0, 2, (config.num_chains, dim), generator=generator).float()
    return PersistentCD(sampler, steps, PersistentChains(start), config.num_chains, generator)


def train(config: Config) -> dict:
    """Learn J with ``config.method`` for ``config.seconds`` of CPU time; return the record."""
    if config.method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {config.method!r}")
    if config.seconds <= 0:
        raise ValueError(f"seconds must be positive, got {config.seconds}")
    torch.set_num_threads(1)  # equal, reproducible budgets on a shared machine
    data = ising_lattice_samples(
        config.dim, config.sigma, config.num_samples, seed=config.data_seed, sweeps=config.data_sweeps
    )
    truth = IsingEnergy.lattice(config.dim, config.sigma).coupling_matrix().detach()
    num_spins = config.dim**2
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    energy = IsingEnergy(num_spins)
    energy.bias.requires_grad_(False)  # the truth has no field; only J is learned
    loss_of = _loss_function(config, num_spins, generator)

    support = torch.ones(num_spins, num_spins)
    phase_end = config.seconds * (config.support_fraction if config.debias else 1.0)
    optimiser = torch.optim.Adam([energy.coupling], lr=config.lr)
    history: list[tuple[float, float]] = [(0.0, neg_log_rmse(energy.coupling_matrix().detach(), truth))]
    refitting, steps, next_log = False, 0, config.log_every
    average, averaged = torch.zeros(num_spins, num_spins), 0
    start = time.process_time()
    wall_start = time.perf_counter()
    while True:
        elapsed = time.process_time() - start
        if elapsed >= config.seconds:
            break
        if config.debias and not refitting and elapsed >= phase_end:
            refitting = True
            with torch.no_grad():
                phase_estimate = average / averaged if averaged else energy.coupling_matrix()
                support = (phase_estimate.abs() > config.support_threshold).float()
                energy.coupling.copy_(phase_estimate * support)
            average, averaged = torch.zeros(num_spins, num_spins), 0
            optimiser = torch.optim.Adam([energy.coupling], lr=config.refit_lr)
        if refitting:
            fraction = (elapsed - phase_end) / (config.seconds - phase_end)
            lr = config.refit_lr * (1 - fraction)
        else:
            lr = config.lr * (1 - 0.9 * elapsed / phase_end)
        for group in optimiser.param_groups:
            group["lr"] = lr
        batch = data[torch.randint(0, data.shape[0], (config.batch_size,), generator=generator)]
        loss = loss_of(energy, batch)
        if not refitting:
            loss = loss + config.l1 * energy.coupling_matrix().abs().sum()
        optimiser.zero_grad()
        loss.backward()
        if refitting:
            energy.coupling.grad.mul_(support)
        optimiser.step()
        steps += 1
        phase_start, phase_stop = (phase_end, config.seconds) if refitting else (0.0, phase_end)
        if elapsed >= phase_stop - config.average_fraction * (phase_stop - phase_start):
            average += energy.coupling_matrix().detach()
            averaged += 1
        if elapsed >= next_log:
            history.append((elapsed, neg_log_rmse(energy.coupling_matrix().detach(), truth)))
            next_log += config.log_every
    learned = average / averaged if averaged else energy.coupling_matrix().detach()
    score = neg_log_rmse(learned, truth)
    history.append((time.process_time() - start, score))
    on_lattice = truth != 0
    sweeps = config.data_sweeps or math.ceil(1_000_000 / num_spins)
    return {
        "experiment": "ising_coupling_recovery",
        "config": asdict(config),
        "seed": config.seed,
        "versions": _versions(),
        "cpu_seconds": time.process_time() - start,
        "wall_seconds": time.perf_counter() - wall_start,
        "parameter_updates": steps,
        "neg_log_rmse": score,
        "rmse": math.exp(-score),
        "mean_learned_on_lattice": float(learned[on_lattice].mean()),
        "max_abs_off_lattice": float(learned[~on_lattice].abs().max()),
        "support_size": int(support.sum()) if config.debias else None,
        "true_support_size": int(on_lattice.sum()),
        "history": history,
        "data": {
            "num_samples": config.num_samples,
            "seed": config.data_seed,
            "sweeps": sweeps,
            "site_updates_per_chain": sweeps * num_spins,
        },
        "budget_clock": "process CPU time, torch.set_num_threads(1)",
    }


def oracle_pseudo_likelihood(dim: int, sigma: float, num_samples: int = 2000, data_seed: int = 0) -> float:
    """Reference, not a competitor: ``neg_log_rmse`` of the exact pseudo-likelihood estimate of J
    (Besag 1975) restricted to the *true* lattice support, fitted to convergence by L-BFGS on the
    same data. It shows how close to the truth 2,000 samples allow an unpenalised estimator to get.
    """
    data = ising_lattice_samples(dim, sigma, num_samples, seed=data_seed).double()
    spins = 2 * data - 1
    truth = IsingEnergy.lattice(dim, sigma).coupling_matrix().detach().double()
    support = (truth != 0).double()
    coupling = torch.zeros_like(truth, requires_grad=True)
    optimiser = torch.optim.LBFGS([coupling], max_iter=500, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        symmetric = (coupling + coupling.T) / 2 * support
        # log p(s_i = +1 | rest) - log p(s_i = -1 | rest) = 4 sum_j J_ij s_j
        loss = -torch.nn.functional.logsigmoid(spins * (4 * spins @ symmetric)).mean(0).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return neg_log_rmse(((coupling + coupling.T) / 2 * support).detach(), truth)


def _versions() -> dict:
    import edgraph

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "edgraph": edgraph.__version__,
        "platform": platform.platform(),
    }


def _plot_run(record: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times, scores = zip(*record["history"])
    fig, ax = plt.subplots(figsize=(4.5, 3))
    ax.plot(times, scores)
    c = record["config"]
    ax.set(xlabel="CPU seconds", ylabel="-log RMSE(J)", title=f"{c['method']}, dim {c['dim']}, sigma {c['sigma']}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_table(dims, sigmas, methods, out: Path, **settings) -> dict:
    """Run the grid sequentially; write every run's JSON, the table JSON, markdown and figure.

    A run whose JSON already exists in ``ising_runs/`` with the same configuration is reused,
    so an interrupted grid resumes where it stopped.
    """
    runs_dir = out.parent / "ising_runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    table, runs = {}, []
    for dim in dims:
        for sigma in sigmas:
            for method in methods:
                config = Config(dim=dim, sigma=sigma, method=method, **settings)
                name = f"ising_d{dim}_s{sigma:g}_{method}"
                path = runs_dir / f"{name}.json"
                record = json.loads(path.read_text()) if path.exists() else None
                if record is None or record["config"] != asdict(config):  # resume: reuse finished runs
                    record = train(config)
                    path.write_text(json.dumps(record, indent=1))
                table.setdefault(f"{dim}", {}).setdefault(f"{sigma:g}", {})[method] = record["neg_log_rmse"]
                runs.append(record)
                print(f"{name}: {record['neg_log_rmse']:.3f} ({record['parameter_updates']} updates)", flush=True)
    oracle = {
        dim: {
            sigma: oracle_pseudo_likelihood(int(dim), sigma, settings.get("num_samples", 2000))
            for sigma in map(float, by_sigma)
        }
        for dim, by_sigma in table.items()
    }
    summary = {
        "experiment": "ising_coupling_recovery_table",
        "metric": "neg_log_rmse (higher is better)",
        "seconds_per_run": settings["seconds"],
        "seed": runs[0]["seed"],
        "versions": _versions(),
        "config": {k: v for k, v in runs[0]["config"].items() if k not in ("dim", "sigma", "method")},
        "table": table,
        "oracle_pseudo_likelihood_true_support": oracle,
        "total_cpu_seconds": sum(r["cpu_seconds"] for r in runs),
        "total_wall_seconds": sum(r["wall_seconds"] for r in runs),
        "markdown": _markdown(table, methods, oracle),
    }
    out.write_text(json.dumps(summary, indent=1))
    _plot_table(runs, methods, out.with_suffix(".png"))
    return summary


def _markdown(table: dict, methods, oracle: dict) -> str:
    lines = [
        "| dim | sigma | " + " | ".join(methods) + " | J = 0 | oracle PL (true support) |",
        "|---|---|" + "---|" * (len(methods) + 2),
    ]
    for dim, by_sigma in table.items():
        for sigma, scores in by_sigma.items():
            best = max(scores.values())
            cells = [f"**{scores[m]:.2f}**" if scores[m] == best else f"{scores[m]:.2f}" for m in methods]
            # J = 0 misses the 4 D nonzero entries of J_true: RMSE = sigma sqrt(4 D / D^2) = 2 sigma / dim
            zero = -math.log(2 * float(sigma) / int(dim))
            lines.append(
                f"| {dim} | {sigma} | " + " | ".join(cells) + f" | {zero:.2f} | {oracle[dim][float(sigma)]:.2f} |"
            )
    return "\n".join(lines)


def _plot_table(runs: list[dict], methods, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = sorted({r["config"]["dim"] for r in runs})
    fig, axes = plt.subplots(1, len(dims), figsize=(4.5 * len(dims), 3.3), squeeze=False)
    for ax, dim in zip(axes[0], dims):
        for method in methods:
            chosen = sorted(
                (r["config"]["sigma"], r["neg_log_rmse"])
                for r in runs
                if r["config"]["dim"] == dim and r["config"]["method"] == method
            )
            ax.plot(*zip(*chosen), marker="o", label=method)
        ax.set(xlabel="sigma", ylabel="-log RMSE(J)", title=f"{dim}x{dim} lattice")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--sigma", type=float, default=0.1)
    parser.add_argument("--method", choices=METHODS, default="ed")
    parser.add_argument("--seconds", type=float, default=20.0, help="CPU-time budget per run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--l1", type=float, default=Config.l1)
    parser.add_argument("--num-samples", type=int, default=Config.num_samples)
    parser.add_argument("--data-sweeps", type=int, default=None, help="default: 1e6 site updates per chain")
    parser.add_argument("--no-debias", action="store_true", help="keep the L1 penalty to the end")
    parser.add_argument("--out", type=Path, required=True, help="JSON file (its .png is the figure)")
    parser.add_argument("--table", action="store_true", help="run the dim x sigma x method grid")
    parser.add_argument("--dims", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--sigmas", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.4, 0.5])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    settings = dict(
        seconds=args.seconds,
        seed=args.seed,
        l1=args.l1,
        debias=not args.no_debias,
        num_samples=args.num_samples,
        data_sweeps=args.data_sweeps,
    )
    if args.table:
        return run_table(args.dims, args.sigmas, args.methods, args.out, **settings)
    config = Config(dim=args.dim, sigma=args.sigma, method=args.method, **settings)
    record = train(config)
    args.out.write_text(json.dumps(record, indent=1))
    _plot_run(record, args.out.with_suffix(".png"))
    print(
        f"{config.method} dim {config.dim} sigma {config.sigma}: neg_log_rmse {record['neg_log_rmse']:.3f}"
        f" after {record['parameter_updates']} updates",
        file=sys.stderr,
    )
    return record


if __name__ == "__main__":
    main()
