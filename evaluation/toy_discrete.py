"""Discrete density estimation on Gray-coded 2-D toys: ED with Bernoulli flips against PCD.

Each 2-D toy density is quantised to 32-bit Gray codes (16 bits per coordinate,
:func:`edgraph.datasets.toys.gray_encode`; Dai et al., NeurIPS 2020). An
:class:`~edgraph.energies.feedforward.MLPEnergy` on the 32 bits is trained by Energy Discrepancy with
Bernoulli flips and by persistent contrastive divergence with Gibbs or GWG chains, for the same
CPU-time budget. Evaluation (same for every method): 4,000 chains from uniform random bits run
``--eval-steps`` GWG steps under the learned energy; metric: MMD^2 with the exponential Hamming
kernel ``k(x, y) = exp(-H(x, y) / D)`` between the 4,000 model samples and 4,000 held-out data
codes (Grathwohl et al., ICML 2021, Section 6.1; lower is better), next to the data-vs-data floor.

Usage:
    python evaluation/toy_discrete.py --seconds 5 --out evaluation/results/toy_discrete.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from budget import train_for_cpu_seconds  # noqa: E402  (same folder)
from figures import density_grid  # noqa: E402  (same folder)
from ising import _versions  # noqa: E402  (same folder; shared provenance record)

from edgraph.datasets.toys import TOY_DENSITIES, gray_decode, gray_encode, toy_density_samples
from edgraph.energies.feedforward import MLPEnergy
from edgraph.objectives import PersistentCD, PersistentChains, energy_discrepancy
from edgraph.perturbations import BernoulliFlip
from edgraph.samplers import GWG, Gibbs

METHODS = ("ed", "pcd-gibbs", "pcd-gwg")
BITS = 32


def hamming_mmd(x: torch.Tensor, y: torch.Tensor) -> float:
    """Biased MMD^2 with ``k(a, b) = exp(-Hamming(a, b) / D)`` between binary ``x`` and ``y``."""

    def kernel(a, b):
        hamming = a @ (1 - b).T + (1 - a) @ b.T
        return torch.exp(-hamming / a.shape[1])

    x, y = x.double(), y.double()
    return (kernel(x, x).mean() + kernel(y, y).mean() - 2 * kernel(x, y).mean()).item()


def _loss_function(method: str, generator: torch.Generator, args):
    if method == "ed":
        flip = BernoulliFlip(args.eps)
        return lambda energy, x: energy_discrepancy(
            energy, x, flip, num_negatives=args.num_negatives, w=1.0, generator=generator
        )
    sampler, steps = (Gibbs(), args.gibbs_steps) if method == "pcd-gibbs" else (GWG(), args.gwg_steps)

    def uniform(n, g):
        return torch.randint(0, 2, (n, BITS), generator=g).float()

    chains = PersistentChains(uniform(args.batch_size * 10, generator))
    return PersistentCD(sampler, steps, chains, args.batch_size, generator)


def train_and_evaluate(name: str, method: str, args) -> tuple[dict, torch.Tensor]:
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    train = gray_encode(toy_density_samples(name, args.num_train, seed=args.seed))
    test = gray_encode(toy_density_samples(name, args.num_eval, seed=args.seed + 1))
    energy = MLPEnergy(BITS, hidden=args.hidden, layers=3, activation="silu")
    spent = train_for_cpu_seconds(
        energy, _loss_function(method, generator, args), train, args.seconds, args.batch_size, args.lr, generator
    )
    start_eval, wall_eval = time.process_time(), time.perf_counter()
    x0 = torch.randint(0, 2, (args.num_eval, BITS), generator=generator).float()
    samples = GWG().sample(energy, x0, args.eval_steps, generator=generator)
    record = {
        "density": name,
        "method": method,
        "mmd": hamming_mmd(samples, test),
        "parameter_updates": spent["parameter_updates"],
        "train_cpu_seconds": spent["cpu_seconds"],
        "eval_cpu_seconds": time.process_time() - start_eval,
        "wall_seconds": spent["wall_seconds"] + time.perf_counter() - wall_eval,
    }
    return record, gray_decode(samples)


def run(args) -> dict:
    torch.set_num_threads(1)
    records, decoded = [], {}
    floors = {}
    for name in args.densities:
        reference = gray_encode(toy_density_samples(name, args.num_eval, seed=args.seed + 2))
        held_out = gray_encode(toy_density_samples(name, args.num_eval, seed=args.seed + 1))
        floors[name] = hamming_mmd(reference, held_out)
        for method in args.methods:
            record, points = train_and_evaluate(name, method, args)
            records.append(record)
            decoded[(name, method)] = points
            print(f"{name:12s} {method:9s} MMD {record['mmd']:.5f} ({record['parameter_updates']} updates)", flush=True)
    table = {name: {r["method"]: r["mmd"] for r in records if r["density"] == name} for name in args.densities}
    summary = {
        "experiment": "toy_discrete_gray32",
        "metric": "MMD^2, exponential Hamming kernel exp(-H/32), 4000 model vs 4000 data samples (lower is better)",
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "out"},
        "seed": args.seed,
        "versions": _versions(),
        "budget_clock": "process CPU time of training per run, torch.set_num_threads(1)",
        "evaluation_sampler": f"GWG, {args.eval_steps} steps from uniform random bits, same for all methods",
        "table": table,
        "data_vs_data_floor": floors,
        "runs": records,
        "total_wall_seconds": sum(r["wall_seconds"] for r in records),
        "markdown": _markdown(table, floors, args.methods),
    }
    args.out.write_text(json.dumps(summary, indent=1))
    _plot(decoded, args, args.out.with_suffix(".png"))
    return summary


def _markdown(table: dict, floors: dict, methods) -> str:
    lines = ["| density | " + " | ".join(methods) + " | data floor |", "|---|" + "---|" * (len(methods) + 1)]
    for name, scores in table.items():
        best = min(scores.values())
        cells = [f"**{scores[m]:.4f}**" if scores[m] == best else f"{scores[m]:.4f}" for m in methods]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {floors[name]:.4f} |")
    return "\n".join(lines)


def _plot(decoded: dict, args, path: Path) -> None:
    box = [[-4, 4], [-4, 4]]

    def draw(ax, name: str, column: str) -> None:
        if column == "data":
            points = gray_decode(gray_encode(toy_density_samples(name, args.num_eval, seed=args.seed + 1)))
        else:
            points = decoded[(name, column)]
        ax.hist2d(points[:, 0].numpy(), points[:, 1].numpy(), bins=80, range=box, cmap="viridis")

    density_grid(args.densities, ["data", *args.methods], draw, path, cell=1.7)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--densities", nargs="+", default=list(TOY_DENSITIES), choices=list(TOY_DENSITIES))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seconds", type=float, default=5.0, help="training CPU seconds per run")
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--num-negatives", type=int, default=16)
    parser.add_argument("--gibbs-steps", type=int, default=32, help="single-site steps per update")
    parser.add_argument("--gwg-steps", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--num-train", type=int, default=20000)
    parser.add_argument("--num-eval", type=int, default=4000)
    parser.add_argument("--eval-steps", type=int, default=200)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    return run(args)


if __name__ == "__main__":
    main()
