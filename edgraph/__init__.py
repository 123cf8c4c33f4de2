"""edgraph: energy-based generative models of graphs trained by Energy Discrepancy.

``import edgraph`` loads neither RDKit nor Lightning: molecule support loads RDKit when
:class:`MoleculeEBM` is first used, and training loads Lightning when ``fit`` is first called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edgraph.models.graph import GraphEBM

if TYPE_CHECKING:
    from edgraph.models.molecule import MoleculeEBM

__version__ = "0.1.0"
__all__ = ["GraphEBM", "MoleculeEBM", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "MoleculeEBM":
        from edgraph.models.molecule import MoleculeEBM

        return MoleculeEBM
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
