"""Customer lifetime value: BG/NBD and Pareto/NBD purchase counts (and their latent-class
mixtures), Gamma-Gamma spend, CLV."""

from models.clv.base import ConvergenceError, InvalidSummaryError, NotFittedError
from models.clv.bgnbd import BetaGeoModel
from models.clv.gamma_gamma import GammaGammaModel
from models.clv.latent_class import LatentClassBetaGeoModel, LatentClassParetoNBDModel
from models.clv.pareto_nbd import ParetoNBDModel

__all__ = [
    "BetaGeoModel",
    "ConvergenceError",
    "GammaGammaModel",
    "InvalidSummaryError",
    "LatentClassBetaGeoModel",
    "LatentClassParetoNBDModel",
    "NotFittedError",
    "ParetoNBDModel",
]
