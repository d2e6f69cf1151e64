"""Incremental decoding of CAREER for forecasts: each simulated year costs one step, not a rerun of the history.

A forecast simulates ``S`` careers (samples) for each of ``P`` persons. The
observed history of a person is the same for all of their samples, so it is
run through the network once per person (:func:`prefill`), keeping every
layer's attention keys and values. Each simulated year then adds one token per
path (:meth:`CareerStepper.step`): its query attends to the person's shared
history keys and to the path's own earlier simulated keys, with no copy of
the history per sample (the attention scores broadcast over samples).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from laborseq.nn.career_net import CareerNet
from laborseq.nn.encoding import CareerVocabulary
from laborseq.panel import CareerPanel


@dataclass
class HistoryCache:
    """Keys and values of every layer for the persons' observed histories.

    Attributes
    ----------
    keys, values : list of torch.Tensor
        One ``(P, H, L, d_head)`` tensor per layer (histories right-padded to ``L``).
    lengths : torch.Tensor
        History length (tokens) of every person, shape ``(P,)``.
    """

    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    lengths: torch.Tensor


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
    return HistoryCache(keys, values, lengths)


@dataclass
class PathCache:
    """Keys and values of the paths' own simulated tokens, per layer, in preallocated growing buffers.

    Attributes
    ----------
    keys, values : list of torch.Tensor
        One ``(P, S, H, capacity, d_head)`` buffer per layer.
    length : int
        Tokens stored so far (the first ``length`` slots of every buffer are filled).
    """

    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    length: int = 0

    @classmethod
    def empty(
        cls, n_layers: int, shape: tuple[int, int, int, int], device: torch.device, capacity: int = 8
    ) -> PathCache:
        """Buffers for ``n_layers`` layers of paths of ``shape = (P, S, H, d_head)``."""
        p, s, h, d = shape

        def buffers() -> list[torch.Tensor]:
            return [torch.empty((p, s, h, capacity, d), device=device) for _ in range(n_layers)]

        return cls(buffers(), buffers())

    def write(self, layer: int, key: torch.Tensor, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store the new token of ``layer`` (``(P, S, H, d_head)``) and return all of the layer's tokens so far."""
        if self.length == self.keys[layer].shape[3]:  # full: double the capacity (amortised O(1) per token)
            self.keys[layer] = torch.cat([self.keys[layer], torch.empty_like(self.keys[layer])], dim=3)
            self.values[layer] = torch.cat([self.values[layer], torch.empty_like(self.values[layer])], dim=3)
        self.keys[layer][:, :, :, self.length] = key
        self.values[layer][:, :, :, self.length] = value
        end = self.length + 1
        return self.keys[layer][:, :, :, :end], self.values[layer][:, :, :, :end]


