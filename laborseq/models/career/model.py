"""CAREER: a transformer foundation model of careers.

Follows Keyon Vafa, Emil Palikot, Tianyu Du, Ayush Kanodia, Susan Athey and
David M. Blei, "CAREER: A Foundation Model for Labor Sequence Data",
*Transactions on Machine Learning Research* (2024), https://arxiv.org/abs/2202.08370,
and its reference implementation, https://github.com/keyonvafa/career-code (a
fairseq fork). Where laborseq's docstrings say "the reference", they mean that
paper and that code.

A causal transformer reads a person's earlier states together with the
covariates of the year being predicted and outputs the distribution of the
next state through the two-stage (stay / move) head. It can be trained on a
survey panel from scratch, or pretrained on a large resume corpus and then
fine-tuned on the survey: ``CAREER(pretrained=...)`` starts from the weights of
a fitted CAREER (in memory or saved); states and covariate levels shared by the
two panels keep their pretrained embeddings, new ones start fresh.

Examples
--------
>>> from laborseq.datasets import load_nlswork
>>> from laborseq.models import CAREER
>>> train, valid, test = load_nlswork().split_persons(rng=0)
>>> model = CAREER.preset("small", max_steps=200).fit(train, valid=valid, rng=0)  # doctest: +SKIP
>>> model.perplexity(test)  # doctest: +SKIP

Pretraining and fine-tuning (``resumes`` a panel of the same scheme)::

    pretrained = CAREER.preset("paper").fit(resumes)          # the pretraining schedule
    model = CAREER.preset("paper", pretrained=pretrained)     # or a saved directory
    model.fit(survey_train)                                   # the fine-tuning schedule
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any, Self

import numpy as np
import pandas as pd
import torch

from laborseq._util.random import RNGLike, seed_int
from laborseq.models.bag_of_jobs import HOLDOUT_FRACTION, holdout_panels
from laborseq.models.base import SequenceModel, load_model, params_record
from laborseq.models.career.presets import PRESETS
from laborseq.models.career.stepper import CareerStepper
from laborseq.nn.accelerator import PRECISIONS, inference_policy
from laborseq.nn.batching import BatchSource, token_budget_batches
from laborseq.nn.career_net import CareerNet, CareerNetConfig, aligned_state_dict, career_loss
from laborseq.nn.encoding import GAP_INPUT, YEAR_INPUT, CareerVocabulary, EncodedPanel
from laborseq.nn.token_store import TokenStore, open_token_store
from laborseq.nn.train import train
from laborseq.nn.train_config import TrainConfig, TrainResult
from laborseq.nn.train_log import TrainingLog
from laborseq.nn.transformer import DecoderConfig
from laborseq.panel import CareerPanel
from laborseq.panel.weights import WeightsLike

FORECAST_CACHE_BYTES = 2e9
FORECAST_CACHE_YEARS = 16
"""Forecast chunks are sized so that the simulated paths' attention caches for this many years fit in the bytes."""


NETWORK_SHAPE = ("n_layers", "d_model", "n_heads", "d_ff")
"""The parameters that fix the network's shape: a fine-tuned model must share them with its pretrained one."""

STORE_VALID_PERSONS = 20_000
"""Most persons held out of a token store for early stopping (10% of a small one): the validation loss of
20,000 careers is precise, and evaluating on 10% of a corpus of millions each epoch is not worth its cost."""


