"""ED against a Bernoulli(rho_n) reference (ego_small; community_small_gdss too). Symmetric bit flips turn a sparse graph into a
denser one on average (an 18-node ego graph: 36 of 153 pairs are edges; eps 0.2 twice gives negatives
with ~62), so ED never contrasts the data with sparser graphs, and the energy of large graphs keeps
falling as edges are removed (runs/cos1400 seed 0: its 14+-node samples have 29 edges and energies
-11..26; the six training graphs of that size have 36 edges and energies 15..104).

Here each free pair is resampled from Bernoulli(rho_n) (the training edge density at that node
count) with probability eps. That kernel q is reversible with respect to pi_n = Bernoulli(rho_n)^D,
so sum_x' q(y | x') e^{-E(x')} = pi(y) E_{x' ~ q(. | y)} e^{-E(x') - log pi(x')}: the usual ED
estimator applies to the residual R = E + log pi, with negatives drawn by the same kernel, which
keeps the data's density on average. The network is R; sampling uses
E(x) = R(x) - m(x) logit(rho_n) (+ a constant per n), m the number of edges. Otherwise the library
defaults (M 32, w 1, cosine schedule, Lightning loop); gdss MMD of 1,024 GWG samples (sampling
seed 0) against the test split.
Usage: python ego_density_reference.py DATASET EPS TRAIN_STEPS SAMPLER_STEPS SEED [SEED ...]
(EPS 0: the default ED with Bernoulli flips, eps 0.2, for comparison)."""
import sys
import time
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.graphs import nodes_from_pairs
from edgraph.metrics import graph_mmd
from edgraph.objectives import energy_discrepancy
from edgraph.training import TrainConfig


def node_counts(mask: Tensor) -> Tensor:
    return nodes_from_pairs(mask.sum(-1).round().long())


@dataclass(frozen=True)
class DensityResample:
    eps: float
    density: Tensor  # [N + 1], clamped into (0, 1)

    def sample(self, x: Tensor, mask: Tensor, generator: torch.Generator | None = None) -> Tensor:
        rho = self.density[node_counts(mask)][:, None].to(x.dtype)
        resample = torch.rand(x.shape, generator=generator) < self.eps
        fresh = (torch.rand(x.shape, generator=generator) < rho).to(x.dtype)
        return torch.where(resample & (mask > 0), fresh, x)


class Tilted(nn.Module):
    """E(x) = R(x) - m(x) logit(rho_n)."""

    def __init__(self, residual: nn.Module, density: Tensor) -> None:
        super().__init__()
        self.residual, self.logit = residual, torch.logit(density)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        return self.residual(x, mask) - (x * mask).sum(-1) * self.logit[node_counts(mask)].to(x.dtype)


torch.set_num_threads(1)
dataset, eps, train_steps, sampler_steps = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
seeds = [int(s) for s in sys.argv[5:]]
train, test = load_graphs(dataset, "train"), load_graphs(dataset, "test")
max_nodes = max(g.number_of_nodes() for g in train + test)


def density_loss(self: GraphEBM, config: TrainConfig):
    perturbation = DensityResample(eps, self.edge_density.float().clamp(0.02, 0.98))
    return lambda energy, x, mask: energy_discrepancy(energy, x, perturbation, self.config.num_negatives,
                                                      self.config.w, mask)


if eps > 0:
    GraphEBM.training_loss = density_loss
for seed in seeds:
    start = time.time()
    model = GraphEBM(max_nodes, sampler_steps=sampler_steps).fit(train, max_steps=train_steps, seed=seed, progress=False)
    seconds = time.time() - start
    if eps > 0:
        model.sampling_energy = Tilted(model.sampling_energy, model.edge_density.float().clamp(0.02, 0.98))
    mmd = graph_mmd(model.sample(1024, seed=0), test, ("degree", "clustering", "orbit"))
    print(f"{dataset} density reference eps {eps} seed {seed} train {seconds:.0f} s",
          {k: round(v, 4) for k, v in mmd.items()}, flush=True)
