"""Samplers by name, as models, configuration files and the command line refer to them."""

from __future__ import annotations

from edgraph.samplers.base import Sampler
from edgraph.samplers.continuous import MALA, Langevin
from edgraph.samplers.dlp import DMALA, DULA
from edgraph.samplers.gibbs import Gibbs
from edgraph.samplers.gwg import GWG

#: Names of the samplers of binary and one-hot states.
DISCRETE_SAMPLERS = ("gibbs", "gwg", "dula", "dmala")
#: Names of the samplers of continuous states.
CONTINUOUS_SAMPLERS = ("langevin", "mala")


def make_sampler(name: str, step_size: float = 0.25) -> Sampler:
    """The sampler called ``name``; ``step_size`` is used by DULA, DMALA, Langevin and MALA.

    >>> sampler = make_sampler("dmala", step_size=0.2)
    >>> type(sampler).__name__, sampler.step_size
    ('DMALA', 0.2)
    """
    samplers = {"gibbs": Gibbs, "gwg": GWG, "dula": DULA, "dmala": DMALA, "langevin": Langevin, "mala": MALA}
    if name not in samplers:
        raise ValueError(f"unknown sampler {name!r}; choose from {DISCRETE_SAMPLERS + CONTINUOUS_SAMPLERS}")
    return samplers[name]() if name in ("gibbs", "gwg") else samplers[name](step_size)
