"""edgraph: energy-based generative models of graphs trained by Energy Discrepancy."""

__version__ = "0.1.0"
