"""Why every PCD baseline scores alike on ego_small: the MMD of the chain starts (0 sampler steps), and
the spread of the PCD and the ED energy over those starts. Needs the run directories written by
`bash evaluation/ablations.sh base pcd-gibbs`; output in `pcd_flat_energy.log`."""
import torch

from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd

torch.set_num_threads(1)
ed = GraphEBM.load("runs/ablations/base/ego_small-ed-seed0")
pcd = GraphEBM.load("runs/ablations/pcd-gibbs/ego_small-pcd-seed0")
starts = ed.sample(1024, steps=0, seed=0)
mmd = graph_mmd(starts, load_graphs("ego_small", "test"), ("degree", "clustering", "orbit"))
print("chain starts (0 sampler steps):", {k: round(v, 4) for k, v in mmd.items()})
x, mask = ed.initial_states(256, torch.Generator().manual_seed(0))
with torch.no_grad():
    for name, model in (("PCD", pcd), ("ED", ed)):
        energy = model.sampling_energy(x, mask)
        print(f"{name} energy over 256 chain starts: mean {energy.mean():.4f} std {energy.std():.4f}")
