"""Per-size edge-count calibration of a trained ego_small model, sampled from noise.

From noise, the default model's samples have the wrong number of edges for their size (seed 0:
23.2 edges on 10-13-node graphs vs 18.8 in training, 31.6 vs 36.5 on 14-18 nodes) although the
chains start at the training density. The maximum-entropy fix: tilt the energy by one linear term
per node count, E'(x) = E(x) + beta_n |x|, and choose beta by moment matching, so that the model's
mean edge count of each size equals the training graphs' (the condition a maximum-likelihood fit
of beta satisfies: E_data[|x|] = E_model[|x|] per size). d E_model[|x|] / d beta_n = -Var_model(|x|),
so each round takes the Newton step beta_n += (m_n - target_n) / Var_n (damped, clipped), estimated
from chains stratified over the training sizes (CHAINS per size, GWG 200 from noise).

STATS ``edges`` tilts by the edge count only; ``edges,triangles`` by edges and triangles
(E' = E + beta_n |x| + gamma_n t(x), t(x) = tr(A^3) / 6: an ERGM-style tilt of the EBM), with the
2 x 2 Newton step Cov_n^-1 (m_n - target_n).

Usage: python ego_edge_calibration.py STATS ROUNDS CHAINS MODEL [MODEL ...]"""
import sys
import time

import torch
from torch import nn

from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.graphs import edges_to_adj, graphs_from_json, graphs_to_edges, nodes_from_pairs
from edgraph.metrics import graph_mmd

torch.set_num_threads(1)
names = sys.argv[1].split(",")
rounds, chains = int(sys.argv[2]), int(sys.argv[3])
test = load_graphs("ego_small", "test")


def statistics(x, mask):
    """[B, S] sufficient statistics of edge vectors: edge count and, if asked, triangle count."""
    x = x * mask
    columns = [x.sum(-1)]
    if "triangles" in names:
        padded = int(nodes_from_pairs(torch.tensor(x.shape[-1])))
        adj = edges_to_adj(x, padded)
        columns.append(((adj @ adj) * adj).sum((-1, -2)) / 6)
    return torch.stack(columns, -1)


class Tilted(nn.Module):
    def __init__(self, base: nn.Module, theta: torch.Tensor) -> None:
        super().__init__()
        self.base, self.theta = base, theta  # theta [N + 1, S]

    def forward(self, x, mask):
        n = nodes_from_pairs(mask.sum(-1)).long()
        return self.base(x, mask) + (self.theta.to(x)[n] * statistics(x, mask)).sum(-1)


def per_size_moments(graphs, max_nodes: int):
    x, mask = graphs_to_edges(graphs, max_nodes)
    n = nodes_from_pairs(mask.sum(-1)).long()
    t = statistics(x, mask).double()
    count = torch.bincount(n, minlength=max_nodes + 1).clamp(min=1).double()
    mean = torch.zeros(max_nodes + 1, t.shape[1], dtype=torch.float64).index_add_(0, n, t) / count[:, None]
    centred = t - mean[n]
    cov = torch.zeros(max_nodes + 1, t.shape[1], t.shape[1], dtype=torch.float64).index_add_(
        0, n, centred[:, :, None] * centred[:, None, :]) / count[:, None, None]
    return mean, cov


def model_moments(model: GraphEBM, energy: nn.Module, sizes: torch.Tensor, seed: int):
    saved = model.node_counts
    model.node_counts = torch.zeros_like(saved).index_fill_(0, sizes, 1.0)
    try:
        graphs = model._sample_with(energy, chains * len(sizes), seed=seed)
    finally:
        model.node_counts = saved
    return per_size_moments(graphs, model.config.max_nodes)


for path in sys.argv[4:]:
    model = GraphEBM.load(path)
    sizes = model.node_counts.nonzero().squeeze(-1)
    target, _ = per_size_moments(graphs_from_json({"graphs": model.training_graphs}), model.config.max_nodes)
    theta = torch.zeros_like(target)
    energy = Tilted(model.sampling_energy, theta)
    start = time.time()
    for r in range(rounds):
        mean, cov = model_moments(model, energy, sizes, seed=100 + r)
        cov = cov + torch.eye(len(names), dtype=cov.dtype)  # ridge: a size's chains may barely vary
        step = torch.linalg.solve(cov[sizes], (mean - target)[sizes]).clamp(-0.5, 0.5)
        print(f"{path} round {r}: m - target", {int(n): [round(v, 1) for v in (mean[n] - target[n]).tolist()]
                                                   for n in sizes}, flush=True)
        theta[sizes] += 0.7 * step
    seconds = time.time() - start
    for name, e in (("plain", model.sampling_energy), ("calibrated", energy)):
        mmd = graph_mmd(model._sample_with(e, 1024, seed=0), test, ("degree", "clustering", "orbit"))
        print(f"{path} {name} {sys.argv[1]} ({rounds} rounds, {chains} chains/size, {seconds:.0f} s)",
              {k: round(v, 4) for k, v in mmd.items()}, flush=True)
    print(f"{path} theta", {int(n): [round(v, 3) for v in theta[n].tolist()] for n in sizes}, flush=True)
