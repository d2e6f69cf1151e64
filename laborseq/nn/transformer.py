"""A causal pre-LayerNorm transformer decoder, the backbone of CAREER.

Small modules in the style of nanoGPT: multi-head self-attention through
:func:`torch.nn.functional.scaled_dot_product_attention` (flash or
memory-efficient kernels on GPU), a GELU feed-forward block, pre-LayerNorm
residual blocks and a final LayerNorm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class DecoderConfig:
    """Shape of the decoder.

    The defaults are the CAREER architecture (``--arch career`` of the reference):
    12 layers of width 192 with 3 heads of 64 dimensions, a feed-forward inner
    width of 768, GELU, dropout 0.1 on residuals, embeddings and attention
    weights, and no dropout inside the feed-forward block.
    """

    n_layers: int = 12
    d_model: int = 192
    n_heads: int = 3
    d_ff: int = 768
    dropout: float = 0.1
    attn_dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})")
        for name in ("n_layers", "d_model", "n_heads", "d_ff"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("dropout", "attn_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position ``t`` sees positions ``<= t``.

    Right-padded batches need no key-padding mask: a padded key always comes
    after every real query of its sequence, so the causal mask already hides it.
    An explicit boolean ``mask`` (``True``: the query may attend to the key)
    replaces the causal mask; :func:`key_subset_mask` builds the masks of word
    dropout and rationalization.
    """

    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        self.n_heads = config.n_heads
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.out = nn.Linear(config.d_model, config.d_model)
        self.attn_dropout = config.attn_dropout

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        batch, length, width = x.shape
        q, k, v = self.qkv(x).split(width, dim=-1)
        shape = (batch, length, self.n_heads, width // self.n_heads)
        q, k, v = (t.view(shape).transpose(1, 2) for t in (q, k, v))
        dropout = self.attn_dropout if self.training else 0.0
        if x.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            y = _attention(q, k, v, mask, dropout)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout, is_causal=mask is None)
        return self.out(y.transpose(1, 2).reshape(batch, length, width))


def _attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, dropout: float):
    """Masked softmax attention written out, for bf16 autocast on the CPU.

    There ``scaled_dot_product_attention`` runs in float32 (autocast's CPU policy) and keeps float32
    copies of the queries, keys and values for the backward pass; written out, the two products run
    in bfloat16 and only the (short) attention weights are float32.
    """
    length = q.shape[-2]
    scores = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)
    if mask is None:
        mask = torch.ones(length, length, dtype=torch.bool, device=q.device).tril()
    weights = torch.softmax(scores.float().masked_fill(~mask, float("-inf")), dim=-1)
    if dropout:
        weights = dropout_(weights, dropout)
    return weights.to(v.dtype) @ v


def dropout_(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """Inverted dropout (zero each element with probability ``p``, scale the rest by ``1 / (1 - p)``).

    On the CPU the mask comes from 16 random bits per element, drawn 64 at a time (``p`` rounded to a
    multiple of 1/65,536): torch's own dropout draws a double per element there, which took a sixth of
    a CPU training step of CAREER. Elsewhere :func:`torch.nn.functional.dropout`.
    """
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu":
        return F.dropout(x, p, training=True)
    dropped = round(p * 65536)  # 16-bit draws below this are dropped
    n = x.numel()
    bits = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-(2**63), 2**63 - 1)
    keep = bits.view(torch.int16)[:n].view(x.shape) >= dropped - 32768
    return torch.where(keep, x * (65536 / (65536 - dropped)), 0.0)


class Dropout(nn.Module):
    """:func:`dropout_` as a module (active in training mode), a drop-in for :class:`torch.nn.Dropout`."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout_(x, self.p, self.training)


class FeedForward(nn.Module):
    """Position-wise ``Linear -> GELU -> Linear``."""

    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        self.up = nn.Linear(config.d_model, config.d_ff)
        self.down = nn.Linear(config.d_ff, config.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.up(x)))


class Block(nn.Module):
    """Pre-LayerNorm residual block: ``x + drop(attn(ln(x)))``, then ``x + drop(ffn(ln(x)))``."""

    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        self.ln_attn = nn.LayerNorm(config.d_model)
        self.attn = CausalSelfAttention(config)
        self.ln_ffn = nn.LayerNorm(config.d_model)
        self.ffn = FeedForward(config)
        self.drop = Dropout(config.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln_attn(x), mask))
        return x + self.drop(self.ffn(self.ln_ffn(x)))


class Decoder(nn.Module):
    """A stack of :class:`Block` followed by a final LayerNorm."""

    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.ln_final = nn.LayerNorm(config.d_model)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Run the blocks; ``mask`` (see :func:`key_subset_mask`) replaces the causal mask in every layer."""
        for block in self.blocks:
            x = block(x, mask)
        return self.ln_final(x)


def key_subset_mask(keep: torch.Tensor) -> torch.Tensor:
    """Attention mask in which every query sees the kept earlier positions and itself.

    Parameters
    ----------
    keep : torch.Tensor
        Boolean, shape ``(B, T)``: the positions every query may attend to
        (besides itself), per sequence.

    Returns
    -------
    torch.Tensor
        Boolean, shape ``(B, 1, T, T)``: ``True`` where query ``q`` may attend
        to key ``k``, that is ``k <= q`` and (``k`` is kept or ``k == q``).
        Masking the same keys in every layer is the same as running the
        network on the kept positions alone with their original positions,
        which is how word dropout trains and how rationales are scored.
    """
    length = keep.shape[-1]
    causal = torch.ones(length, length, dtype=torch.bool, device=keep.device).tril()
    diagonal = torch.eye(length, dtype=torch.bool, device=keep.device)
    return (causal & (keep[:, None, :] | diagonal))[:, None]


def sinusoidal_positions(length: int, width: int, *, device: torch.device | None = None) -> torch.Tensor:
    """Fixed sinusoidal position encodings, shape ``(length, width)``.

    The first half of the channels are sines and the second half cosines of
    ``position / 10000^(2i / width)``, as in the reference implementation.
    """
    half = width // 2
    frequencies = torch.exp(
        -math.log(10_000.0) * torch.arange(half, device=device, dtype=torch.float32) / max(half - 1, 1)
    )
    angles = torch.arange(length, device=device, dtype=torch.float32)[:, None] * frequencies[None, :]
    encoding = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
    if width % 2:
        encoding = F.pad(encoding, (0, 1))
    return encoding
