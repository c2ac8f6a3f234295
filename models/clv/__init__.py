"""Customer lifetime value: BG/NBD and Pareto/NBD purchase counts, Gamma-Gamma spend, CLV."""

from models.clv.base import ConvergenceError, InvalidSummaryError, NotFittedError
from models.clv.bgnbd import BetaGeoModel
from models.clv.gamma_gamma import GammaGammaModel
from models.clv.pareto_nbd import ParetoNBDModel

__all__ = [
    "BetaGeoModel",
    "ConvergenceError",
    "GammaGammaModel",
    "InvalidSummaryError",
    "NotFittedError",
    "ParetoNBDModel",
]
