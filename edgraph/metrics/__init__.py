"""Graph evaluation: MMD of degree, clustering, orbit and spectral statistics, 4-node orbit counts.

The public entry points are :func:`~edgraph.metrics.mmd.graph_mmd` (published ``"gdss"`` and
``"gran"`` protocols), :func:`~edgraph.metrics.mmd.reference_floor` (the real-vs-real value a perfect
generator would score) and :func:`~edgraph.metrics.orbits.orbit_counts` (ORCA-order node-orbit
counts of one graph), :func:`~edgraph.metrics.diversity.graph_novelty` and
:func:`~edgraph.metrics.diversity.graph_uniqueness` (up to isomorphism).
:func:`~edgraph.metrics.mmd.graph_mmd_dense` takes generated graphs as padded tensors. Molecule
metrics (validity, uniqueness, novelty, NSPDK, FCD) load RDKit on first use.
"""

from __future__ import annotations

from typing import Any

from edgraph.metrics.diversity import graph_novelty, graph_uniqueness
from edgraph.metrics.kernels import emd_distance, euclidean_distance, gaussian, mmd2, total_variation
from edgraph.metrics.mmd import (
    PROTOCOLS,
    STATISTICS,
    KernelSpec,
    clean_dense,
    clean_graphs,
    dense_statistics,
    graph_mmd,
    graph_mmd_dense,
    graph_statistics,
    reference_floor,
    statistics_mmd,
)
from edgraph.metrics.orbits import NUM_ORBITS, orbit_counts, orbit_counts_dense
from edgraph.metrics.statistics import (
    clustering_coefficients,
    clustering_histogram,
    degree_histogram,
    histogram,
    normalized_laplacian_spectrum,
    orbit_statistic,
    spectral_histogram,
)

#: Molecule metrics, imported (with RDKit) from :mod:`edgraph.metrics.molecular` on first use.
MOLECULE_METRICS = (
    "canonical_set",
    "frechet_chemnet_distance",
    "molecule_metrics",
    "novelty",
    "nspdk_mmd",
    "uniqueness",
    "validity",
)

__all__ = [
    "frechet_chemnet_distance",
    "molecule_metrics",
    "novelty",
    "nspdk_mmd",
    "uniqueness",
    "validity",
    "NUM_ORBITS",
    "PROTOCOLS",
    "STATISTICS",
    "KernelSpec",
    "clean_dense",
    "clean_graphs",
    "dense_statistics",
    "clustering_coefficients",
    "clustering_histogram",
    "degree_histogram",
    "emd_distance",
    "euclidean_distance",
    "gaussian",
    "graph_mmd",
    "graph_mmd_dense",
    "graph_novelty",
    "graph_statistics",
    "graph_uniqueness",
    "histogram",
    "mmd2",
    "normalized_laplacian_spectrum",
    "orbit_counts",
    "orbit_counts_dense",
    "orbit_statistic",
    "reference_floor",
    "spectral_histogram",
    "statistics_mmd",
    "total_variation",
]


def __getattr__(name: str) -> Any:
    if name in MOLECULE_METRICS:
        from edgraph.metrics import molecular

        return getattr(molecular, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
