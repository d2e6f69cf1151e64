"""Sequence models of careers behind one estimator contract."""

from laborseq.models.bag_of_jobs import BagOfJobs
from laborseq.models.base import NotFittedError, SequenceModel, load_model
from laborseq.models.career import CAREER
from laborseq.models.marginal import Marginal
from laborseq.models.markov import Markov
from laborseq.models.mnlogit import MNLogit
from laborseq.models.oracle import TrueProcessModel
from laborseq.models.registry import MODEL_NAMES, make_model
from laborseq.models.results import MNLogitResults
from laborseq.models.results import compare as compare_results
from laborseq.nn.heads import two_stage_log_probs

__all__ = [
    "CAREER",
    "MODEL_NAMES",
    "BagOfJobs",
    "MNLogit",
    "MNLogitResults",
    "Marginal",
    "Markov",
    "NotFittedError",
    "SequenceModel",
    "TrueProcessModel",
    "compare_results",
    "load_model",
    "make_model",
    "two_stage_log_probs",
]
