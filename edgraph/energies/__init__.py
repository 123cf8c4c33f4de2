"""Energy functions ``E(x) -> [B]`` (lower = more probable): graph GNNs, Ising models, MLPs, and
terms to add to them at sampling time."""

from edgraph.energies.feedforward import MLPEnergy
from edgraph.energies.gnn import GraphEnergy, mlp, structural_features
from edgraph.energies.ising import IsingEnergy
from edgraph.energies.molecule import MoleculeEnergy
from edgraph.energies.pair import PairEnergy

__all__ = ["GraphEnergy", "IsingEnergy", "MLPEnergy", "MoleculeEnergy", "PairEnergy", "mlp", "structural_features"]
