"""Discrete samplers by name, as models, configuration files and the command line refer to them."""

from __future__ import annotations

from edgraph.samplers.base import Sampler
from edgraph.samplers.dlp import DMALA, DULA
from edgraph.samplers.gibbs import Gibbs
from edgraph.samplers.gwg import GWG

#: Names of the samplers of binary and one-hot states.
DISCRETE_SAMPLERS = ("gibbs", "gwg", "dula", "dmala")


def make_sampler(name: str, step_size: float = 0.25) -> Sampler:
    """The discrete sampler called ``name``; ``step_size`` is used by DULA and DMALA only.

    >>> sampler = make_sampler("dmala", step_size=0.2)
    >>> type(sampler).__name__, sampler.step_size
    ('DMALA', 0.2)
    """
    if name == "gibbs":
        return Gibbs()
    if name == "gwg":
        return GWG()
    if name == "dula":
        return DULA(step_size)
    if name == "dmala":
        return DMALA(step_size)
    raise ValueError(f"unknown sampler {name!r}; choose from {DISCRETE_SAMPLERS}")
