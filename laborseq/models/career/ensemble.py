"""The ``auto`` CAREER recipe: an ensemble of CAREER fits mixed with econometric models, chosen on validation persons.

Surveys are small, and one CAREER fit on a few thousand persons is noisy: its
held-out perplexity moves with the random initialisation and batch order. The
recipe averages that noise away and hedges with the regression it barely
beats, making every choice on the validation persons only:

1. **Search** (optional): each candidate configuration is fitted once (first
   seed); the one with the lowest validation perplexity is kept.
2. **Deep ensemble**: further seeds of the kept configuration, each stopped
   early on the validation persons; their predicted distributions are averaged.
3. **Mixture**: econometric models (registry names, default
   ``mnlogit_two_stage``) are fitted on the same training persons, and the
   weights of the CAREER ensemble and of each of them are fitted by EM to the
   validation persons' log-likelihood
   (:func:`~laborseq.models.mixture.fit_mixture_weights`).

The result is a per-step mixture (:mod:`laborseq.models.mixture`): one model
with one ``predict_proba``, forecasts by simulation through the components'
steppers, one saved directory.

Examples
--------
>>> from laborseq.datasets import load_nlswork
>>> from laborseq.models import CareerEnsemble
>>> train, valid, test = load_nlswork().split_persons(rng=0)
>>> model = CareerEnsemble(members=3).fit(train, valid=valid, rng=0)  # doctest: +SKIP
>>> model.fit_choices()["mixture_weights"]  # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from laborseq._util.random import RNGLike, seed_int
from laborseq.models.bag_of_jobs import HOLDOUT_FRACTION, holdout_panels
from laborseq.models.base import SequenceModel, load_model
from laborseq.models.career.model import CAREER, NETWORK_SHAPE
from laborseq.models.career.presets import PRESETS
from laborseq.models.logit_newton import NEWTON_OUTCOMES
from laborseq.models.mixture import MixtureStepper, fit_mixture_weights, pack_models, unpack_models
from laborseq.models.registry import MODEL_NAMES, make_model
from laborseq.occupations.scheme import OccupationScheme
from laborseq.panel import PERSON, CareerPanel
from laborseq.panel.weights import WeightsLike, resolve_weights

__all__ = ["CareerEnsemble"]


class CareerEnsemble(SequenceModel):
    """A deep ensemble of CAREER fits, mixed with econometric models, every choice made on validation persons.

    Parameters
    ----------
    preset : str, default "small"
        The CAREER configuration of every member (:data:`~laborseq.models.career.PRESETS`).
    career_params : dict, optional
        Further CAREER parameters for every member (``max_steps``, ``device``, ``progress``, ...).
    search : tuple of dict, default ()
        Candidate overrides of the configuration (e.g. ``({}, {"dropout": 0.2})``); each is fitted
        once and the one with the lowest validation perplexity makes the ensemble. Empty: no search.
    members : int, default 4
        CAREER fits of the kept configuration (seeds ``seed, seed + 1, ...``) averaged with equal weights.
    mix : tuple of str or "auto", default "auto"
        Registry names of the econometric models mixed with the ensemble (empty: the ensemble alone).
        ``"auto"``: the two-stage regression on panels of at most 64 states, bag-of-jobs on larger ones
        (:func:`auto_mix`: the regression's cost grows with the states; the choice is in :meth:`fit_choices`).
    budget_seconds : float, optional
        Stop adding members once another one would likely end past this many seconds of fitting
        (the first member is always fitted).
    pretrained : CAREER or str, optional
        Weights every member fine-tunes from (as ``CAREER(pretrained=...)``); the search may then vary
        anything but the network's shape.

    Attributes
    ----------
    members_ : list of CAREER
        The fitted members; ``members_[0]`` is the search's winner (first seed).
    mixed_ : list of SequenceModel
        The fitted models of ``mix`` (of ``auto_mix``'s choice for ``"auto"``).
    weights_ : numpy.ndarray
        Mixture weights: the ensemble's, then one per model of ``mix``.
    choices_ : dict
        What the fit chose on the validation persons (:meth:`fit_choices`).

    Notes
    -----
    The validation persons are ``valid`` when given, else 10% of the training
    persons, held out as CAREER does. They stop every member early, pick the
    configuration and fit the mixture weights; test persons play no part. In a
    weighted fit the mixture weights are fitted to the weighted validation
    log-likelihood (held-out persons keep their weights; a given ``valid`` uses its
    survey-weight column when it has one). Each member's checkpoints and training log
    (``career_params`` ``checkpoint_dir``, ``log_dir``) go to its own subdirectory,
    ``candidate-<j>`` or ``member-<i>``.
    :meth:`representations` and rationales (:func:`~laborseq.studies.rationale_study.rationale_study`)
    use :attr:`network`, ``members_[0]``: hidden states of separately trained networks do not average.
    """

    family = "neural"

    def __init__(
        self,
        preset: str = "small",
        career_params: dict[str, Any] | None = None,
        search: tuple[dict[str, Any], ...] = (),
        members: int = 4,
        mix: tuple[str, ...] | str = "auto",
        budget_seconds: float | None = None,
        pretrained: CAREER | str | None = None,
    ) -> None:
        self.preset = preset
        self.career_params = career_params
        self.search = search
        self.members = members
        self.mix = mix
        self.budget_seconds = budget_seconds
        self.pretrained = pretrained

    def _check_params(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"unknown CAREER preset {self.preset!r}; choose from {', '.join(PRESETS)}")
        if isinstance(self.members, bool) or not isinstance(self.members, int) or self.members < 1:
            raise ValueError(f"members must be a positive integer, got {self.members!r}")
        if self.mix != AUTO_MIX:
            check_mix(self.mix)
        for candidate in self.search or ({},):
            self._member(dict(candidate))._check_params()

    def _member(self, overrides: dict[str, Any], pretrained: CAREER | None = None, run: str | None = None) -> CAREER:
        """An unfitted member: the preset, ``career_params``, the overrides and the shape of ``pretrained``; its
        checkpoints and training log go to a ``run`` subdirectory of the ensemble's, so that fits never share one."""
        params = {**(self.career_params or {}), **overrides}
        if pretrained is not None:
            shape = {k: pretrained.get_params()[k] for k in NETWORK_SHAPE}
            clash = {k: v for k, v in params.items() if k in shape and v != shape[k]}
            if clash:
                raise ValueError(
                    f"CareerEnsemble: {clash} in career_params or search, but the pretrained network has shape "
                    f"{shape}; leave the shape out (it is the pretrained network's) or pretrain a network of that shape"
                )
            params |= shape | {"pretrained": pretrained}
        for directory in ("checkpoint_dir", "log_dir"):
            if run is not None and params.get(directory) is not None:
                params[directory] = os.path.join(params[directory], run)
        return CAREER.preset(self.preset, **params)

    def network_model(self) -> CAREER:
        """An unfitted CAREER as the first member would be (no search), for studies of one network."""
        return self._member({}, self._pretrained_model())

    def _pretrained_model(self) -> CAREER | None:
        """``pretrained`` as a fitted CAREER: loaded when it names a directory, the network of an ensemble."""
        base = self.pretrained
        if isinstance(base, str | os.PathLike):
            base = load_model(base)
        if isinstance(base, CareerEnsemble):
            base = base.network
        if base is not None and not isinstance(base, CAREER):
            raise TypeError(f"pretrained={self.pretrained!r} holds a {type(base).__name__}, not a CAREER model")
        return base

    # ------------------------------------------------------------------ fitting
    def _fit(self, panel: CareerPanel, *, valid: CareerPanel | None, weights: np.ndarray | None, rng: RNGLike) -> None:
        seed = seed_int(rng, high=2**31 - 1 - self.members, none=0)
        started = time.perf_counter()
        train, train_weights, valid, valid_weights, source = _validation_split(panel, valid, weights, seed)
        if not valid.n_targets:
            raise ValueError("CareerEnsemble: the validation panel has no target person-years to choose on")
        pretrained = self._pretrained_model()
        observed = valid.state_index()[valid.target_mask]

        def fit_member(overrides: dict[str, Any], member_seed: int, run: str) -> tuple[CAREER, np.ndarray, float]:
            began = time.perf_counter()
            member = self._member(overrides, pretrained, run)
            model = member.fit(train, valid=valid, weights=train_weights, rng=member_seed)
            return model, model.predict_proba(valid), time.perf_counter() - began

        searched = [(dict(c), *fit_member(dict(c), seed, f"candidate-{j}")) for j, c in enumerate(self.search or ({},))]
        scores = [_perplexity(proba, observed) for _, _, proba, _ in searched]
        chosen, first, first_proba, _ = searched[int(np.argmin(scores))]
        members, member_proba = [first], [first_proba]
        member_seconds = [s[3] for s in searched]
        for i in range(1, self.members):
            elapsed = time.perf_counter() - started
            if self.budget_seconds is not None and elapsed + np.mean(member_seconds) > self.budget_seconds:
                break
            model, proba, seconds = fit_member(chosen, seed + i, f"member-{i}")
            members.append(model)
            member_proba.append(proba)
            member_seconds.append(seconds)
        names = auto_mix(len(panel.states)) if self.mix == AUTO_MIX else self.mix
        mixed = [make_model(name).fit(train, valid=valid, weights=train_weights, rng=seed) for name in names]
        self._combine(members, dict(zip(names, mixed, strict=True)), valid, valid_weights, member_proba)
        self.choices_ = {
            "validation": source,
            "validation_persons": int(valid.data[PERSON].nunique()),
            "search": [
                {"overrides": c, "valid_perplexity": score, "seconds": s}
                for (c, _, _, s), score in zip(searched, scores, strict=True)
            ],
            "chosen": chosen,
            "member_seeds": [seed + i for i in range(len(members))],
            **self.choices_,
            "fit_seconds": time.perf_counter() - started,
        }

    @classmethod
    def from_fitted(
        cls,
        members: Sequence[CAREER],
        mixed: Mapping[str, SequenceModel] | None = None,
        *,
        valid: CareerPanel,
        weights: WeightsLike = None,
    ) -> CareerEnsemble:
        """An ensemble of CAREER models fitted already, mixed with fitted ``mixed`` models on ``valid``.

        Parameters
        ----------
        members : sequence of CAREER
            Fitted members, averaged with equal weights.
        mixed : mapping of str to SequenceModel, optional
            Fitted models to mix with the members, by registry name (so that a clone refits them).
        valid : CareerPanel
            The persons the mixture weights are fitted on (persons none of the models was trained on).
        weights : str, array or Series, optional
            Weights of ``valid``'s rows (as in :meth:`SequenceModel.fit`).

        Returns
        -------
        CareerEnsemble
            Fitted; its parameters are the members' (so that a clone refits the same recipe).
        """
        if not members or not all(isinstance(m, CAREER) for m in members):
            raise TypeError("from_fitted needs at least one fitted CAREER member")
        pretrained = members[0].pretrained  # the members' shape is then the pretrained network's
        dropped = {"pretrained", *(NETWORK_SHAPE if pretrained is not None else ())}
        params = [{k: v for k, v in m.get_params().items() if k not in dropped} for m in members]
        if any(p != params[0] for p in params):
            raise ValueError("from_fitted: the members must share their parameters (an ensemble differs by seeds)")
        mixed = dict(mixed or {})
        check_mix(tuple(mixed))
        model = cls(career_params=params[0], members=len(members), mix=tuple(mixed), pretrained=pretrained)
        for fitted in [*members, *mixed.values()]:
            fitted._check_panel(valid)
        model._combine(list(members), mixed, valid, resolve_weights(valid, weights))
        model.classes_ = members[0].classes_
        model.scheme_ = members[0].scheme_
        model.n_features_in_ = members[0].n_features_in_
        return model

    def _combine(
        self,
        members: list[CAREER],
        mixed: dict[str, SequenceModel],
        valid: CareerPanel,
        valid_weights: np.ndarray | None,
        member_proba: list[np.ndarray] | None = None,
    ) -> None:
        """Set the fitted components and the mixture weights that maximise the validation log-likelihood
        (``member_proba``: the members' predictions of ``valid`` when they are at hand)."""
        observed = valid.state_index()[valid.target_mask]
        if member_proba is None:
            member_proba = [m.predict_proba(valid) for m in members]
        ensemble = np.mean(member_proba, axis=0)
        components = [ensemble, *(m.predict_proba(valid) for m in mixed.values())]
        rows = np.arange(len(observed))
        target_weights = None if valid_weights is None else valid_weights[valid.target_mask]
        mixture = fit_mixture_weights(np.column_stack([p[rows, observed] for p in components]), target_weights)
        self.members_ = members
        self.mixed_ = list(mixed.values())
        self.weights_ = mixture
        self.choices_ = {
            "members": len(members),
            "member_valid_perplexity": [_perplexity(p, observed) for p in member_proba],
            "ensemble_valid_perplexity": _perplexity(ensemble, observed),
            "mix": list(mixed),
            "mix_valid_perplexity": [_perplexity(p, observed) for p in components[1:]],
            "mixture_weights": dict(zip(["career", *mixed], mixture.round(6).tolist(), strict=True)),
            "mixture_valid_perplexity": _perplexity(np.tensordot(mixture, np.stack(components), axes=1), observed),
        }

    def fit_choices(self) -> dict[str, Any]:
        """What the fit chose on the validation persons: the search, the members, the mixture weights."""
        self._check_fitted()
        return self.choices_

    # ------------------------------------------------------------------ prediction
    def _components(self) -> list[tuple[float, SequenceModel]]:
        """``(weight, model)`` of every member and mixed model with a positive weight."""
        share = self.weights_[0] / len(self.members_)
        weighted = [(share, m) for m in self.members_]
        weighted += list(zip(self.weights_[1:].tolist(), self.mixed_, strict=True))
        return [(w, m) for w, m in weighted if w > 0]

    def _predict_proba(self, panel: CareerPanel) -> np.ndarray:
        out = np.zeros((panel.n_targets, len(self.classes_)))
        for weight, model in self._components():
            out += weight * model.predict_proba(panel)
        return out / out.sum(axis=1, keepdims=True)

    @property
    def network(self) -> CAREER:
        """``members_[0]``, the search's winner: the network that stands for the ensemble.

        Representations and rationales need one network; they use this one.
        """
        self._check_fitted()
        return self.members_[0]

    def representations(self, panel: CareerPanel) -> pd.DataFrame:
        """The hidden states of :attr:`network` (see :meth:`CAREER.representations`)."""
        self._check_panel(panel)
        return self.network.representations(panel)

    def _stepper(self, history: CareerPanel, n_samples: int) -> MixtureStepper:
        self._check_panel(history)
        weighted = self._components()
        steppers = [m._stepper(history, n_samples) for _, m in weighted]
        return MixtureStepper(steppers, np.array([w for w, _ in weighted]))

    def _forecast_max_paths(self) -> int | None:
        """Paths per chunk: each component's cap bounds its own memory, so together they share it."""
        caps = [cap for _, m in self._components() if (cap := m._forecast_max_paths()) is not None]
        return max(1, int(1 / sum(1 / cap for cap in caps))) if caps else None

    # ------------------------------------------------------------------ persistence
    @property
    def n_parameters(self) -> int:
        """Trained network parameters of the members plus the fitted values of the mixed models."""
        self._check_fitted()
        return sum(m.n_parameters for m in [*self.members_, *self.mixed_])

    def _get_fitted(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        records, arrays = pack_models([*self.members_, *self.mixed_])
        state = {
            "components": records,
            "n_members": len(self.members_),
            "choices": self.choices_,
            "classes": list(self.classes_),
            "scheme": self.scheme_.to_dict(),
        }
        return state, {**arrays, "mixture_weights": self.weights_}

    def _set_fitted(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        scheme = OccupationScheme.from_dict(state["scheme"])
        models = unpack_models(state["components"], arrays, state["classes"], scheme)
        n = state["n_members"]
        self.members_, self.mixed_ = models[:n], models[n:]
        self.weights_ = arrays["mixture_weights"]
        self.choices_ = state["choices"]


AUTO_MIX = "auto"
"""``mix="auto"``: the econometric partner is chosen by its cost (:func:`auto_mix`), its weight on validation."""


def auto_mix(n_states: int) -> tuple[str, ...]:
    """The models ``mix="auto"`` mixes in: the two-stage regression where Newton solves it in seconds (at most
    :data:`~laborseq.models.logit_newton.NEWTON_OUTCOMES` states), bag-of-jobs beyond.

    On 7,000 synthetic training persons over 331 states the regression's L-BFGS took about 1,600 s against
    bag-of-jobs' 60 s, and bag-of-jobs mixed in better on the validation persons
    (``analyses/career_recipe.py --synthetic 10000``); on nlswork (13 states) the regression takes 2 s and
    mixes in best.
    """
    return ("mnlogit_two_stage",) if n_states <= NEWTON_OUTCOMES else ("bag_of_jobs",)


def check_mix(mix: tuple[str, ...]) -> None:
    """``mix`` must name distinct econometric models of the registry."""
    if isinstance(mix, str) or len(set(mix)) != len(mix):
        raise ValueError(f"mix must be a tuple of distinct model names, got {mix!r}")
    econometric = [name for name in MODEL_NAMES if make_model(name).family == "econometric"]
    for name in mix:
        if name not in econometric:
            raise ValueError(f"mix: {name!r} is not an econometric model of the registry; choose from {econometric}")


def _perplexity(proba: np.ndarray, observed: np.ndarray) -> float:
    """Perplexity of the observed states under row-wise distributions."""
    with np.errstate(divide="ignore"):
        return float(np.exp(-np.mean(np.log(proba[np.arange(len(observed)), observed]))))


def _validation_split(
    panel: CareerPanel, valid: CareerPanel | None, weights: np.ndarray | None, seed: int
) -> tuple[CareerPanel, np.ndarray | None, CareerPanel, np.ndarray | None, str]:
    """Training panel and row weights, validation panel and row weights, and where the validation persons come from.

    Held-out persons keep their training weights; a given validation panel is weighted by its survey weights
    when the fit is weighted and it has them."""
    if valid is not None:
        valid_weights = valid.weights if weights is not None and valid.has_weight else None
        return panel, weights, valid, valid_weights, "given"
    split = holdout_panels(panel, weights, seed)
    if split is None:
        raise ValueError(
            f"CareerEnsemble: {panel.data[PERSON].nunique()} persons are too few to hold {HOLDOUT_FRACTION:.0%} out "
            "for validation; pass valid=, or fit one network (CAREER; --career-preset small)"
        )
    return *split, f"{HOLDOUT_FRACTION:.0%} of the training persons"