class CAREER(SequenceModel):
    """Transformer model of the next state given the whole career and covariates.

    Parameters
    ----------
    n_layers, d_model, n_heads, d_ff : int
        Transformer shape (default: the reference, 12 x 192 with 3 heads, FFN 768).
    dropout, attn_dropout : float
        Dropout on embeddings and residuals, and on attention weights.
    two_stage : bool, default True
        Stay / move head (:func:`~laborseq.nn.heads.two_stage_log_probs`).
    recall : bool, default False
        Let a move return to an earlier job (:func:`~laborseq.nn.heads.recall_log_probs`): the network
        predicts the probability of a return, the earlier jobs share it by how recently and how often
        they were held (a decay per observation that the network learns). Not in the reference
        architecture; the ``auto`` recipe's networks have it (``analyses/career_recipe.py`` measures it).
    covariates : tuple of str, optional
        Panel covariates to embed (default: all). The calendar year is always an input.
    gap_input : bool, default True
        Embed the years since the previous observation (1, 2, ..., 5+), so
        calendar gaps in biennial surveys are visible beyond the year itself.
    lr, warmup_steps, max_steps, max_epochs : float, int, int, int or None
        Schedule of training from scratch (pretraining): AdamW with
        linear warmup to ``lr`` then inverse-square-root decay, for at most
        ``max_steps`` updates or ``max_epochs`` passes.
    finetune_lr, finetune_warmup_steps, finetune_max_steps : float, int, int
        Schedule of :meth:`fit` from ``pretrained`` weights (fine-tuning):
        the reference fine-tunes with 500 warmup updates to 1e-4, for at most 5,000.
    max_tokens : int, default 16000
        Token budget per batch (sequences are batched by length).
    weight_decay : float, default 0.01
        Decoupled weight decay.
    clip_norm : float or None, default 1.0
        Gradient-norm clipping (the reference clips nothing).
    patience : int or None, default 10
        Stop after this many evaluations (once per epoch by default) without a
        lower validation loss; the best weights are kept. A panel too small to
        hold out a validation person trains for ``max_steps`` without stopping early.
    eval_every : int or None
        Evaluate every this many updates instead of once per epoch.
    device : str, default "auto"
        ``"auto"``: CUDA when available, else CPU.
    precision : {"auto", "bf16", "fp16", "fp32"}
        ``"auto"``: bf16 autocast on CUDA devices with native bfloat16 (compute
        capability 8.0+), fp16 with a gradient scaler on older CUDA devices; on
        the CPU bf16 autocast where it is native (AVX512-BF16, AMX), else fp32
        (:func:`~laborseq.nn.accelerator.precision_policy`); the
        choice is in ``training_["precision"]``.
    compile : bool, default False
        Train through ``torch.compile`` (worth it for long GPU runs).
    pretrained : CAREER or str, optional
        A fitted CAREER model, or the directory of a saved one, to fine-tune
        from in :meth:`fit` (with the ``finetune_*`` schedule). Pretraining is
        fitting a model from scratch on the resume panel. A fitted model given
        here is saved beside this one by :meth:`save`, so the saved model
        records where it started.
    checkpoint_dir : str, optional
        Where training writes resumable checkpoints (``last/``, ``best/``); a run
        killed mid-way resumes from ``last/`` when fitted again with the same directory.
    word_dropout : float, default 0.0
        Probability that a training batch sees a random subset of earlier
        positions only (the reference's word-dropout mixture, 0.5 for
        rationalization; see :meth:`finetune_word_dropout`).
    progress : bool, default False
        Show a progress bar with the loss and tokens per second.
    log_dir : str, optional
        Append the training progress (loss, learning rate, tokens per second,
        validation loss) to ``log_dir/train_log.jsonl`` every 50 updates and at
        every evaluation (:class:`~laborseq.nn.train_log.TrainingLog`), to watch a long run.
    log_tensorboard : bool, default False
        With ``log_dir``: also write TensorBoard scalars there (needs ``pip install 'laborseq[tensorboard]'``).

    Notes
    -----
    The network (:class:`~laborseq.nn.career_net.CareerNet`) adds, at position
    ``t``, the embedding of the previous state (a start token at ``t = 0``,
    scaled by :math:`\\sqrt{d}`), a sinusoidal position encoding and the
    embeddings of the covariates *of year t*: the calendar year, the years
    since the previous observation and the panel's covariates (numeric ones in
    categories: birth cohorts of 5 years, or deciles). The first observed year
    is therefore predicted from covariates alone, as in the reference, and the
    stay logit is ignored there (no mass is wasted on an end token).
    Years outside the training range use the nearest trained year; levels
    not seen in training get a zero embedding (with a warning).

    Training minimises the weighted mean negative log-likelihood over target
    person-years with AdamW (:func:`~laborseq.nn.train.train`): bf16 autocast
    on CUDA, fp32 on CPU, data-parallel under ``torchrun``. Without a
    validation panel, 10% of the training persons are held out for early
    stopping (as in :class:`~laborseq.models.BagOfJobs`).
    """

    family = "neural"

    def __init__(
        self,
        n_layers: int = 12,
        d_model: int = 192,
        n_heads: int = 3,
        d_ff: int = 768,
        dropout: float = 0.1,
        attn_dropout: float = 0.1,
        two_stage: bool = True,
        recall: bool = False,
        covariates: tuple[str, ...] | None = None,
        gap_input: bool = True,
        lr: float = 5e-4,
        warmup_steps: int = 4_000,
        max_steps: int | None = 85_000,
        max_epochs: int | None = None,
        finetune_lr: float = 1e-4,
        finetune_warmup_steps: int = 500,
        finetune_max_steps: int | None = 5_000,
        max_tokens: int = 16_000,
        weight_decay: float = 0.01,
        clip_norm: float | None = 1.0,
        patience: int | None = 10,
        eval_every: int | None = None,
        device: str = "auto",
        precision: str = "auto",
        compile: bool = False,
        pretrained: CAREER | str | None = None,
        checkpoint_dir: str | None = None,
        word_dropout: float = 0.0,
        progress: bool = False,
        log_dir: str | None = None,
        log_tensorboard: bool = False,
    ) -> None:
        self.n_layers = n_layers
        self.d_model = d_model
        self.n_heads = n_heads
        self.d_ff = d_ff
        self.dropout = dropout
        self.attn_dropout = attn_dropout
        self.two_stage = two_stage
        self.recall = recall
        self.covariates = covariates
        self.gap_input = gap_input
        self.lr = lr
        self.warmup_steps = warmup_steps
        self.max_steps = max_steps
        self.max_epochs = max_epochs
        self.finetune_lr = finetune_lr
        self.finetune_warmup_steps = finetune_warmup_steps
        self.finetune_max_steps = finetune_max_steps
        self.max_tokens = max_tokens
        self.weight_decay = weight_decay
        self.clip_norm = clip_norm
        self.patience = patience
        self.eval_every = eval_every
        self.device = device
        self.precision = precision
        self.compile = compile
        self.pretrained = pretrained
        self.checkpoint_dir = checkpoint_dir
        self.word_dropout = word_dropout
        self.progress = progress
        self.log_dir = log_dir
        self.log_tensorboard = log_tensorboard

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> CAREER:
        """A model with the named configuration (see :data:`PRESETS`) and any overrides."""
        if name not in PRESETS:
            raise ValueError(f"unknown CAREER preset {name!r}; choose from {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **overrides})

    def _check_params(self) -> None:
        DecoderConfig(**self._decoder_params())  # validates the shape
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if not 0.0 <= self.word_dropout <= 1.0:
            raise ValueError(f"word_dropout must be in [0, 1], got {self.word_dropout}")

    def _decoder_params(self) -> dict[str, Any]:
        names = ("n_layers", "d_model", "n_heads", "d_ff", "dropout", "attn_dropout")
        return {name: getattr(self, name) for name in names}

    # ------------------------------------------------------------------ training
    def fit(
        self,
        panel: CareerPanel | TokenStore | str | os.PathLike[str],
        *,
        valid: CareerPanel | TokenStore | None = None,
        weights: WeightsLike = None,
        rng: RNGLike = None,
    ) -> Self:
        """Fit to a panel, or pretrain on a token store too large for memory.

        Parameters
        ----------
        panel : CareerPanel, TokenStore or path-like
            A panel (see :meth:`SequenceModel.fit`), or a corpus encoded by
            :func:`~laborseq.nn.token_store.write_token_store` (the store or its
            directory): training reads its batches from disk, and every
            data-parallel rank reads only its own batches.
        valid : CareerPanel or TokenStore, optional
            Validation data of the same kind; by default 10% of the persons are held
            out (of a store, at most :data:`STORE_VALID_PERSONS`, in a few runs of
            consecutive persons: :meth:`TokenStore.holdout`).
        weights : str, array or Series, optional
            Row weights of a panel (a store carries its own).
        rng : int or numpy.random.Generator, optional
            Seed of the initialisation, the hold-out and the batch order.
        """
        if not isinstance(panel, TokenStore | str | os.PathLike):
            return super().fit(panel, valid=valid, weights=weights, rng=rng)  # type: ignore[arg-type]
        store = panel if isinstance(panel, TokenStore) else open_token_store(panel)
        if valid is not None and not isinstance(valid, TokenStore):
            raise TypeError(f"with a token store, valid must be a TokenStore too, got {type(valid).__name__}")
        if weights is not None:
            raise ValueError("a token store carries its own weights; weights= applies to a panel")
        self._check_params()
        self._forget_fit()
        self._check_store(store)
        seed = seed_int(rng, high=2**31 - 1, none=0)
        train_data: BatchSource = store
        valid_data: BatchSource | None = valid
        if valid is None:
            rest, held = store.holdout(min(round(HOLDOUT_FRACTION * store.n_persons), STORE_VALID_PERSONS), seed)
            if held.n_persons and rest.n_persons:
                train_data, valid_data = rest, held
        self._train(train_data, valid_data, store.vocabulary, seed)
        self.classes_ = tuple(store.vocabulary.states)
        self.scheme_ = store.scheme
        self.n_features_in_ = len(store.covariates)
        return self

    def _check_store(self, store: TokenStore) -> None:
        """The store's inputs must be the ones this model asks for."""
        names = [v.name for v in store.vocabulary.inputs if v.name not in (YEAR_INPUT, GAP_INPUT)]
        has_gap = any(v.name == GAP_INPUT for v in store.vocabulary.inputs)
        if (self.covariates is not None and list(self.covariates) != names) or has_gap != self.gap_input:
            raise ValueError(
                f"{store.path}: the store encodes covariates {names} {'with' if has_gap else 'without'} the gap "
                f"input; the model asks for {self.covariates} {'with' if self.gap_input else 'without'} it; write "
                "the store with the model's covariates, or give the model the store's"
            )

    def _fit(self, panel: CareerPanel, *, valid: CareerPanel | None, weights: np.ndarray | None, rng: RNGLike) -> None:
        seed = seed_int(rng, high=2**31 - 1, none=0)
        vocab = CareerVocabulary.fit(panel, self.covariates, gap=self.gap_input)
        train_panel, train_weights = panel, weights
        split = holdout_panels(panel, weights, seed) if valid is None else None
        if split is not None:  # (a panel too small to hold anyone out trains without early stopping)
            train_panel, train_weights, valid, _ = split
        valid_data = None if valid is None else vocab.encode(valid)
        self._train(vocab.encode(train_panel, train_weights), valid_data, vocab, seed)

    def _train(
        self, train_data: BatchSource, valid_data: BatchSource | None, vocab: CareerVocabulary, seed: int
    ) -> None:
        """Build the network (from the pretrained weights, if any) and train it."""
        base = self._base_weights()
        torch.manual_seed(seed)
        net = CareerNet(
            CareerNetConfig(
                n_states=len(vocab.states),
                input_sizes=tuple(v.size for v in vocab.inputs),
                decoder=DecoderConfig(**self._decoder_params()),
                two_stage=self.two_stage,
                recall=self.recall,
            )
        )
        alignment: dict[str, Any] | None = None
        if base is not None:
            state, alignment = aligned_state_dict(base[0], base[1], net, vocab)
            net.load_state_dict(state)
        finetune = base is not None
        config = TrainConfig(
            lr=self.finetune_lr if finetune else self.lr,
            warmup_steps=self.finetune_warmup_steps if finetune else self.warmup_steps,
            max_steps=self.finetune_max_steps if finetune else self.max_steps,
            max_epochs=self.max_epochs,
            max_tokens=self.max_tokens,
            weight_decay=self.weight_decay,
            clip_norm=self.clip_norm,
            eval_every=self.eval_every,
            patience=self.patience,
            precision=self.precision,
            compile=self.compile,
            device=self.device,
            seed=seed,
            progress=self.progress,
        )
        log = None if self.log_dir is None else TrainingLog(self.log_dir, tensorboard=self.log_tensorboard)
        try:
            result = train(
                net,
                functools.partial(career_loss, word_dropout=self.word_dropout),
                train_data,
                config,
                valid_data=valid_data,
                checkpoint_dir=self.checkpoint_dir,
                metadata={"model": "CAREER", "params": params_record(self.get_params()), "vocabulary": vocab.to_dict()},
                **({} if log is None else {"callback": log}),
            )
        finally:
            if log is not None:
                log.close()
        self.net_ = net.cpu().eval()
        self.vocabulary_ = vocab
        self.training_ = _training_summary(result, config, finetune, alignment)

    def finetune_word_dropout(
        self,
        panel: CareerPanel,
        *,
        mixture: float = 0.5,
        valid: CareerPanel | None = None,
        weights: WeightsLike = None,
        rng: RNGLike = None,
        max_steps: int | None = None,
        patience: int | None = None,
    ) -> CAREER:
        """A copy of this fitted model, fine-tuned further with word dropout, to rationalize its predictions.

        As in the reference, the fitted model is trained on ``panel`` again with
        the fine-tuning schedule (``finetune_lr``, ``finetune_warmup_steps``, and
        ``max_steps`` updates, by default ``finetune_max_steps``; the reference
        runs 5,000) while, with probability ``mixture`` per batch, each position
        sees only a random subset of the earlier positions. The weights with the
        lowest validation loss (whole careers) are kept; ``patience`` stops
        early (default: no early stopping, as the reference). The copy predicts
        from incomplete careers, so the probabilities along a rationale mean
        what they say. This model is left as it is.

        Returns
        -------
        CAREER
            The fine-tuned copy (its ``word_dropout`` is ``mixture``).
        """
        self._check_fitted()
        params = {
            **self.get_params(),
            "word_dropout": mixture,
            "patience": patience,
            "pretrained": self,
            "checkpoint_dir": None,
        }
        if max_steps is not None:
            params["finetune_max_steps"] = max_steps
        return type(self)(**params).fit(panel, valid=valid, weights=weights, rng=rng)

    def _base_weights(self) -> tuple[dict[str, np.ndarray], CareerVocabulary] | None:
        """Weights and vocabulary to start from: those of ``pretrained`` (a fitted CAREER or its saved directory)."""
        if self.pretrained is None:
            return None
        base = self.pretrained if isinstance(self.pretrained, SequenceModel) else load_model(self.pretrained)
        if not isinstance(base, CAREER):
            raise TypeError(f"pretrained={self.pretrained!r} holds a {type(base).__name__}, not a CAREER model")
        base._check_fitted()
        # (dropout may differ between the two stages)
        theirs, ours = ({k: m.get_params()[k] for k in NETWORK_SHAPE} for m in (base, self))
        if theirs != ours:
            raise ValueError(
                f"pretrained={self.pretrained!r} has shape {theirs}, this model {ours}; use the same "
                f"{', '.join(NETWORK_SHAPE)}"
            )
        return base._net_arrays(), base.vocabulary_

    # ------------------------------------------------------------------ prediction
    def _predict_proba(self, panel: CareerPanel) -> np.ndarray:
        out = np.zeros((panel.n_targets, len(self.classes_)))
        order = np.cumsum(panel.target_mask) - 1
        for rows, log_probs in self._batched(self.vocabulary_.encode(panel), lambda net, batch: net.log_probs(batch)):
            keep = rows >= 0
            keep[keep] = panel.target_mask[rows[keep]]
            out[order[rows[keep]]] = log_probs[keep].exp().double().numpy()
        return out / out.sum(axis=1, keepdims=True)

    def representations(self, panel: CareerPanel) -> pd.DataFrame:
        """CAREER's hidden state at every person-year (``d_model`` columns ``h0, h1, ...``).

        The row of year :math:`t` is the final-layer representation from which
        the network predicts the state of :math:`t`: it has read the career
        before :math:`t` and the covariates of :math:`t`, not the state of
        :math:`t` itself. The output head applied to it gives
        :meth:`predict_proba`. Indexed by ``(person, year)``, one row per panel row.
        """
        self._check_panel(panel)
        out = np.zeros((len(panel), self.net_.config.decoder.d_model), dtype=np.float32)
        data = self.vocabulary_.encode(panel)
        for rows, hidden in self._batched(data, lambda net, batch: net.hidden(batch["inputs"], batch["covariates"])):
            keep = rows >= 0
            out[rows[keep]] = hidden[keep].numpy()
        columns = [f"h{i}" for i in range(out.shape[1])]
        return pd.DataFrame(out, index=panel.person_year_index(), columns=columns)

    def _batched(
        self,
        data: EncodedPanel,
        output: Callable[[CareerNet, dict[str, torch.Tensor]], torch.Tensor],
        max_tokens: int = 8_192,
    ) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
        """Yield ``(rows, output(net, batch))`` of padded batches, in float32 on the CPU."""
        device = torch_device(self.device)
        net = self.net_.to(device).eval()
        batches = token_budget_batches(data.lengths(), max_tokens, shuffle=False, rng=None)
        with torch.no_grad(), inference_policy(self.precision, device).autocast():
            for index in batches:
                batch = data.collate(index, device)
                yield batch["rows"].cpu().numpy(), output(net, batch).float().cpu()
        self.net_ = net.cpu()

    def _stepper(self, history: CareerPanel, n_samples: int) -> CareerStepper:
        """Incremental forecast stepper: the history runs once per person, each simulated year is one token."""
        self._check_panel(history)
        return CareerStepper(self.net_, self.vocabulary_, history, n_samples, torch_device(self.device), self.precision)

    def _forecast_max_paths(self) -> int:
        """Paths per forecast chunk: their attention caches (keys and values of every layer) within about 2 GB."""
        bytes_per_path_and_year = self.n_layers * 2 * self.d_model * 4
        recall_bytes = 2 * len(self.classes_) * 4 if self.recall else 0  # two levels' recall weights, float32
        return max(1_000, int(FORECAST_CACHE_BYTES // (bytes_per_path_and_year * FORECAST_CACHE_YEARS + recall_bytes)))

    # ------------------------------------------------------------------ persistence
    def _net_arrays(self) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().float().numpy() for k, v in self.net_.state_dict().items()}

    def _get_fitted(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state = {
            "vocabulary": self.vocabulary_.to_dict(),
            "net_config": self.net_.config.to_dict(),
            "training": self.training_,
        }
        return state, self._net_arrays()

    def _set_fitted(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.vocabulary_ = CareerVocabulary.from_dict(state["vocabulary"])
        self.net_ = CareerNet(CareerNetConfig.from_dict(state["net_config"]))
        self.net_.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()})
        self.net_.eval()
        self.training_ = state["training"]

    @property
    def n_parameters(self) -> int:
        """Number of trained parameters of the network."""
        self._check_fitted()
        return sum(p.numel() for p in self.net_.parameters())


def torch_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _training_summary(
    result: TrainResult, config: TrainConfig, finetune: bool, alignment: dict[str, Any] | None
) -> dict[str, Any]:
    summary = {
        "stage": "fine-tune" if finetune else "from scratch",
        "steps": result.steps,
        "epochs": result.epochs,
        "tokens": result.tokens,
        "seconds": result.seconds,
        "tokens_per_second": result.tokens_per_second,
        "peak_memory_bytes": result.peak_memory_bytes,
        "precision": result.precision,
        "best_step": result.best_step,
        "best_valid_loss": result.best_valid_loss,
        "stopped": result.stopped,
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()},
        "history": result.history,
    }
    if alignment is not None:
        summary["alignment"] = alignment
    return summary
