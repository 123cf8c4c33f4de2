"""Benchmark: speed (steps/s) and mixing (ESS/s of a scalar statistic) of every sampler.

Targets, all at temperature 1:

* ``ising``: periodic 10x10 lattice Ising model, ``J = sigma * A`` with ``sigma = 0.15``
  (``log p = s^T J s``, i.e. nearest-neighbour coupling ``2 sigma = 0.3``, above the critical
  temperature ``2 sigma_c ≈ 0.44``), no bias; statistic: the magnetisation, measured as the mean
  of ``x`` (an affine map of ``mean(s)``, same ESS). Samplers: Gibbs, GWG, DULA, DMALA.
* ``graph``: an ego-small-sized graph energy, ``GraphEnergy(max_nodes=18)`` (153 edge bits) at
  its seeded random initialisation (no training: this measures cost and mixing on an energy of
  the right shape, not sample quality); node counts uniform on 4..18, chains started at edge
  density 0.2; statistic: edge density over the valid pairs. Samplers: Gibbs, GWG, DULA, DMALA.
* ``gaussian``: 100-D Gaussian with tridiagonal precision (2 on the diagonal, -0.9 off it);
  statistic: the mean coordinate. Samplers: Langevin, MALA.

Method per (target, sampler): ``burn_in`` steps, then one uninterrupted timed call of ``steps``
steps (steps/s), then a trace of the statistic recorded every ``thin`` steps for ``records``
records (calls of ``thin`` steps each). ESS is the multi-chain estimate over all chains
(autocorrelation about the pooled mean, Geyer's initial positive sequence), so
``ESS/s = ESS / (records * thin) * steps/s`` counts every chain. One Gibbs or GWG step changes
at most one site; one DULA/DMALA/Langevin/MALA step updates all sites: compare ESS/s, not steps/s.

    python evaluation/bench_samplers.py [--chains 100] [--threads 1]

One thread by default: these tensors are small, and on a shared 2-core machine a second thread
made Gibbs ~30x slower through contention.

Another energy plugs in through :func:`benchmark_target` (energy, x0, mask, samplers).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from edgraph.energies.ising import IsingEnergy
from edgraph.samplers import DMALA, DULA, GWG, MALA, Gibbs, Langevin, Sampler

RESULTS = Path(__file__).resolve().parent / "results" / "bench_samplers.json"
Statistic = Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]


def free_mean(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Per-chain mean of ``x`` over its free entries, [B]."""
    if mask is None:
        return x.mean(1)
    return (x * mask).sum(1) / mask.sum(1).clamp_min(1)


def effective_sample_size(trace: np.ndarray) -> float:
    """Multi-chain ESS of ``trace`` [T, C] (T records of C chains), Geyer's initial positive sequence."""
    records, chains = trace.shape
    centred = trace - trace.mean()
    variance = (centred**2).mean()
    if variance == 0:
        return 0.0
    size = 2 ** int(np.ceil(np.log2(2 * records)))
    spectrum = np.fft.rfft(centred, n=size, axis=0)
    autocovariance = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=0)[:records].mean(1)
    rho = autocovariance / records / variance
    tau = -1.0
    for lag in range(0, records - 1, 2):
        pair = rho[lag] + rho[lag + 1]
        if pair < 0:
            break
        tau += 2 * pair
    return float(records * chains / max(tau, 1e-12))


def benchmark_sampler(
    sampler: Sampler,
    energy,
    x0: torch.Tensor,
    mask: torch.Tensor | None,
    statistic: Statistic,
    burn_in: int,
    steps: int,
    records: int,
    thin: int,
    seed: int = 0,
) -> dict:
    """Steps/s, ESS and ESS/s of ``statistic`` for one sampler on one target."""
    generator = torch.Generator().manual_seed(seed)
    x = sampler.sample(energy, x0, burn_in, mask, generator)
    start = time.perf_counter()
    x = sampler.sample(energy, x, steps, mask, generator)
    steps_per_s = steps / (time.perf_counter() - start)
    acceptance = sampler.acceptance_rate
    trace = []
    for _ in range(records):
        x = sampler.sample(energy, x, thin, mask, generator)
        trace.append(statistic(x, mask).double().numpy())
    trace = np.stack(trace)
    ess = effective_sample_size(trace)
    return {
        "steps_per_s": round(steps_per_s, 1),
        "ess": round(ess, 1),
        "ess_per_s": round(ess / (records * thin) * steps_per_s, 2),
        "acceptance_rate": round(acceptance, 3),
        "statistic_mean": round(float(trace.mean()), 4),
        "burn_in": burn_in,
        "timed_steps": steps,
        "records": records,
        "thin": thin,
    }


