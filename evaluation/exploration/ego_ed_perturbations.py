"""Other ED perturbations on ego_small, with the library defaults otherwise (M 32, 1,400 cosine steps,
Lightning loop); gdss MMD of 1,024 GWG-200 samples, sampling seed 0.

SPEC is one of
- ``eps:E``: the default Bernoulli flips with eps E;
- ``two:A,B``: the mean of ED with eps A and ED with eps B, M/2 negatives each (same cost). Drawing
  the scale k with each perturbed sample, (k, y) ~ q(k) q_k(y | x), is again a symmetric
  perturbation, so this is a valid ED whose negatives probe coarse and fine changes;
- ``cap:E,K``: eps_i = min(E, K / D_i) for a graph with D_i pairs: E for small graphs, about K
  flips for large ones, whose ED loss is otherwise saturated at log(w/M) (no gradient) at eps 0.2
  (eps depends on the mask only, so the kernel stays symmetric);
- ``swap:E,F``: the mean of ED with Bernoulli flips at eps E and ED with edge swaps (M/2 negatives
  each): remove k random edges and add k random non-edges, k = max(1, round(F |x|)). The swap
  keeps the edge count, so q(y|x) = 1 / (C(|x|, k) C(P - |x|, k)) = q(x|y): symmetric. At low
  density Bernoulli negatives mostly add edges (a 14-node ego graph at eps 0.2 gains ~11 and loses
  ~7), so nothing shows the energy sparser graphs of that size; swap negatives rearrange edges at
  the data's own density.

With ``BALANCE=a`` in the environment, training batches draw graph i with weight 1 / count(n_i)^a
(with replacement) instead of uniformly: sampling draws n from the training histogram and the energy
only has to model p(x | n), which reweighting sizes leaves unchanged, so the 7+-node graphs (3-16
per size) can be seen more often.

Usage: python ego_ed_perturbations.py SPEC SEED [SEED ...]"""
import os
import sys
import time
from dataclasses import dataclass

import torch

import edgraph.model
from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd
from edgraph.objectives import energy_discrepancy
from edgraph.perturbations import ScaledBernoulliFlip, _flip, _free_sites
from edgraph.training import TrainConfig, ed_loss


@dataclass(frozen=True)
class CappedFlip(ScaledBernoulliFlip):
    eps: float = 0.2

    def sample(self, x, mask=None, generator=None):
        free = _free_sites(mask, x.shape)
        return _flip(x, (self.flips / free.sum(-1, keepdim=True).clamp(min=1)).clamp(max=self.eps), free, generator)


@dataclass(frozen=True)
class EdgeSwap:
    fraction: float = 0.2

    def sample(self, x, mask=None, generator=None):
        free = _free_sites(mask, x.shape)
        free = torch.ones_like(x, dtype=torch.bool) if free is None else free
        present, absent = (x > 0.5) & free, (x < 0.5) & free
        k = (self.fraction * present.sum(-1, keepdim=True)).round().clamp(min=1)
        k = torch.minimum(k, torch.minimum(present.sum(-1, keepdim=True), absent.sum(-1, keepdim=True)))
        y = x.clone()
        for chosen, value in ((present, 0.0), (absent, 1.0)):
            keys = torch.rand(x.shape, generator=generator, device=x.device).masked_fill(~chosen, 2.0)
            picked = (keys.argsort(-1).argsort(-1) < k) & chosen
            y = torch.where(picked, torch.full_like(y, value), y)
        return y


torch.set_num_threads(1)
spec, seeds = sys.argv[1], [int(s) for s in sys.argv[2:]]
kind, values = spec.split(":")
values = [float(v) for v in values.split(",")]
train, test = load_graphs("ego_small", "train"), load_graphs("ego_small", "test")


def loss_for(self: GraphEBM, config: TrainConfig):
    c = self.config
    if kind == "swap":
        flips, swaps = ed_loss(values[0], c.num_negatives // 2, c.w), EdgeSwap(values[1])
        return lambda energy, x, mask: (flips(energy, x, mask) + energy_discrepancy(
            energy, x, swaps, c.num_negatives // 2, c.w, mask)) / 2
    if kind == "two":
        coarse, fine = (ed_loss(eps, c.num_negatives // 2, c.w) for eps in values)
        return lambda energy, x, mask: (coarse(energy, x, mask) + fine(energy, x, mask)) / 2
    perturbation = CappedFlip(flips=values[1], eps=values[0])
    return lambda energy, x, mask: energy_discrepancy(energy, x, perturbation, c.num_negatives, c.w, mask)


def balanced_loader(x, mask, batch_size, seed):
    sizes = mask.sum(-1).long()
    weights = torch.bincount(sizes).double()[sizes] ** -float(os.environ["BALANCE"])
    generator = torch.Generator().manual_seed(seed)
    sampler = torch.utils.data.WeightedRandomSampler(weights, len(x), replacement=True, generator=generator)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, mask), batch_size=batch_size, sampler=sampler)


if "BALANCE" in os.environ:
    edgraph.model.make_loader = balanced_loader
    spec += f" balance {os.environ['BALANCE']}"
if kind in ("two", "cap", "swap"):
    GraphEBM.training_loss = loss_for
for seed in seeds:
    start = time.time()
    model = GraphEBM(18, eps=values[0]).fit(train, max_steps=1400, seed=seed, progress=False)
    seconds = time.time() - start
    mmd = graph_mmd(model.sample(1024, seed=0), test, ("degree", "clustering", "orbit"))
    print(f"{spec} seed {seed} train {seconds:.0f} s", {k: round(v, 4) for k, v in mmd.items()}, flush=True)
