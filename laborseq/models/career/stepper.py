"""Incremental decoding of CAREER for forecasts: each distinct simulated prefix is decoded once.

A forecast simulates ``S`` careers (samples) for each of ``P`` persons. The
observed history of a person is the same for all of their samples, so it is
run through the network once per person (:func:`prefill`), keeping every
layer's attention keys and values. Each simulated year then adds one token per
*distinct prefix*: the samples of a person that have drawn the same states so
far (and have the same covariates) share their computation. The prefixes form
a tree, one :class:`PrefixLevel` per simulated year; a new node attends to its
person's history keys and to the keys of its ancestors, and its predicted
distribution is one row of the table that :meth:`CareerStepper.step_indexed`
returns, looked up by every path that ends in it.

On survey panels most paths share their prefixes for years (most persons stay
in their occupation), so a forecast of 1,000 samples decodes a few percent of
the path-years a per-path decoder would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from laborseq._util.rows import distinct_rows
from laborseq.nn.accelerator import inference_policy
from laborseq.nn.career_net import CareerNet
from laborseq.nn.encoding import CareerVocabulary
from laborseq.panel import CareerPanel

GATHER_BYTES = 64 * 2**20
"""Nodes decoded at once: their gathered history keys and values stay within about this many bytes."""


@dataclass
class HistoryCache:
    """Keys and values of every layer for the persons' observed histories.

    Attributes
    ----------
    keys, values : list of torch.Tensor
        One ``(P, H, L, d_head)`` tensor per layer (histories right-padded to ``L``).
    lengths : torch.Tensor
        History length (tokens) of every person, shape ``(P,)``.
    recall : torch.Tensor or None
        A network with recall: the recall weights at every person's last history token, ``(P, K)``.
    """

    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    lengths: torch.Tensor
    recall: torch.Tensor | None = None


@dataclass
class PrefixLevel:
    """The distinct simulated prefixes (nodes) of one forecast year.

    Attributes
    ----------
    parent : torch.Tensor
        Index of every node's parent in the previous level (in the first level: its person), ``(N,)``.
    person : torch.Tensor
        Person of every node, ``(N,)``; nodes are sorted by person.
    keys, values : list of torch.Tensor
        One ``(N, H, d_head)`` tensor per layer: the node's own token.
    recall : torch.Tensor or None
        A network with recall: the recall weights at the node's token, ``(N, K)`` (kept for the last level only).
    """

    parent: torch.Tensor
    person: torch.Tensor
    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    recall: torch.Tensor | None = None


def _heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """``(..., T, d)`` to ``(..., H, T, d / H)``."""
    *lead, length, width = x.shape
    return x.view(*lead, length, n_heads, width // n_heads).transpose(-3, -2)


@torch.no_grad()
def prefill(net: CareerNet, inputs: torch.Tensor, covariates: torch.Tensor, lengths: torch.Tensor) -> HistoryCache:
    """Run the histories through the network and keep every layer's keys and values.

    Parameters
    ----------
    net : CareerNet
        The network (in eval mode).
    inputs, covariates : torch.Tensor
        Right-padded history batch: ``(P, L)`` tokens and ``(P, L, C)`` input codes.
    lengths : torch.Tensor
        Real length of every history.
    """
    x = net.embed(inputs, covariates)
    keys, values = [], []
    for block in net.decoder.blocks:
        attn = block.attn
        q, k, v = attn.qkv(block.ln_attn(x)).split(x.shape[-1], dim=-1)
        q, k, v = (_heads(t, attn.n_heads) for t in (q, k, v))
        keys.append(k)
        values.append(v)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + attn.out(y.transpose(1, 2).reshape(x.shape))
        x = x + block.ffn(block.ln_ffn(x))
    recall = net.recall_weights(inputs)
    if recall is not None:
        recall = recall[torch.arange(len(lengths), device=recall.device), lengths - 1]
    return HistoryCache(keys, values, lengths, recall)


def ancestors(levels: list[PrefixLevel], parent: torch.Tensor) -> list[torch.Tensor]:
    """Index of each new node's ancestor in every stored level (oldest first), given its ``parent`` in the last."""
    chain = [parent]
    for level in reversed(levels[1:]):
        chain.append(level.parent[chain[-1]])
    return chain[::-1]