def benchmark_target(
    energy,
    x0: torch.Tensor,
    mask: torch.Tensor | None,
    samplers: dict[str, tuple[Sampler, dict]],
    statistic: Statistic = free_mean,
) -> dict[str, dict]:
    """Run :func:`benchmark_sampler` for each ``name: (sampler, schedule)``; schedule holds
    ``burn_in``, ``steps``, ``records`` and ``thin``."""
    results = {}
    for name, (sampler, schedule) in samplers.items():
        started = time.perf_counter()
        results[name] = benchmark_sampler(sampler, energy, x0, mask, statistic, **schedule)
        print(f"  {name:9s} {results[name]}  ({time.perf_counter() - started:.1f} s)", flush=True)
    return results


def discrete_samplers(single_site: dict, all_sites: dict, step_size: float) -> dict:
    return {
        "gibbs": (Gibbs(), single_site),
        "gwg": (GWG(), single_site),
        "dula": (DULA(step_size), all_sites),
        "dmala": (DMALA(step_size), all_sites),
    }


def ising_target(chains: int, generator: torch.Generator) -> tuple:
    energy = IsingEnergy.lattice(10, sigma=0.15)
    x0 = (torch.rand(chains, 100, generator=generator) < 0.5).float()
    return energy, x0, None


def graph_target(chains: int, generator: torch.Generator) -> tuple:
    from edgraph.energies.gnn import GraphEnergy
    from edgraph.graphs import pair_mask

    torch.manual_seed(0)
    energy = GraphEnergy(max_nodes=18).eval()
    for parameter in energy.parameters():
        parameter.requires_grad_(False)
    nodes = torch.randint(4, 19, (chains,), generator=generator)
    mask = pair_mask(torch.arange(18) < nodes[:, None])
    x0 = (torch.rand(chains, 153, generator=generator) < 0.2).float() * mask
    return energy, x0, mask


def gaussian_target(chains: int, generator: torch.Generator) -> tuple:
    dim = 100
    off_diagonal = torch.diag(torch.ones(dim - 1), 1)
    precision = 2 * torch.eye(dim) - 0.9 * (off_diagonal + off_diagonal.t())

    def energy(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((x @ precision) * x).sum(-1)

    return energy, torch.randn(chains, dim, generator=generator), None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chains", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    started = time.perf_counter()

    results = {}
    print("ising 10x10, sigma 0.15")
    results["ising_10x10_sigma0.15"] = benchmark_target(
        *ising_target(args.chains, generator),
        discrete_samplers(
            single_site=dict(burn_in=1000, steps=500, records=200, thin=10),
            all_sites=dict(burn_in=200, steps=200, records=200, thin=2),
            step_size=0.2,
        ),
    )
    print("graph energy, 18 nodes / 153 edge bits")
    results["graph_energy_ego_small_sized"] = benchmark_target(
        *graph_target(args.chains, generator),
        discrete_samplers(
            single_site=dict(burn_in=100, steps=100, records=50, thin=4),
            all_sites=dict(burn_in=50, steps=50, records=50, thin=2),
            step_size=0.2,
        ),
    )
    print("gaussian 100-D")
    schedule = dict(burn_in=300, steps=300, records=200, thin=5)
    results["gaussian_100d"] = benchmark_target(
        *gaussian_target(args.chains, generator),
        {"langevin": (Langevin(0.05), schedule), "mala": (MALA(0.05), schedule)},
    )

    record = {
        "benchmark": "samplers: steps/s and ESS/s (all chains) of a scalar statistic",
        "chains": args.chains,
        "threads": args.threads,
        "step_sizes": {"dula/dmala": 0.2, "langevin/mala": 0.05},
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "torch": torch.__version__,
        },
        "wall_time_s": round(time.perf_counter() - started, 1),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out} ({record['wall_time_s']} s)")


if __name__ == "__main__":
    main()
