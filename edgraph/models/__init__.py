"""User-facing models: :class:`GraphEBM` (graphs) and :class:`MoleculeEBM` (molecules), with the
shape they share (:class:`~edgraph.models.base.EnergyModel`): ``fit``, ``sample``, ``save``, ``load``.

``MoleculeEBM`` imports RDKit, so it is loaded only when first asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edgraph.models.base import INITS, EnergyModel, checkpoint_format, model_file
from edgraph.models.graph import GraphEBM

if TYPE_CHECKING:
    from edgraph.models.molecule import MoleculeEBM

__all__ = ["INITS", "EnergyModel", "GraphEBM", "MoleculeEBM", "checkpoint_format", "model_file"]


def __getattr__(name: str) -> Any:
    if name == "MoleculeEBM":
        from edgraph.models.molecule import MoleculeEBM

        return MoleculeEBM
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
