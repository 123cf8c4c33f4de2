"""edgraph: energy-based generative models of graphs trained by Energy Discrepancy."""

from edgraph.model import GraphEBM
from edgraph.molecule_model import MoleculeEBM

__version__ = "0.1.0"
__all__ = ["GraphEBM", "MoleculeEBM", "__version__"]
