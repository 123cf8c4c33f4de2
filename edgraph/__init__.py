"""edgraph: energy-based generative models of graphs trained by Energy Discrepancy."""

from edgraph.model import GraphEBM

__version__ = "0.1.0"
__all__ = ["GraphEBM", "__version__"]
