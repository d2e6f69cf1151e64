"""The estimator contract every laborseq model follows.

A model is fitted on a :class:`~laborseq.panel.CareerPanel` and predicts, for
every *target* person-year of a panel (``panel.targets()``), the distribution of
the state in that year given the person's earlier observations and covariates.
A person's first observed year is a target too: every model predicts it from
covariates alone (see each model's Notes), so that all models are scored on the
same person-years. "Transitions only" figures drop the first years.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, overload

import numpy as np
import pandas as pd

from laborseq._util.io import atomic_directory, write_json_atomic
from laborseq._util.json import to_jsonable
from laborseq._util.random import RNGLike
from laborseq._version import __version__
from laborseq.models.stepper import PanelStepper
from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel import PERSON, YEAR, CareerPanel
from laborseq.panel.weights import WeightsLike, resolve_weights

if TYPE_CHECKING:
    from laborseq.forecast.result import ForecastResult
    from laborseq.models.stepper import Stepper


_CONFIG = "config.json"
_ARRAYS = "arrays.npz"
_SAVED_MODEL = "saved_model"
_NESTED_PREFIX = "param-"


class NotFittedError(RuntimeError):
    """Raised when a model is used before :meth:`SequenceModel.fit`."""


class SequenceModel(ABC):
    """Base class of next-state models of careers.

    Subclasses store hyper-parameters only in ``__init__`` (one attribute per
    argument, same name), learn in :meth:`fit` and set trailing-underscore
    attributes, and implement :meth:`_fit`, :meth:`_predict_proba` and
    :meth:`_get_fitted` / :meth:`_set_fitted` for persistence.
    """

    classes_: tuple[str, ...]

    family: ClassVar[str] = "econometric"
    """Kind of model: ``"econometric"`` (the baselines; reports measure other
    models against the best of them), ``"neural"`` or ``"oracle"``."""

    @property
    def n_parameters(self) -> int:
        """Number of fitted floating-point values the model stores (its saved arrays).

        For count models these are the (smoothed) count tables, for logits the
        coefficients; free parameters are fewer, as every distribution sums to one.
        """
        self._check_fitted()
        _, arrays = self._get_fitted()
        return int(sum(a.size for a in arrays.values() if np.issubdtype(np.asarray(a).dtype, np.floating)))

    # ------------------------------------------------------------------ parameters
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        """Hyper-parameters as a dict (the arguments of ``__init__``)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Self:
        """Set hyper-parameters; unknown names raise ``ValueError``."""
        valid = set(self._param_names())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; it has {sorted(valid)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        panel: CareerPanel,
        *,
        valid: CareerPanel | None = None,
        weights: WeightsLike = None,
        rng: RNGLike = None,
    ) -> Self:
        """Fit the model to the target person-years of ``panel``.

        Parameters
        ----------
        panel : CareerPanel
            Training panel.
        valid : CareerPanel, optional
            Validation panel (used by models that tune or stop early).
        weights : str, array or Series, optional
            Row weights: ``"weight"`` for the panel's survey weights, an array
            with one weight per row of ``panel``, or a Series of person weights
            indexed by person key. A weight of 2 counts like a duplicated person.
        rng : int or numpy.random.Generator, optional
            Seed for models that draw random numbers.

        Returns
        -------
        self
        """
        if not isinstance(panel, CareerPanel):
            raise TypeError(f"fit expects a CareerPanel, got {type(panel).__name__}")
        if panel.n_targets == 0:
            raise ValueError(f"{type(self).__name__}.fit: the panel has no target person-years")
        self._check_params()
        row_weights = resolve_weights(panel, weights)
        self._forget_fit()
        self._fit(panel, valid=valid, weights=row_weights, rng=rng)
        self.classes_ = tuple(panel.states)
        self.scheme_ = panel.scheme
        self.n_features_in_ = len(panel.covariates)
        return self

    def _forget_fit(self) -> None:
        """Drop every fitted (trailing-underscore) attribute, so that nothing of an earlier fit survives."""
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("__")]:
            delattr(self, name)

    def _check_params(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Validate hyper-parameters (override to check)."""

    @abstractmethod
    def _fit(self, panel: CareerPanel, *, valid: CareerPanel | None, weights: np.ndarray | None, rng: RNGLike) -> None:
        """Learn from ``panel`` (weights already resolved to one per row)."""

    def fit_choices(self) -> dict[str, Any] | None:
        """What the fit chose on validation persons, for reports and ``results.json``.

        A configuration, ensemble members, mixture weights; ``None`` for models that choose nothing.
        """
        return None

    # ------------------------------------------------------------------ prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "classes_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit(panel) first")

    def _check_panel(self, panel: CareerPanel) -> None:
        self._check_fitted()
        if tuple(panel.states) != tuple(self.classes_):
            raise ValueError(
                f"{type(self).__name__}: the panel's states (scheme {panel.scheme.name!r}, "
                f"{len(panel.states)} states) differ from the states the model was fitted on "
                f"({len(self.classes_)} states); harmonize both panels to one scheme"
            )

    @overload
    def predict_proba(self, panel: CareerPanel, *, as_frame: Literal[False] = ...) -> np.ndarray: ...

    @overload
    def predict_proba(self, panel: CareerPanel, *, as_frame: Literal[True]) -> pd.DataFrame: ...

    def predict_proba(self, panel: CareerPanel, *, as_frame: bool = False) -> np.ndarray | pd.DataFrame:
        """Next-state distribution of every target person-year.

        Parameters
        ----------
        panel : CareerPanel
            Panel over the states the model was fitted on.
        as_frame : bool
            ``False`` (default, as scikit-learn does): a bare array, cheapest for
            scoring. ``True``: a DataFrame indexed by ``(person_id, year)`` with
            one column per state of ``classes_``, for reading and joining.

        Returns
        -------
        numpy.ndarray or pandas.DataFrame
            Shape ``(panel.n_targets, len(classes_))``; row ``r`` is the
            distribution of the state in the ``r``-th row of ``panel.targets()``
            given that person's earlier rows; columns follow ``classes_``.
        """
        self._check_panel(panel)
        proba = self._predict_proba(panel)
        if not as_frame:
            return proba
        targets = panel.targets()
        index = pd.MultiIndex.from_arrays([targets[PERSON].to_numpy(), targets[YEAR].to_numpy()], names=[PERSON, YEAR])
        return pd.DataFrame(proba, index=index, columns=pd.Index(list(self.classes_), name="state"))

    @abstractmethod
    def _predict_proba(self, panel: CareerPanel) -> np.ndarray:
        """Predict for a validated panel."""

    def log_likelihood(self, panel: CareerPanel) -> np.ndarray:
        """Log-probability (natural log) of each target's observed state, aligned with ``panel.targets()``."""
        proba = self.predict_proba(panel)
        observed = panel.state_index()[panel.target_mask]
        with np.errstate(divide="ignore"):
            return np.log(proba[np.arange(len(observed)), observed])

    def score(self, panel: CareerPanel, weights: WeightsLike = None) -> float:
        """Mean log-likelihood per target person-year (greater is better).

        Parameters
        ----------
        panel : CareerPanel
            Panel to score.
        weights : str, array or Series, optional
            As in :meth:`fit`; the weighted mean uses the weights of the targets.
        """
        ll = self.log_likelihood(panel)
        w = resolve_weights(panel, weights)
        if w is None:
            return float(np.mean(ll))
        w = w[panel.target_mask]
        return float(np.sum(w * ll) / np.sum(w))

    def perplexity(self, panel: CareerPanel, weights: WeightsLike = None) -> float:
        """Perplexity ``exp(-score)``: the effective number of equally likely next states."""
        return float(np.exp(-self.score(panel, weights)))

    # ------------------------------------------------------------------ forecasting
    def forecast(
        self,
        panel: CareerPanel,
        *,
        origin: int,
        horizon: int | None = None,
        until: int | None = None,
        years: Sequence[int] | None = None,
        n_samples: int = 1000,
        covariates: str | Callable[[pd.DataFrame], pd.DataFrame] = "hold",
        method: str = "simulate",
        rng: RNGLike = None,
        batch_size: int | None = None,
    ) -> ForecastResult:
        """Simulate careers past ``origin``; see :func:`laborseq.forecast.simulate.forecast` for the parameters."""
        # The one upward import of the models layer, documented in pyproject's import-linter contract:
        # a convenience method, as linearmodels' results call their plotting code.
        from laborseq.forecast.simulate import forecast  # noqa: PLC0415

        return forecast(
            self,
            panel,
            origin=origin,
            horizon=horizon,
            until=until,
            years=years,
            n_samples=n_samples,
            covariates=covariates,
            method=method,
            rng=rng,
            batch_size=batch_size,
        )

    def _stepper(self, history: CareerPanel, n_samples: int) -> Stepper:
        """Forecast stepper over ``n_samples`` paths per person of ``history`` (generic: reruns predict_proba).

        Models with a cheaper incremental form override this.
        """
        return PanelStepper(self, history, n_samples)

    def _forecast_max_paths(self) -> int | None:
        """Most paths a forecast simulates at once (``None``: the engine's default); models with large state cap it."""
        return None

    # ------------------------------------------------------------------ persistence
    @abstractmethod
    def _get_fitted(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Fitted state as (JSON-serializable dict, dict of numeric arrays)."""

    @abstractmethod
    def _set_fitted(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restore the fitted state written by :meth:`_get_fitted`."""

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the fitted model to a directory (``config.json`` + ``arrays.npz``), atomically.

        Nothing is pickled: arrays are stored with ``allow_pickle=False`` and the
        configuration as JSON, so loading executes no code from the file.
        """
        self._check_fitted()
        state, arrays = self._get_fitted()
        params = self.get_params()
        nested = {name: value for name, value in params.items() if isinstance(value, SequenceModel)}
        for name in nested:  # a fitted model given as a parameter is saved beside this one
            params[name] = {_SAVED_MODEL: f"{_NESTED_PREFIX}{name}"}
        config = {
            "laborseq_version": __version__,
            "model": f"{type(self).__module__}.{type(self).__qualname__}",
            "params": to_jsonable(params),
            "classes": list(self.classes_),
            "scheme": self.scheme_.to_dict(),
            "n_features_in": self.n_features_in_,
            "fitted": to_jsonable(state),
        }
        with atomic_directory(path) as tmp:
            write_json_atomic(tmp / _CONFIG, config)
            np.savez(tmp / _ARRAYS, **arrays)
            for name, value in nested.items():
                value.save(tmp / f"{_NESTED_PREFIX}{name}")
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SequenceModel:
        """Load a model saved with :meth:`save` (see :func:`load_model`)."""
        model = load_model(path)
        if not isinstance(model, cls):
            raise TypeError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}")
        return model


def load_model(path: str | os.PathLike[str]) -> SequenceModel:
    """Load any laborseq model saved with :meth:`SequenceModel.save`.

    Only classes defined inside the ``laborseq.models`` package are accepted, so
    a crafted ``config.json`` cannot make this import arbitrary code.
    """
    path = Path(path)
    config_file = path / _CONFIG
    if not config_file.exists():
        raise FileNotFoundError(f"{path}: not a saved laborseq model (no {_CONFIG})")
    config = json.loads(config_file.read_text())
    model_cls = model_class(config["model"], str(config_file))
    with np.load(path / _ARRAYS, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    params = {k: _load_param(path, v) for k, v in config["params"].items()}
    model = model_cls(**params)
    model._set_fitted(config["fitted"], arrays)
    model.classes_ = tuple(config["classes"])
    model.scheme_ = OccupationScheme.from_dict(config["scheme"])
    model.n_features_in_ = config["n_features_in"]
    return model


def model_class(name: str, source: str) -> type[SequenceModel]:
    """The model class saved as ``name`` (``module.Class``); only classes of ``laborseq.models`` are accepted,
    so that a crafted file cannot make laborseq import arbitrary code. ``source`` names the file in errors."""
    module_name, _, class_name = name.rpartition(".")
    if not module_name.startswith("laborseq.models."):
        raise ValueError(f"{source}: refusing to load model class {name!r} from outside laborseq.models")
    model_cls = getattr(importlib.import_module(module_name), class_name, None)
    if not (isinstance(model_cls, type) and issubclass(model_cls, SequenceModel)):
        raise ValueError(f"{source}: {name!r} is not a laborseq model")
    return model_cls


def _load_param(path: Path, value: Any) -> Any:
    """A saved hyper-parameter: lists back to tuples, a nested saved model loaded from beside ``path``."""
    if isinstance(value, dict) and set(value) == {_SAVED_MODEL}:
        return load_model(path / value[_SAVED_MODEL])
    return json_tuples(value)


def json_tuples(value: Any) -> Any:
    """A parameter read back from JSON: every list, also inside dicts and lists, back to the tuple it was."""
    if isinstance(value, list):
        return tuple(json_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: json_tuples(v) for k, v in value.items()}
    return value


def clone(model: SequenceModel) -> SequenceModel:
    """A new, unfitted model of the same class with the same hyper-parameters.

    As scikit-learn's ``clone``: every evaluation fits a clone, so the caller's
    model is never fitted behind its back. Parameters are copied deeply, except
    fitted models given as parameters (CAREER's ``pretrained``), which are
    shared: they are read, never changed.

    Examples
    --------
    >>> from laborseq.models import Markov, clone
    >>> model = Markov(order=2)
    >>> fresh = clone(model)
    >>> fresh.get_params() == model.get_params() and fresh is not model
    True
    """
    if not isinstance(model, SequenceModel):
        raise TypeError(f"clone expects a laborseq model, got {type(model).__name__}")
    params = {
        name: value if isinstance(value, SequenceModel) else copy.deepcopy(value)
        for name, value in model.get_params().items()
    }
    return type(model)(**params)


def params_record(params: dict[str, Any]) -> dict[str, Any]:
    """Hyper-parameters as recorded in results: a fitted model given as a parameter is named, not embedded."""
    return {
        name: f"<fitted {type(value).__name__}>" if isinstance(value, SequenceModel) else value
        for name, value in params.items()
    }
