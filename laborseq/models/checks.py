"""The estimator contract as a function: ``check_model(model, panel)``, as scikit-learn ships ``check_estimator``.

Every laborseq model passes these checks in the test suite; a user's own model
(a :class:`~laborseq.models.base.SequenceModel` subclass) can run them too.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from laborseq._util.random import RNGLike
from laborseq.models.base import NotFittedError, SequenceModel, clone, load_model
from laborseq.panel import CareerPanel

__all__ = ["ContractError", "check_model"]

_ATOL = 1e-9


class ContractError(AssertionError):
    """A model breaks the estimator contract; the message names the rule."""


def check_model(model: SequenceModel, panel: CareerPanel, *, rng: RNGLike = 0, save: bool = True) -> None:
    """Check that ``model`` follows laborseq's estimator contract on ``panel``.

    The model itself is never fitted: every check fits a :func:`~laborseq.models.clone`.

    Parameters
    ----------
    model : SequenceModel
        An unfitted model (its hyper-parameters are what is checked).
    panel : CareerPanel
        A small panel with at least four persons; its persons are split in two
        halves, one to fit and one to predict.
    rng : int or numpy.random.Generator
        Seed of the fits (two fits with the same seed must agree).
    save : bool
        Also check that :meth:`~SequenceModel.save` / :func:`~laborseq.models.load_model`
        reproduce the predictions.

    Raises
    ------
    ContractError
        Naming the first rule the model breaks.

    Notes
    -----
    The rules: ``__init__`` stores each argument under its own name and
    ``get_params`` / ``set_params`` round-trip them; :func:`clone` gives an
    unfitted copy with equal parameters; an unfitted model refuses to predict;
    ``fit`` returns the model, leaves its parameters as they were, sets only
    trailing-underscore attributes (``classes_`` among them), keeps no
    reference to the panel, and forgets earlier fits (fitting twice equals
    fitting a fresh clone once); ``predict_proba`` returns one distribution per
    target over ``classes_``; ``log_likelihood``, ``score`` and ``perplexity``
    agree with it; a saved and loaded model predicts the same.

    Examples
    --------
    >>> from laborseq.datasets import load_nlswork
    >>> from laborseq.models import Markov, check_model
    >>> check_model(Markov(order=2), load_nlswork().sample_persons(200, rng=0))
    """
    if not isinstance(model, SequenceModel):
        raise ContractError(f"a laborseq model derives from SequenceModel; got {type(model).__name__}")
    name = type(model).__name__
    persons = panel.data["person_id"].unique()
    if len(persons) < 4:
        raise ValueError(f"check_model needs a panel with at least 4 persons, got {len(persons)}")
    first, second = panel.select_persons(persons[::2]), panel.select_persons(persons[1::2])

    _check_params(model, name)
    fresh = clone(model)
    _require(not hasattr(fresh, "classes_"), f"{name}: clone(model) must be unfitted")
    try:
        fresh.predict_proba(second)
    except NotFittedError:
        pass
    else:
        raise ContractError(f"{name}: an unfitted model must raise NotFittedError in predict_proba")

    before = dict(vars(fresh))
    params = {k: v if isinstance(v, SequenceModel) else copy.deepcopy(v) for k, v in fresh.get_params().items()}
    fitted = fresh.fit(first, rng=rng)
    _require(fitted is fresh, f"{name}: fit must return the model itself")
    _require(_same(fitted.get_params(), params), f"{name}: fit must not change the hyper-parameters")
    added = [a for a in vars(fitted) if a not in before]
    bad = [a for a in added if not a.endswith("_")]
    _require(not bad, f"{name}: fit may set only trailing-underscore attributes; it set {bad}")
    _require(tuple(fitted.classes_) == tuple(first.states), f"{name}: classes_ must be the panel's states")
    holder = _find_panel(fitted)
    _require(holder is None, f"{name}: the fitted model keeps a reference to its training panel ({holder})")

    proba = fitted.predict_proba(second)
    _check_probabilities(name, proba, second)
    _check_scores(name, fitted, proba, second)

    refitted = clone(model).fit(second, rng=rng).fit(first, rng=rng)
    _require(
        np.allclose(refitted.predict_proba(second), proba, atol=1e-6),
        f"{name}: fit must forget earlier fits (fitting on other data first changed the predictions)",
    )
    if save:
        with tempfile.TemporaryDirectory() as tmp:
            loaded = load_model(fitted.save(Path(tmp) / "model"))
            _require(type(loaded) is type(fitted), f"{name}: load_model returned a {type(loaded).__name__}")
            _require(_same(loaded.get_params(), fitted.get_params(), loose=True), f"{name}: save loses parameters")
            _require(
                np.allclose(loaded.predict_proba(second), proba, atol=_ATOL),
                f"{name}: a saved and loaded model must predict as the saved one",
            )


def _check_params(model: SequenceModel, name: str) -> None:
    params = model.get_params()
    for key, value in params.items():
        _require(hasattr(model, key), f"{name}: __init__ must store argument {key!r} as an attribute of that name")
        _require(getattr(model, key) is value, f"{name}: get_params()[{key!r}] is not the stored attribute")
    copy = clone(model)
    _require(type(copy) is type(model) and copy is not model, f"{name}: clone must return a new {name}")
    _require(_same(copy.get_params(), params), f"{name}: clone(model) must have the same parameters")
    copy.set_params(**params)
    _require(_same(copy.get_params(), params), f"{name}: set_params(**get_params()) must round-trip")


def _check_probabilities(name: str, proba: np.ndarray, panel: CareerPanel) -> None:
    shape = (panel.n_targets, len(panel.states))
    _require(np.shape(proba) == shape, f"{name}: predict_proba must have shape {shape}, got {np.shape(proba)}")
    _require(bool(np.all(proba >= 0)), f"{name}: predict_proba returned negative probabilities")
    _require(np.allclose(proba.sum(axis=1), 1.0, atol=1e-8), f"{name}: predict_proba rows must sum to one")


def _check_scores(name: str, model: SequenceModel, proba: np.ndarray, panel: CareerPanel) -> None:
    observed = panel.state_index()[panel.target_mask]
    with np.errstate(divide="ignore"):
        expected = np.log(proba[np.arange(len(observed)), observed])
    ll = model.log_likelihood(panel)
    _require(np.allclose(ll, expected, atol=_ATOL), f"{name}: log_likelihood must be log predict_proba at the target")
    _require(np.isclose(model.score(panel), ll.mean()), f"{name}: score must be the mean log-likelihood")
    _require(np.isclose(model.perplexity(panel), np.exp(-ll.mean())), f"{name}: perplexity must be exp(-score)")


def _find_panel(model: SequenceModel, depth: int = 3) -> str | None:
    """Where a fitted model holds a CareerPanel (attribute path), searching its attributes ``depth`` levels deep."""
    seen: set[int] = set()

    def search(obj: Any, path: str, level: int) -> str | None:
        if isinstance(obj, CareerPanel):
            return path
        if level == 0 or id(obj) in seen or isinstance(obj, str | bytes | np.ndarray):
            return None
        seen.add(id(obj))
        if isinstance(obj, dict):
            items = [(f"{path}[{k!r}]", v) for k, v in obj.items()]
        elif isinstance(obj, list | tuple):
            items = [(f"{path}[{i}]", v) for i, v in enumerate(obj)]
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            items = [(f"{path}.{k}", v) for k, v in vars(obj).items()]
        else:
            return None
        for where, value in items:
            found = search(value, where, level - 1)
            if found:
                return found
        return None

    return search(model, "model", depth)


def _same(a: dict[str, Any], b: dict[str, Any], *, loose: bool = False) -> bool:
    """Parameters equal (tuples and lists alike when ``loose``; fitted models by identity or by class)."""
    if a.keys() != b.keys():
        return False
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, SequenceModel) or isinstance(y, SequenceModel):
            same = x is y or (loose and type(x) is type(y))
        elif loose and isinstance(x, list | tuple) and isinstance(y, list | tuple):
            same = list(x) == list(y)
        elif isinstance(x, dict) or isinstance(y, dict):
            same = x == y
        else:
            same = x is y or bool(np.all(x == y))
        if not same:
            return False
    return True


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ContractError(message)
