"""User-facing models: :class:`GraphEBM` (graphs), :class:`LatentGraphEBM` (graphs from an
autoencoder with an energy-based latent prior), :class:`MoleculeEBM` (molecules) and
:class:`LatentMoleculeEBM` (molecules from an autoencoder with an energy-based latent prior), with the
shape they share (:class:`~edgraph.models.base.EnergyModel`): ``fit``, ``sample``, ``save``, ``load``;
and :class:`PropertyRegressor`, which steers molecule sampling towards a property.

``MoleculeEBM``, ``LatentMoleculeEBM`` and ``PropertyRegressor`` import RDKit, so they are loaded
only when first asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edgraph.models.base import INITS, EnergyModel, checkpoint_format, model_file
from edgraph.models.graph import GraphEBM
from edgraph.models.latent import LatentGraphEBM

if TYPE_CHECKING:
    from edgraph.models.latent_molecule import LatentMoleculeEBM
    from edgraph.models.molecule import MoleculeEBM
    from edgraph.models.property import PropertyRegressor

__all__ = [
    "INITS",
    "EnergyModel",
    "GraphEBM",
    "LatentGraphEBM",
    "LatentMoleculeEBM",
    "MoleculeEBM",
    "PropertyRegressor",
    "checkpoint_format",
    "model_file",
]


def __getattr__(name: str) -> Any:
    if name == "MoleculeEBM":
        from edgraph.models.molecule import MoleculeEBM

        return MoleculeEBM
    if name == "LatentMoleculeEBM":
        from edgraph.models.latent_molecule import LatentMoleculeEBM

        return LatentMoleculeEBM
    if name == "PropertyRegressor":
        from edgraph.models.property import PropertyRegressor

        return PropertyRegressor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
