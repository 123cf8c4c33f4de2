r"""MCMC samplers for energy-based models ``p(x) ∝ exp(-E(x) / T)``.

Discrete (binary 0/1 ``[B, D]`` or one-hot ``[B, D, K]``): :class:`~edgraph.samplers.gibbs.Gibbs`,
:class:`~edgraph.samplers.gwg.GWG`, :class:`~edgraph.samplers.dlp.DULA`,
:class:`~edgraph.samplers.dlp.DMALA`. Continuous ``[B, D]``: :class:`~edgraph.samplers.continuous.Langevin`,
:class:`~edgraph.samplers.continuous.MALA`. All share
``.sample(energy, x0, steps, mask=None, generator=None) -> x`` (:meth:`~edgraph.samplers.base.Sampler.sample`)
and expose ``acceptance_rate`` after a call. :func:`~edgraph.samplers.registry.make_sampler` builds a
sampler from its name.
"""

from edgraph.samplers.base import Sampler
from edgraph.samplers.continuous import MALA, Langevin
from edgraph.samplers.dlp import DMALA, DULA
from edgraph.samplers.gibbs import Gibbs
from edgraph.samplers.gwg import GWG
from edgraph.samplers.registry import CONTINUOUS_SAMPLERS, DISCRETE_SAMPLERS, make_sampler

__all__ = [
    "CONTINUOUS_SAMPLERS",
    "DISCRETE_SAMPLERS",
    "make_sampler",
    "Sampler",
    "Gibbs",
    "GWG",
    "DULA",
    "DMALA",
    "Langevin",
    "MALA",
]
