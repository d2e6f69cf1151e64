"""Bag-of-jobs: a low-rank log-linear model of the next state given the whole history.

The baseline of Vafa et al. (CAREER, TMLR 2024) that sits between the
first-order Markov chain and the sequence models: the next state depends on the
previous state and on the *unordered* set of the earlier states (their mean
embedding), plus covariates of the predicted year, with no nonlinearity.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from laborseq._util.random import check_random_state
from laborseq.models.bag_history import HistoryBatch
from laborseq.models.base import RNGLike, SequenceModel
from laborseq.models.features import FIRST_YEAR_FEATURES, FeatureEncoder
from laborseq.models.first_year_logit import FirstYearLogit, split_targets
from laborseq.models.loglinear import SMALL_PROBLEM, LogLinear
from laborseq.nn.heads import two_stage_log_probs
from laborseq.panel import OCC, PERSON, CareerPanel

COVARIATE_FEATURES: tuple[str, ...] = FIRST_YEAR_FEATURES
"""Covariates of the predicted year: calendar year, education, static covariates (see :mod:`.features`)."""

HOLDOUT_FRACTION = 0.1
"""Share of training persons held out for early stopping when no validation panel is given."""

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


class BagOfJobs(SequenceModel):
    """Low-rank log-linear model of the next state on the previous state and the bag of earlier states.

    Parameters
    ----------
    embed_dim : int, default 64
        Rank of the state terms: dimension of the state embeddings
        :math:`E_{cur}, E_{ctx}` (1024 in the reference).
    two_stage : bool, default True
        Stay / move parameterisation through the shared head
        (:func:`~laborseq.nn.heads.two_stage_log_probs`), as in the reference.
    alpha : float, default 1e-4
        L2 penalty per unit of mean log-likelihood on every parameter except the
        intercepts (embeddings, projections, covariate effects).
    lr : float, default 0.05
        Adam learning rate.
    max_epochs : int, default 500
        Maximum number of passes over the training transitions (one Adam step
        per pass with ``batch_size=None``).
    batch_size : int or None, default None
        ``None``: full-batch Adam, deterministic, and a person weight of 2 gives
        the same fit as a duplicated person. An integer: minibatches of that
        many transitions in a random order (faster per epoch on large panels;
        the weight equivalence then holds only in expectation).
    patience : int, default 30
        Stop after this many epochs without a lower validation loss; the
        parameters of the best epoch are kept. The learning rate is halved
        after ``patience // 4`` epochs without improvement (full-batch Adam at a
        fixed rate circles the optimum instead of settling).
    first_year_alpha : float, default 1e-3
        L2 penalty of the first-year model (as in :class:`~laborseq.models.MNLogit`).
    dtype : {"float64", "float32"}, default "float64"
        Parameter precision. ``"float32"`` is faster, but rounding differences
        grow through Adam's normalised steps: a weight of 2 and a duplicated
        person then agree only to about 1e-3 in probability (1e-10 in float64).
    device : str, default "cpu"
        Torch device.

    Notes
    -----
    For a person with observed states :math:`y_1, \\dots, y_T` and a target
    year :math:`t \\ge 2`, the logits over the :math:`K` states (followed by a
    stay logit when ``two_stage``) are

    .. math::

        z_t = b + P_{cur}^\\top E_{cur}[y_{t-1}]
              + P_{ctx}^\\top \\bar e_t
              + \\sum_f W_f[x_{f,t}],
        \\qquad
        \\bar e_t = \\begin{cases}
            \\frac{1}{t-2} \\sum_{s=1}^{t-2} E_{ctx}[y_s] & t \\ge 3 \\\\
            e_\\varnothing & t = 2
        \\end{cases}

    with :math:`E_{cur}, E_{ctx} \\in \\mathbb{R}^{K \\times d}`,
    :math:`P_{cur}, P_{ctx} \\in \\mathbb{R}^{d \\times (K+1)}`, a learned
    empty-context vector :math:`e_\\varnothing`, and one effect table
    :math:`W_f` per covariate of year :math:`t` (calendar year, education, each
    static covariate; :class:`~laborseq.models.features.FeatureEncoder` codes,
    reference level fixed at zero). ``z_t`` goes through the shared two-stage
    head (or a softmax). Positions count observed rows, so a gap between waves
    counts once, and context rows (non-targets) enter the history but are not
    scored. The shares of the earlier states are computed once per panel,
    vectorised over persons (:func:`~laborseq.models.bag_history.context_shares_matrix`); since the mean
    of embeddings is linear, the context term is
    ``shares @ (E_ctx @ P_ctx)``.

    Training maximises :math:`\\bar\\ell(\\theta) - \\tfrac{\\alpha}{2}\\lVert\\theta\\rVert^2`
    (weighted mean log-likelihood of the training transitions, intercepts not
    penalised) with Adam, and stops early on the validation panel's transitions;
    without one, about 10% of the training persons are held out. The held-out
    persons are chosen by a seeded hash of each person's records (not of the
    person key), so a duplicated person falls on the same side as the original
    and a weight of 2 stays equivalent to a duplicate. The first observed year
    is predicted by a separate penalised multinomial logit on the same
    covariates (as in :class:`~laborseq.models.MNLogit`).

    Differences from the reference (``bag_of_jobs.py`` of CAREER):

    - The context mean covers :math:`y_1..y_{t-2}` only, with a learned vector
      when it is empty; the reference averages the shifted inputs together with
      learned ``<s>`` and ``</s>`` embeddings (denominator :math:`t+1`), so its
      context is never empty and is diluted by the two tokens.
    - Covariates enter with full-rank effect tables on the logits instead of
      rank-:math:`d` embedding-projection pairs (the same model when the number
      of levels is at most :math:`d`, always true in practice), and there are no
      context means of earlier years and education levels.
    - Logits are not clamped to :math:`[-10, 10]`: the clamp caps the stay
      probability at :math:`\\sigma(10)` and zeroes gradients outside the range;
      log-softmax is stable without it and the L2 penalty keeps logits moderate.
    - The L2 penalty on both factors of :math:`P^\\top E` acts as a nuclear-norm
      penalty on the state-to-state effects.
    """

    def __init__(
        self,
        embed_dim: int = 64,
        two_stage: bool = True,
        alpha: float = 1e-4,
        lr: float = 0.05,
        max_epochs: int = 500,
        batch_size: int | None = None,
        patience: int = 30,
        first_year_alpha: float = 1e-3,
        dtype: str = "float64",
        device: str = "cpu",
    ) -> None:
        self.embed_dim = embed_dim
        self.two_stage = two_stage
        self.alpha = alpha
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.patience = patience
        self.first_year_alpha = first_year_alpha
        self.dtype = dtype
        self.device = device

    def _check_params(self) -> None:
        for name in ("embed_dim", "max_epochs", "patience"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.batch_size is not None and (not isinstance(self.batch_size, int | np.integer) or self.batch_size < 1):
            raise ValueError(f"batch_size must be None (full batch) or a positive integer, got {self.batch_size!r}")
        if self.alpha < 0 or self.first_year_alpha < 0:
            raise ValueError("alpha and first_year_alpha must be non-negative")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {sorted(_DTYPES)}, got {self.dtype!r}")

    @property
    def _torch_dtype(self) -> torch.dtype:
        return _DTYPES[self.dtype]

    # ------------------------------------------------------------------ fitting
    def _fit(self, panel: CareerPanel, *, valid: CareerPanel | None, weights: np.ndarray | None, rng: RNGLike) -> None:
        started = time.perf_counter()
        gen = check_random_state(rng)
        init_seed, split_seed, order_seed = (int(s) for s in gen.integers(0, 2**62, size=3))
        first, trans = split_targets(panel)
        if not trans.any():
            raise ValueError("BagOfJobs needs at least one transition (a person observed twice) to fit")
        if valid is not None and tuple(valid.states) != tuple(panel.states):
            raise ValueError("BagOfJobs: the validation panel's states differ from the training panel's")
        n_states = panel.scheme.n_states
        w = np.ones(len(panel)) if weights is None else weights

        self.encoder_ = FeatureEncoder(COVARIATE_FEATURES).fit(panel, trans)
        if valid is not None:
            train_rows, valid_source = trans, "valid"
            valid_data = valid, split_targets(valid)[1], None
        else:
            held = holdout_rows(panel, HOLDOUT_FRACTION, split_seed)
            train_rows, valid_source = trans & ~held, "holdout"
            valid_data = panel, trans & held, w
            if not (train_rows.any() and (trans & held).any()):
                train_rows, valid_source = trans, "none"
        if valid_source != "none" and not valid_data[1].any():
            valid_source = "none"
        if w[train_rows].sum() <= 0:
            raise ValueError("the training transitions have zero total weight")

        train_batch = self._batch(panel, train_rows, w)
        valid_batch = self._batch(*valid_data) if valid_source != "none" else None
        if valid_batch is not None and float(valid_batch.weights.sum()) <= 0:
            valid_batch, valid_source = None, "none"
        n_levels = {k: len(v) for k, v in self.encoder_.levels_.items()}
        torch_gen = torch.Generator(device="cpu").manual_seed(init_seed)
        self.net_ = BagNet(n_states, self.embed_dim, n_levels, self.two_stage, self._torch_dtype, generator=torch_gen)
        self.net_.init_intercept(train_batch)
        self.net_.to(self.device)
        width = self.net_.width
        threads = torch.get_num_threads()
        if len(train_batch) * width < SMALL_PROBLEM and torch.device(self.device).type == "cpu":
            torch.set_num_threads(1)  # small problems are latency-bound: threads only add synchronisation
        try:
            info = self._train(train_batch, valid_batch, order_seed)
        finally:
            torch.set_num_threads(threads)
        info["valid_source"] = valid_source
        self.fit_info_ = info

        self.first_year_ = FirstYearLogit(self.first_year_alpha, self.device).fit(panel, first, w)
        self.n_transitions_ = int(train_rows.sum())
        self.fit_seconds_ = time.perf_counter() - started

    def _batch(self, panel: CareerPanel, rows: np.ndarray, weights: np.ndarray | None) -> HistoryBatch:
        x = self.encoder_.transform(panel, rows)
        return HistoryBatch.build(panel, rows, x, weights, dtype=self._torch_dtype, device=self.device)

    def _train(self, train: HistoryBatch, valid: HistoryBatch | None, order_seed: int) -> dict[str, Any]:
        net = self.net_
        optimizer = torch.optim.Adam(net.parameters(), lr=self.lr)
        # full-batch Adam at a fixed rate ends up circling the optimum: halve the rate when validation stalls
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=0.5, patience=max(self.patience // 4, 1)
        )
        order_gen = torch.Generator(device="cpu").manual_seed(order_seed)
        total = float(train.weights.sum())
        best, best_epoch, best_state = float("inf"), -1, None
        train_curve: list[float] = []
        valid_curve: list[float] = []
        for _epoch in range(self.max_epochs):
            net.train()
            if self.batch_size is None:
                optimizer.zero_grad()
                loss = net.nll(train) / total + 0.5 * self.alpha * net.penalty()
                loss.backward()
                optimizer.step()
                train_curve.append(float(loss.detach()))
            else:
                order = torch.randperm(len(train), generator=order_gen).to(train.y.device)
                running = 0.0
                for start in range(0, len(train), int(self.batch_size)):
                    part = train.select(order[start : start + int(self.batch_size)])
                    weight = float(part.weights.sum())
                    if weight <= 0:
                        continue
                    optimizer.zero_grad()
                    nll = net.nll(part)
                    loss = nll / weight + 0.5 * self.alpha * net.penalty()
                    loss.backward()
                    optimizer.step()
                    running += float(nll.detach())
                train_curve.append(running / total)
            if valid is None:
                continue
            with torch.no_grad():
                current = float(net.nll(valid)) / float(valid.weights.sum())
            valid_curve.append(current)
            scheduler.step(current)
            if current < best:
                best, best_epoch = current, len(valid_curve) - 1
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            elif len(valid_curve) - 1 - best_epoch >= self.patience:
                break
        if best_state is not None:
            net.load_state_dict(best_state)
        epochs = len(train_curve)
        return {
            "epochs": epochs,
            "best_epoch": best_epoch if valid is not None else epochs - 1,
            "best_valid_loss": best if valid is not None else None,
            "stopped_early": valid is not None and epochs < self.max_epochs,
            "train_curve": train_curve,
            "valid_curve": valid_curve,
        }

    # ------------------------------------------------------------------ prediction
    def _predict_proba(self, panel: CareerPanel) -> np.ndarray:
        first, trans = split_targets(panel)
        n_states = len(self.classes_)
        out = np.zeros((len(panel), n_states))
        if trans.any():
            batch = self._batch(panel, trans, None)
            with torch.no_grad():
                out[trans] = self.net_.log_probs(batch).exp().cpu().numpy().astype(np.float64)
        if first.any():
            out[first] = self.first_year_.predict_proba(panel, first)
        return out[panel.target_mask]

    # ------------------------------------------------------------------ persistence
    def _get_fitted(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays = {f"trans.{k}": v.detach().cpu().numpy() for k, v in self.net_.state_dict().items()}
        first_state, first_arrays = self.first_year_.get_state()
        arrays.update(first_arrays)
        state = {
            "encoder": self.encoder_.get_state(),
            "first_year": first_state,
            "n_states": self.net_.n_states,
            "fit_info": self.fit_info_,
            "n_transitions": self.n_transitions_,
            "fit_seconds": self.fit_seconds_,
        }
        return state, arrays

    def _set_fitted(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.encoder_ = FeatureEncoder.from_state(state["encoder"])
        self.fit_info_ = state["fit_info"]
        self.n_transitions_ = state["n_transitions"]
        self.fit_seconds_ = state["fit_seconds"]
        n_states = int(state["n_states"])
        n_levels = {k: len(self.encoder_.levels_[k]) for k in self.encoder_.categorical_}
        self.net_ = BagNet(n_states, self.embed_dim, n_levels, self.two_stage, self._torch_dtype)
        self.net_.load_state_dict(_prefixed(arrays, "trans."))
        self.net_.to(self.device)
        self.first_year_ = FirstYearLogit.from_state(state["first_year"], arrays, self.first_year_alpha, self.device)


# ---------------------------------------------------------------------- the network
class BagNet(nn.Module):
    """The transition part of :class:`BagOfJobs`: logits from the history and covariates of year t.

    Parameters
    ----------
    n_states : int
        Number of states :math:`K`.
    embed_dim : int
        Rank :math:`d` of the state terms.
    n_levels : dict of str to int
        Levels of each covariate (level 0 is the reference, effect zero).
    two_stage : bool
        Add a stay logit (width :math:`K + 1`).
    dtype : torch.dtype
        Parameter dtype.
    generator : torch.Generator, optional
        Source of the random initialisation.
    """

    def __init__(
        self,
        n_states: int,
        embed_dim: int,
        n_levels: dict[str, int],
        two_stage: bool,
        dtype: torch.dtype,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.n_states = n_states
        self.two_stage = two_stage
        self.width = n_states + int(two_stage)
        scale = embed_dim**-0.5

        def normal(*shape: int) -> nn.Parameter:
            return nn.Parameter(torch.randn(*shape, generator=generator, dtype=dtype) * scale)

        self.cur_embed = normal(n_states, embed_dim)
        self.ctx_embed = normal(n_states, embed_dim)
        self.empty = normal(embed_dim)
        # projections start at zero: the first logits are the intercept (no symmetry to break: E is random)
        self.cur_proj = nn.Parameter(torch.zeros(embed_dim, self.width, dtype=dtype))
        self.ctx_proj = nn.Parameter(torch.zeros(embed_dim, self.width, dtype=dtype))
        self.covariates = LogLinear(n_levels, 0, n_states, two_stage=two_stage, base_class=False, dtype=dtype)

    def init_intercept(self, batch: HistoryBatch) -> None:
        """Start the intercept at the (smoothed, weighted) log-frequencies of the training outcomes."""
        w, y, prev = batch.weights, batch.y, batch.prev
        counts = torch.zeros(self.n_states, dtype=w.dtype, device=w.device)
        if self.two_stage:
            stay = y == prev
            counts.index_add_(0, y[~stay], w[~stay])
            share = (w * stay).sum() / w.sum()
            share = share.clamp(1e-3, 1 - 1e-3)
            init = torch.cat([torch.log(counts + 1.0), torch.log(share / (1 - share)).reshape(1)])
        else:
            counts.index_add_(0, y, w)
            init = torch.log(counts + 1.0)
        with torch.no_grad():
            init[: self.n_states] -= init[: self.n_states].mean()
            self.covariates.intercept.copy_(init.to(self.covariates.intercept))

    def logits(self, batch: HistoryBatch) -> torch.Tensor:
        """Logits of every row, shape ``(n, width)``.

        The context term :math:`P_{ctx}^\\top \\bar e_t` is computed as
        ``shares @ (E_ctx P_ctx)`` (the mean of embeddings is linear), so the
        cost per row is :math:`K \\times` width, not :math:`d \\times` width.
        """
        current = (self.cur_embed @ self.cur_proj)[batch.prev]
        table = self.ctx_embed @ self.ctx_proj
        shares = batch.context
        context = torch.sparse.mm(shares, table) if shares.is_sparse else shares @ table
        context = torch.where(batch.empty.unsqueeze(1), (self.empty @ self.ctx_proj).unsqueeze(0), context)
        covariates = self.covariates.linear_predictor(batch.codes, batch.numeric)[batch.covariate_row]
        return current + context + covariates

    def log_probs(self, batch: HistoryBatch) -> torch.Tensor:
        """Log-probabilities over the states, shape ``(n, K)``."""
        logits = self.logits(batch)
        if self.two_stage:
            return two_stage_log_probs(logits, batch.prev)
        return torch.log_softmax(logits, dim=1)

    def nll(self, batch: HistoryBatch) -> torch.Tensor:
        """Weighted negative log-likelihood, summed over rows."""
        picked = self.log_probs(batch).gather(1, batch.y.unsqueeze(1)).squeeze(1)
        return -(batch.weights * picked).sum()

    def penalty(self) -> torch.Tensor:
        """Sum of squares of all parameters except the intercept."""
        total = self.covariates.penalty()
        for p in (self.cur_embed, self.ctx_embed, self.empty, self.cur_proj, self.ctx_proj):
            total = total + (p**2).sum()
        return total


# ---------------------------------------------------------------------- helpers
def holdout_rows(panel: CareerPanel, fraction: float, seed: int) -> np.ndarray:
    """Rows of the persons held out for early stopping: about ``fraction`` of the persons.

    A person is held out when a seeded hash of their records (years, states,
    covariates; not the person key or the weight) falls below ``fraction``, so
    two persons with identical records are on the same side.
    """
    data = panel.data
    columns = [c for c in data.columns if c not in (PERSON, "weight")]
    frame = data[columns].copy()
    frame[OCC] = panel.state_index()
    row_hash = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    seqs = panel.sequences()
    if len(seqs) == 0:
        return np.zeros(0, dtype=bool)
    person_hash = np.add.reduceat(row_hash, seqs.offsets[:-1])  # order-free (years are distinct within a person)
    mixed = pd.util.hash_array(person_hash ^ np.uint64(seed % 2**64), categorize=False)
    held = mixed.astype(np.float64) / 2.0**64 < fraction
    return np.repeat(held, seqs.lengths)


def holdout_panels(
    panel: CareerPanel, weights: np.ndarray | None, seed: int, fraction: float = HOLDOUT_FRACTION
) -> tuple[CareerPanel, np.ndarray | None, CareerPanel, np.ndarray | None] | None:
    """The panel split into training and held-out persons (:func:`holdout_rows`), each with its row weights.

    Returns ``None`` when no person, or every person, would be held out (a panel too small to split).
    """
    held = holdout_rows(panel, fraction, seed)
    if not held.any() or held.all():
        return None
    persons = panel.data[PERSON]
    train = panel.select_persons(persons[~held].unique())
    valid = panel.select_persons(persons[held].unique())
    if weights is None:
        return train, None, valid, None
    return train, weights[~held], valid, weights[held]


def _prefixed(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith(prefix)}
