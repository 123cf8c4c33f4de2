"""Energy functions ``E(x) -> [B]`` (lower = more probable): graph GNNs, Ising models, MLPs, and
terms to add to them at sampling time (:mod:`edgraph.energies.terms`)."""

from edgraph.energies.feedforward import MLPEnergy
from edgraph.energies.gnn import GraphEnergy, mlp, structural_features
from edgraph.energies.ising import IsingEnergy
from edgraph.energies.molecule import MoleculeEnergy

__all__ = ["GraphEnergy", "IsingEnergy", "MLPEnergy", "MoleculeEnergy", "mlp", "structural_features"]
