"""The CAREER network: job and covariate embeddings, a causal transformer, and the two-stage head.

At position ``t`` of a person's sequence the input is

.. math::

    x_t = \\sqrt{d}\\, E_{job}[y_{t-1}] + PE(t) + \\sum_c E_c[x_{c,t}],

where :math:`y_0` is a start-of-career token, :math:`PE` the sinusoidal
position encoding and :math:`x_{c,t}` the covariates of the year being
predicted (calendar year, years since the previous observation, education,
static covariates), as in the reference implementation. The output at ``t``
gives ``K`` move logits and a stay logit that the shared two-stage head
(:func:`~laborseq.nn.heads.two_stage_log_probs`) turns into the
distribution of :math:`y_t`. With ``recall``, one more output, the logit of the
probability that a move returns to an earlier job, mixes that distribution with
the earlier jobs weighted by how recently they were held
(:func:`~laborseq.nn.heads.recall_log_probs`; the decay :math:`\\mu` is a
parameter of the network).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from laborseq.nn.encoding import CareerVocabulary
from laborseq.nn.heads import recall_log_probs, recall_weights, two_stage_log_probs
from laborseq.nn.transformer import Decoder, DecoderConfig, Dropout, key_subset_mask, sinusoidal_positions


@dataclass(frozen=True)
class CareerNetConfig:
    """Shape of a :class:`CareerNet`.

    Attributes
    ----------
    n_states : int
        Number of states ``K``.
    input_sizes : tuple of int
        Embedding-table size of every covariate input (index 0 is the zero vector).
    decoder : DecoderConfig
        Transformer shape.
    two_stage : bool
        ``K + 1`` outputs through the stay / move head, or ``K`` through a softmax.
    recall : bool
        One more output, the recall gate, and returns to earlier states
        (:func:`~laborseq.nn.heads.recall_log_probs`).
    """

    n_states: int
    input_sizes: tuple[int, ...]
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    two_stage: bool = True
    recall: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {**asdict(self), "input_sizes": list(self.input_sizes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CareerNetConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(
            n_states=int(data["n_states"]),
            input_sizes=tuple(int(s) for s in data["input_sizes"]),
            decoder=DecoderConfig(**data["decoder"]),
            two_stage=bool(data["two_stage"]),
            recall=bool(data.get("recall", False)),  # (networks saved before recall existed have none)
        )


class CareerNet(nn.Module):
    """Embeddings, causal transformer and output layer of CAREER."""

    def __init__(self, config: CareerNetConfig) -> None:
        super().__init__()
        self.config = config
        width = config.decoder.d_model
        self.job_embedding = nn.Embedding(config.n_states + 1, width)  # last row: start of career
        self.input_embeddings = nn.ModuleList(nn.Embedding(size, width, padding_idx=0) for size in config.input_sizes)
        self.drop = Dropout(config.decoder.dropout)
        self.decoder = Decoder(config.decoder)
        self.head = nn.Linear(width, config.n_states + int(config.two_stage) + int(config.recall), bias=False)
        if config.recall:
            self.recall_decay = nn.Parameter(torch.tensor(float(np.log(np.expm1(np.log(2.0))))))  # mu = log 2
        self.job_scale = width**0.5
        std = width**-0.5
        for table in (self.job_embedding, *self.input_embeddings, self.head):
            nn.init.normal_(table.weight, std=std)
        for table in self.input_embeddings:
            with torch.no_grad():
                table.weight[0].zero_()

    def embed(
        self, inputs: torch.Tensor, covariates: torch.Tensor, positions: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Input vectors: scaled job embedding + position encoding + covariate embeddings.

        Parameters
        ----------
        inputs : torch.Tensor
            Previous-state tokens, shape ``(..., T)``.
        covariates : torch.Tensor
            Input codes, shape ``(..., T, C)``.
        positions : torch.Tensor, optional
            Position of every token (default ``0..T-1`` along the last axis).
        """
        x = self.job_embedding(inputs) * self.job_scale
        if positions is None:
            x = x + sinusoidal_positions(inputs.shape[-1], x.shape[-1], device=x.device)
        else:
            table = sinusoidal_positions(int(positions.max()) + 1, x.shape[-1], device=x.device)
            x = x + table[positions]
        for i, embedding in enumerate(self.input_embeddings):
            x = x + embedding(covariates[..., i])
        return x

    def hidden(
        self,
        inputs: torch.Tensor,
        covariates: torch.Tensor,
        mask: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Final-layer representation of every position, shape ``(B, T, d)``.

        ``mask`` (:func:`~laborseq.nn.transformer.key_subset_mask`) replaces the
        causal attention mask; ``positions`` the default ``0..T-1`` positions.
        """
        return self.decoder(self.drop(self.embed(inputs, covariates, positions)), mask)

    def forward(self, inputs: torch.Tensor, covariates: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Output logits, shape ``(B, T, K + 1 + recall)`` (two-stage) or ``(B, T, K + recall)``."""
        return self.head(self.hidden(inputs, covariates, mask))

    def decay(self) -> torch.Tensor:
        """:math:`\\mu`, the recall weights' decay per observation (a network with ``recall``)."""
        return F.softplus(self.recall_decay)

    def recall_weights(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor | None:
        """:func:`~laborseq.nn.heads.recall_weights` of the earlier states (``None`` without ``recall``)."""
        if not self.config.recall:
            return None
        return recall_weights(inputs, self.config.n_states, self.decay(), mask)

    def output_log_probs(
        self, logits: torch.Tensor, prev: torch.Tensor, recall: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Log-distribution over the ``K`` states from output ``logits`` and the previous states ``prev``.

        ``recall``: the :meth:`recall_weights` of the same positions, which a network with ``recall`` needs.
        Computed in float32.
        """
        logits = logits.float()
        if self.config.recall:
            logits, gate = logits[..., :-1], logits[..., -1]
        log_probs = two_stage_log_probs(logits, prev) if self.config.two_stage else torch.log_softmax(logits, dim=-1)
        if not self.config.recall:
            return log_probs
        if recall is None:
            raise ValueError("a network with recall needs the recall weights of its positions")
        return recall_log_probs(log_probs, gate, recall, prev, self.config.two_stage)

    def log_probs(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Log-distribution of the state at every position of ``batch``, shape ``(B, T, K)``, in float32."""
        logits = self(batch["inputs"], batch["covariates"])
        return self.output_log_probs(logits, batch["prev"], self.recall_weights(batch["inputs"]))


def career_loss(
    net: nn.Module, batch: dict[str, torch.Tensor], word_dropout: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted negative log-likelihood of a batch: ``(sum of w * nll, sum of w)``.

    Padding and context rows have weight 0. ``net`` may be wrapped in
    :class:`~torch.nn.parallel.DistributedDataParallel`; its forward is what is
    called, so gradients synchronise.

    With ``word_dropout`` (the reference's ``--word-dropout-mixture``), each
    training batch is, with that probability, computed with a random subset of
    its positions as attention keys (:func:`word_dropout_keys`): every position
    then predicts from the kept earlier positions and its own input only. The
    model so learns to predict from incomplete careers, which rationalization
    needs. Evaluation (``net.eval()``) always sees the whole career.
    """
    core = net.module if hasattr(net, "module") else net
    mask = None
    if word_dropout and net.training and float(torch.rand(())) < word_dropout:
        mask = key_subset_mask(word_dropout_keys(batch["inputs"].shape[1], batch["inputs"].device))
    logits = net(batch["inputs"], batch["covariates"], mask)
    log_probs = core.output_log_probs(logits, batch["prev"], core.recall_weights(batch["inputs"], mask))
    targets = batch["targets"]
    nll = -log_probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    weight = batch["weight"]
    nll = torch.where(weight > 0, nll, torch.zeros_like(nll))  # padding: no -inf * 0
    return (nll * weight).sum(), weight.sum()


def word_dropout_keys(length: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """A random subset of ``length`` positions, shape ``(1, length)``: its size uniform on ``0..length``.

    The same subset serves every sequence of the batch, as in the reference
    (drawn from torch's global generator, which training seeds).
    """
    size = int(torch.randint(0, length + 1, ()))
    keep = torch.zeros(length, dtype=torch.bool)
    keep[torch.randperm(length)[:size]] = True
    return keep[None].to(device)


def aligned_state_dict(
    source: dict[str, np.ndarray],
    source_vocab: CareerVocabulary,
    target_net: CareerNet,
    target_vocab: CareerVocabulary,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Carry pretrained weights over to a network with a different vocabulary.

    States and covariate levels present in both vocabularies keep their
    pretrained rows (job embedding, output layer, covariate tables); new ones
    keep ``target_net``'s fresh initialisation; covariates new to the target
    get fresh tables. The transformer weights are copied as they are.

    Returns
    -------
    state : dict of torch.Tensor
        A full state dict for ``target_net``.
    report : dict
        Counts of shared and new states and levels per input, for the record.
    """
    state = {k: v.detach().clone() for k, v in target_net.state_dict().items()}
    report: dict[str, Any] = {}

    def copy_rows(old_key: str, new_key: str, old_rows: np.ndarray, new_rows: np.ndarray) -> None:
        if len(new_rows):
            rows = torch.as_tensor(source[old_key][old_rows], dtype=state[new_key].dtype)
            state[new_key][torch.as_tensor(new_rows)] = rows

    for key, value in source.items():
        if key.startswith(("job_embedding.", "input_embeddings.", "head.")):
            continue
        if key == "recall_decay" and key not in state:  # (a network without recall drops the pretrained one's)
            continue
        if key not in state or tuple(state[key].shape) != tuple(value.shape):
            raise ValueError(f"pretrained weight {key!r} does not fit the network (shape {value.shape})")
        state[key] = torch.as_tensor(value, dtype=state[key].dtype)

    old_index, new_index = _shared(source_vocab.states, target_vocab.states)
    k_old, k_new = len(source_vocab.states), len(target_vocab.states)
    copy_rows("job_embedding.weight", "job_embedding.weight", np.r_[old_index, k_old], np.r_[new_index, k_new])
    head_old, head_new = old_index, new_index
    if "head.weight" in source:  # the stay and recall-gate rows follow the states' (a new one is fresh)
        old_extra = _extra_head_rows(source["head.weight"].shape[0] - k_old, "recall_decay" in source)
        new_extra = _extra_head_rows(state["head.weight"].shape[0] - k_new, target_net.config.recall)
        rows_old, rows_new = _shared(old_extra, new_extra)
        head_old, head_new = np.r_[old_index, k_old + rows_old], np.r_[new_index, k_new + rows_new]
    copy_rows("head.weight", "head.weight", head_old, head_new)
    report["states"] = {"shared": len(old_index), "new": k_new - len(old_index), "dropped": k_old - len(old_index)}

    source_inputs = {v.name: (i, v) for i, v in enumerate(source_vocab.inputs)}
    for j, vocab in enumerate(target_vocab.inputs):
        if vocab.name not in source_inputs:
            report[vocab.name] = {"shared": 0, "new": len(vocab.levels)}
            continue
        i, old = source_inputs[vocab.name]
        if old.kind != vocab.kind or (vocab.kind == "binned" and old.edges != vocab.edges):
            report[vocab.name] = {"shared": 0, "new": len(vocab.levels), "note": "coding changed"}
            continue
        rows_old, rows_new = _shared(old.levels, vocab.levels)
        copy_rows(f"input_embeddings.{i}.weight", f"input_embeddings.{j}.weight", rows_old + 1, rows_new + 1)
        report[vocab.name] = {"shared": len(rows_old), "new": len(vocab.levels) - len(rows_old)}
    dropped = sorted(set(source_inputs) - set(target_vocab.names))
    if dropped:
        report["dropped_inputs"] = dropped
    return state, report


def _extra_head_rows(count: int, recall: bool) -> list[str]:
    """Names of the output rows after the states': the stay logit (two-stage), then the recall gate."""
    return ["stay"] * (count - int(recall)) + ["recall gate"] * int(recall)


def _shared(old: tuple[str, ...] | list[str], new: tuple[str, ...] | list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the labels common to ``old`` and ``new``, in each."""
    position = {label: i for i, label in enumerate(old)}
    pairs = [(position[label], j) for j, label in enumerate(new) if label in position]
    if not pairs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    old_rows, new_rows = zip(*pairs, strict=True)
    return np.asarray(old_rows, dtype=np.int64), np.asarray(new_rows, dtype=np.int64)
