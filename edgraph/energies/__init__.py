"""Energy functions ``E(x) -> [B]`` (lower = more probable): graph GNNs, Ising models, MLPs."""

from edgraph.energies.gnn import GraphEnergy, structural_features
from edgraph.energies.ising import IsingEnergy
from edgraph.energies.mlp import MLPEnergy

__all__ = ["GraphEnergy", "IsingEnergy", "MLPEnergy", "structural_features"]