@torch.no_grad()
def decode_step(net: CareerNet, cache: HistoryCache, own: PathCache, x: torch.Tensor) -> torch.Tensor:
    """One new token for every path; returns the output logits, shape ``(P, S, K + 1)``.

    Parameters
    ----------
    net : CareerNet
        The network (in eval mode).
    cache : HistoryCache
        Keys and values of the persons' histories.
    own : PathCache
        The paths' own earlier simulated keys and values; the new token is added.
    x : torch.Tensor
        Input vectors of the new tokens, ``(P, S, d)``, or ``(P, 1, d)`` when every
        sample of a person has the same token (written to all of ``own``'s samples).
    """
    n_persons, n_samples, width = x.shape
    history_mask = torch.arange(cache.keys[0].shape[2], device=x.device)[None, :] >= cache.lengths[:, None]
    for layer, block in enumerate(net.decoder.blocks):
        attn = block.attn
        n_heads = attn.n_heads
        q, k, v = attn.qkv(block.ln_attn(x)).split(width, dim=-1)
        q, k, v = (t.view(n_persons, n_samples, n_heads, width // n_heads) for t in (q, k, v))
        own_keys, own_values = own.write(layer, k, v)  # with one query per person (S = 1), k fills every sample
        own_keys, own_values = own_keys[:, :n_samples], own_values[:, :n_samples]
        scale = q.shape[-1] ** -0.5
        scores_history = torch.einsum("pshd,phld->pshl", q, cache.keys[layer]) * scale
        scores_history = scores_history.masked_fill(history_mask[:, None, None, :], float("-inf"))
        scores_own = torch.einsum("pshd,pshkd->pshk", q, own_keys) * scale
        weights = torch.softmax(torch.cat([scores_history, scores_own], dim=-1), dim=-1)
        w_history, w_own = weights.split([scores_history.shape[-1], scores_own.shape[-1]], dim=-1)
        y = torch.einsum("pshl,phld->pshd", w_history, cache.values[layer])
        y = y + torch.einsum("pshk,pshkd->pshd", w_own, own_values)
        x = x + attn.out(y.reshape(n_persons, n_samples, width))
        x = x + block.ffn(block.ln_ffn(x))
    own.length += 1
    return net.head(net.decoder.ln_final(x))


class CareerStepper:
    """Forecast stepper of a CAREER network (see :class:`laborseq.models.stepper.Stepper`).

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
    """

    def __init__(
        self, net: CareerNet, vocabulary: CareerVocabulary, history: CareerPanel, n_samples: int, device: torch.device
    ) -> None:
        self.net = net.to(device).eval()
        self.vocabulary = vocabulary
        self.n_samples = n_samples
        self.device = device
        data = vocabulary.encode(history)
        lengths = data.lengths()
        self.n_persons = len(lengths)
        batch = data.collate(np.arange(self.n_persons), device)
        self.cache = prefill(self.net, batch["inputs"], batch["covariates"], torch.as_tensor(lengths, device=device))
        last_rows = data.offsets[1:] - 1
        self.last_state = torch.as_tensor(data.states[last_rows], device=device).repeat_interleave(n_samples)
        self.last_year = np.repeat(history.data["year"].to_numpy(dtype=np.int64)[last_rows], n_samples)
        self.position = torch.as_tensor(lengths, device=device).repeat_interleave(n_samples)
        n_heads = net.config.decoder.n_heads
        shape = (self.n_persons, n_samples, n_heads, net.config.decoder.d_model // n_heads)
        self.own = PathCache.empty(len(self.cache.keys), shape, device)
        self._pending_year: int | None = None

    @torch.no_grad()
    def step(self, year: int, covariates: pd.DataFrame) -> np.ndarray:
        """Distribution of every path's state in ``year`` given the covariates of that year (one row per path)."""
        n_paths = self.n_persons * self.n_samples
        if self._pending_year is not None:
            raise RuntimeError(f"step: the paths of {self._pending_year} were not appended yet")
        if len(covariates) != n_paths:
            raise ValueError(f"step: {len(covariates)} covariate rows for {n_paths} paths")
        codes = torch.as_tensor(self._encode(year, covariates), device=self.device)
        x = self.net.embed(self.last_state, codes, positions=self.position)
        x = x.view(self.n_persons, self.n_samples, -1)
        per_person = codes.view(self.n_persons, self.n_samples, -1)
        # the first simulated year: all samples of a person share their history (and usually their covariates)
        if self.own.length == 0 and bool((per_person == per_person[:, :1]).all()):
            logits = decode_step(self.net, self.cache, self.own, x[:, :1]).expand(-1, self.n_samples, -1)
        else:
            logits = decode_step(self.net, self.cache, self.own, x)
        log_probs = self.net.output_log_probs(logits.reshape(n_paths, -1), self.last_state)
        self._pending_year = year
        proba = log_probs.exp().double().cpu().numpy()
        return proba / proba.sum(axis=1, keepdims=True)

    def _encode(self, year: int, covariates: pd.DataFrame) -> np.ndarray:
        """Input codes of every path, encoding each distinct (covariates, gap) row once."""
        gaps = year - self.last_year
        frame = covariates.reset_index(drop=True).assign(_gap=gaps)
        group = frame.groupby(list(frame.columns), dropna=False, sort=False, observed=True).ngroup().to_numpy()
        _, first = np.unique(group, return_index=True)
        years = np.full(len(first), year, dtype=np.int64)
        return self.vocabulary.encode_rows(frame.iloc[first], years, gaps[first])[group]

    def append(self, states: np.ndarray) -> None:
        """Extend every path with its state in the year of the last :meth:`step`."""
        if self._pending_year is None:
            raise RuntimeError("append: call step(year, covariates) first")
        self.last_state = torch.as_tensor(np.asarray(states, dtype=np.int64), device=self.device)
        self.last_year = np.full_like(self.last_year, self._pending_year)
        self.position = self.position + 1
        self._pending_year = None