@torch.no_grad()
def decode_nodes(
    net: CareerNet, cache: HistoryCache, levels: list[PrefixLevel], x: torch.Tensor, new: PrefixLevel
) -> torch.Tensor:
    """One new token per node: fill ``new``'s keys and values and return the output logits, ``(N, K + 1)``.

    Parameters
    ----------
    net : CareerNet
        The network (in eval mode).
    cache : HistoryCache
        Keys and values of the persons' histories.
    levels : list of PrefixLevel
        The earlier simulated years' nodes.
    x : torch.Tensor
        Input vectors of the new nodes, ``(N, d)``.
    new : PrefixLevel
        The new nodes (``parent`` and ``person`` set; their keys and values are written here).
    """
    n_nodes, width = x.shape
    blocks = net.decoder.blocks
    n_heads = blocks[0].attn.n_heads if len(blocks) else 1
    d_head = width // n_heads
    new.keys = [x.new_empty((n_nodes, n_heads, d_head)) for _ in blocks]
    new.values = [x.new_empty((n_nodes, n_heads, d_head)) for _ in blocks]
    chain = ancestors(levels, new.parent) if levels else []
    history_length = cache.keys[0].shape[2] if len(blocks) else 0
    per_node = max(1, 2 * n_heads * history_length * d_head * x.element_size())
    chunk = max(256, GATHER_BYTES // per_node)
    out = []
    for lo in range(0, n_nodes, chunk):
        hi = min(n_nodes, lo + chunk)
        person = new.person[lo:hi]
        own = [index[lo:hi] for index in chain]
        lengths = cache.lengths[person]
        history_mask = torch.arange(history_length, device=x.device)[None, :] >= lengths[:, None]
        h = x[lo:hi]
        for layer, block in enumerate(blocks):
            attn = block.attn
            q, k, v = attn.qkv(block.ln_attn(h)).split(width, dim=-1)
            q, k, v = (t.reshape(hi - lo, n_heads, d_head) for t in (q, k, v))
            new.keys[layer][lo:hi] = k
            new.values[layer][lo:hi] = v
            own_keys = torch.stack([lv.keys[layer][i] for lv, i in zip(levels, own, strict=True)] + [k], dim=2)
            own_values = torch.stack([lv.values[layer][i] for lv, i in zip(levels, own, strict=True)] + [v], dim=2)
            history_keys = cache.keys[layer].index_select(0, person)
            history_values = cache.values[layer].index_select(0, person)
            scale = d_head**-0.5
            scores_history = torch.einsum("nhd,nhld->nhl", q, history_keys) * scale
            scores_history = scores_history.masked_fill(history_mask[:, None, :], float("-inf"))
            scores_own = torch.einsum("nhd,nhkd->nhk", q, own_keys) * scale
            weights = torch.softmax(torch.cat([scores_history, scores_own], dim=-1), dim=-1)
            w_history, w_own = weights.split([history_length, own_keys.shape[2]], dim=-1)
            y = torch.einsum("nhl,nhld->nhd", w_history, history_values)
            y = y + torch.einsum("nhk,nhkd->nhd", w_own, own_values)
            h = h + attn.out(y.reshape(hi - lo, width))
            h = h + block.ffn(block.ln_ffn(h))
        out.append(net.head(net.decoder.ln_final(h)))
    return torch.cat(out) if out else x.new_zeros((0, net.head.out_features))


class CareerStepper:
    """Forecast stepper of a CAREER network (an :class:`~laborseq.models.stepper.IndexedStepper`).

    Parameters
    ----------
    net : CareerNet
        The fitted network.
    vocabulary : CareerVocabulary
        Its vocabulary.
    history : CareerPanel
        The observed rows of the persons to forecast (all rows are history).
    n_samples : int
        Paths per person; paths are person-major.
    device : torch.device
        Where to compute.
    precision : str, default "auto"
        The model's training precision; the forecast runs in :func:`~laborseq.nn.accelerator.inference_policy`
        (fp32 on the CPU).

    Notes
    -----
    :meth:`step_indexed` returns a new table every year (one row per distinct prefix of that year), so
    :attr:`table_grows` is ``False``.
    """

    table_grows = False

    def __init__(
        self,
        net: CareerNet,
        vocabulary: CareerVocabulary,
        history: CareerPanel,
        n_samples: int,
        device: torch.device,
        precision: str = "auto",
    ) -> None:
        self.net = net.to(device).eval()
        self.vocabulary = vocabulary
        self.n_samples = n_samples
        self.device = device
        self.policy = inference_policy(precision, device)
        data = vocabulary.encode(history)
        lengths = data.lengths()
        self.n_persons = len(lengths)
        batch = data.collate(np.arange(self.n_persons), device)
        with self.policy.autocast():
            self.cache = prefill(
                self.net, batch["inputs"], batch["covariates"], torch.as_tensor(lengths, device=device)
            )
        self.lengths = torch.as_tensor(lengths, device=device)
        last_rows = data.offsets[1:] - 1
        self.last_state = np.repeat(data.states[last_rows].astype(np.int64), n_samples)
        self.last_year = np.repeat(history.data["year"].to_numpy(dtype=np.int64)[last_rows], n_samples)
        self.node = np.repeat(np.arange(self.n_persons, dtype=np.int64), n_samples)  # level 0: the person
        self.levels: list[PrefixLevel] = []
        self._pending_year: int | None = None

    def step(self, year: int, covariates: pd.DataFrame) -> np.ndarray:
        """Distribution of every path's state in ``year`` (one covariate row per path), ``(n_paths, K)``."""
        table, index = self.step_indexed(year, covariates)
        return table[index]

    @torch.no_grad()
    def step_indexed(self, year: int, covariates: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``(table, index)``: the distribution of each distinct prefix in ``year`` and the prefix of every path."""
        n_paths = self.n_persons * self.n_samples
        if self._pending_year is not None:
            raise RuntimeError(f"step: the paths of {self._pending_year} were not appended yet")
        if len(covariates) != n_paths:
            raise ValueError(f"step: {len(covariates)} covariate rows for {n_paths} paths")
        group, codes = self._encode(year, covariates)
        first, index = distinct_rows([self.node, self.last_state, group])
        parent = torch.as_tensor(self.node[first], device=self.device)
        person = parent if not self.levels else self.levels[-1].person[parent]
        new = PrefixLevel(parent, person, [], [])
        last = torch.as_tensor(self.last_state[first], device=self.device)
        positions = self.lengths[person] + len(self.levels)
        node_codes = torch.as_tensor(codes[group[first]], device=self.device)
        with self.policy.autocast():
            x = self.net.embed(last, node_codes, positions=positions)
            logits = decode_nodes(self.net, self.cache, self.levels, x, new)
        if self.net.config.recall:  # the node's token (its parent's last state) joins its parent's weights
            parent_recall = self.levels[-1].recall if self.levels else self.cache.recall
            held = F.one_hot(last, len(self.vocabulary.states))
            new.recall = parent_recall[parent] * torch.exp(-self.net.decay()) + held
            if self.levels:
                self.levels[-1].recall = None
        self.levels.append(new)
        self.node = index
        self._pending_year = year
        proba = self.net.output_log_probs(logits, last, new.recall).exp().double().cpu().numpy()
        return proba / proba.sum(axis=1, keepdims=True), index

    def _encode(self, year: int, covariates: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Group of every path's (covariates, gap) row and the input codes of each group."""
        gaps = year - self.last_year
        frame = covariates.reset_index(drop=True).assign(_gap=gaps)
        group = frame.groupby(list(frame.columns), dropna=False, sort=False, observed=True).ngroup().to_numpy()
        _, first = np.unique(group, return_index=True)
        years = np.full(len(first), year, dtype=np.int64)
        return group.astype(np.int64), self.vocabulary.encode_rows(frame.iloc[first], years, gaps[first])

    def append(self, states: np.ndarray) -> None:
        """Extend every path with its state in the year of the last :meth:`step_indexed`."""
        if self._pending_year is None:
            raise RuntimeError("append: call step(year, covariates) first")
        self.last_state = np.asarray(states, dtype=np.int64)
        self.last_year = np.full_like(self.last_year, self._pending_year)
        self._pending_year = None
