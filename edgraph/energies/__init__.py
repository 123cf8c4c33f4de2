"""Energy functions ``E(x) -> [B]`` (lower = more probable): graph GNNs, Ising models, MLPs, and
terms to add to them at sampling time (:mod:`edgraph.energies.terms`), and guided class-conditional
energies (:mod:`edgraph.energies.conditional`)."""

from edgraph.energies.conditional import GuidedEnergy
from edgraph.energies.feedforward import MLPEnergy
from edgraph.energies.gnn import GraphEnergy, mlp, structural_features
from edgraph.energies.ising import IsingEnergy
from edgraph.energies.molecule import MoleculeEnergy

__all__ = ["GraphEnergy", "GuidedEnergy", "IsingEnergy", "MLPEnergy", "MoleculeEnergy", "mlp", "structural_features"]
