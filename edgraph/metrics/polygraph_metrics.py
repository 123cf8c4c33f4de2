r"""Metrics of the PolyGraph benchmark (Krimmel et al., "PolyGraph Discrepancy: a classifier-based
metric for graph generation", ICLR 2026), called through the optional ``polygraph-benchmark``
package (``pip install "edgraph[benchmarks]"``).

* :func:`polygraph_mmd`: PolyGraph's Gaussian-TV MMD² of degree, clustering, orbit and spectral
  statistics. It is the ``"gran"`` protocol of :func:`~edgraph.metrics.mmd.graph_mmd` without
  cleaning, and the two agree to rounding error.
* :func:`polygraph_discrepancy`: the PolyGraph Discrepancy (PGD), a classifier's lower bound on
  the Jensen-Shannon distance between generated and reference graphs, in [0, 1], on the best of
  six graph descriptors. PolyGraph's default classifier is TabPFN, whose weights are a
  download; edgraph passes scikit-learn's logistic regression instead, which runs offline, so its
  PGD values are comparable with each other but not with published TabPFN values.
* :func:`is_sbm_graph`: PolyGraph's graph-tool-free test that a graph is a plausible sample of the
  SBM benchmark's block model (``is_sbm_graph_alt``).
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import networkx as nx

from edgraph.graphs import GraphLike, _as_networkx

#: The pip requirement that brings PolyGraph in.
INSTALL_HINT = 'pip install "edgraph[benchmarks]" (the polygraph-benchmark package)'


def _polygraph(module: str) -> ModuleType:
    """Import ``polygraph.<module>``, with an error that says how to install it."""
    try:
        return importlib.import_module(f"polygraph.{module}")
    except ImportError as error:
        raise ImportError(f"PolyGraph metrics need the optional benchmarks extra: {INSTALL_HINT}") from error


def polygraph_mmd(generated: Sequence[GraphLike], reference: Sequence[GraphLike]) -> dict[str, float]:
    r"""PolyGraph's biased Gaussian-TV MMD² of the ``degree``, ``clustering``, ``orbit`` and
    ``spectral`` statistics,

    .. math::
        k(h, h') = \exp\!\Big(-\frac{(\lVert h - h' \rVert_1 / 2)^2}{2\sigma^2}\Big),

    with the bandwidths of the ``"gran"`` protocol of :func:`~edgraph.metrics.mmd.graph_mmd`.
    Graphs are used as given (no cleaning).

    Example:
        >>> graphs = [nx.cycle_graph(n) for n in range(4, 9)]
        >>> {k: round(v, 6) for k, v in sorted(polygraph_mmd(graphs, graphs).items())}
        {'clustering': 0.0, 'degree': 0.0, 'orbit': 0.0, 'spectral': 0.0}
    """
    metrics = _polygraph("metrics")
    benchmark = metrics.GaussianTVMMD2Benchmark(_as_networkx(reference))
    return {name: float(value) for name, value in benchmark.compute(_as_networkx(generated)).items()}


def logistic_regression() -> Any:
    """edgraph's offline PGD classifier: scikit-learn's L2-regularised logistic regression on the
    descriptors, which PolyGraph standardises first."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000)


def polygraph_discrepancy(
    generated: Sequence[GraphLike], reference: Sequence[GraphLike], classifier: Any | None = None
) -> dict[str, float | str]:
    r"""PolyGraph Discrepancy of ``generated`` against ``reference`` graphs (equal numbers of each).

    For each descriptor :math:`d` (4- and 5-node orbit counts, clustering, degree, spectrum, and a
    random GIN embedding) a classifier learns to tell the two sets apart on one half of each, and
    its log-likelihood on the other half lower-bounds the Jensen-Shannon distance
    :math:`\mathrm{JS}_d \in [0, 1]`. The PGD is :math:`\mathrm{JS}_{d^*}` for the descriptor
    :math:`d^*` that separates the sets best in a 4-fold cross-validation on the first half, so it
    can lie below the largest :math:`\mathrm{JS}_d`. 0: no descriptor tells the sets apart;
    1: one separates them perfectly.

    Args:
        generated, reference: graphs; PolyGraph needs as many of each.
        classifier: any scikit-learn style binary classifier (``fit`` / ``predict_proba``);
            default :func:`logistic_regression`.

    Returns:
        ``{"pgd": ..., "pgd_descriptor": d*, "pgd_<name>": JS of each descriptor}``.

    Example:
        >>> paths = [nx.path_graph(n) for n in range(10, 30)]
        >>> cliques = [nx.complete_graph(n) for n in range(10, 30)]
        >>> polygraph_discrepancy(cliques, paths)["pgd"] > 0.9
        True
    """
    generated, reference = _as_networkx(generated), _as_networkx(reference)
    if len(generated) != len(reference):
        raise ValueError(
            f"PGD compares equal numbers of graphs, got {len(generated)} generated and {len(reference)} reference "
            "graphs (pass the first len(reference) generated graphs)"
        )
    metrics = _polygraph("metrics")
    result = metrics.StandardPGD(reference, classifier=classifier or logistic_regression()).compute(generated)
    return {
        "pgd": float(result["pgd"]),
        "pgd_descriptor": str(result["pgd_descriptor"]),
        **{f"pgd_{name}": float(value) for name, value in result["subscores"].items()},
    }


def is_sbm_graph(graph: nx.Graph) -> bool:
    """PolyGraph's block-model test (``is_sbm_graph_alt``): the best of several community
    detections finds 2 to 5 blocks of 20 to 40 nodes whose edge densities pass a Wald test against
    0.3 within blocks and 0.005 between them. Being a statistical test, it rejects some real
    samples of the block model too.

    Its Louvain and Kernighan–Lin partitions draw from Python's global random generator; the test
    runs with that generator seeded (and restores it afterwards), so that a graph always gets the
    same verdict.

    Example:
        >>> is_sbm_graph(nx.complete_graph(60))
        False
    """
    state = random.getstate()
    random.seed(0)
    try:
        return bool(_polygraph("datasets.sbm").is_sbm_graph_alt(graph))
    finally:
        random.setstate(state)
