"""A plain-torch training loop: AdamW, inverse square-root schedule, token-budget batches, early stopping,
atomic resumable checkpoints, a precision policy (bf16, fp16 with a gradient scaler, fp32), an optional
``torch.compile``, and DistributedDataParallel under ``torchrun``.

The model is anything a ``loss_fn`` can turn a batch into a loss with::

    def loss_fn(module, batch):
        logits = module(batch["tokens"][:, :-1])
        nll = F.cross_entropy(logits.transpose(1, 2), batch["tokens"][:, 1:], reduction="none")
        mask = batch["mask"][:, 1:]
        return (nll * mask).sum(), mask.sum()

    result = train(module, loss_fn, train_source, TrainConfig(max_steps=1000), valid_data=valid_source)
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from laborseq.nn import checkpoint, distributed
from laborseq.nn.accelerator import fused_adamw_available, peak_memory, precision_policy
from laborseq.nn.batching import BatchSource, epoch_batches, token_budget_batches
from laborseq.nn.distributed import DistInfo
from laborseq.nn.progress import TrainingBar
from laborseq.nn.schedule import inverse_sqrt_lr
from laborseq.nn.train_config import TrainConfig, TrainResult, TrainState

LossFn = Callable[[torch.nn.Module, dict[str, torch.Tensor]], tuple[torch.Tensor, torch.Tensor]]
"""``loss_fn(module, batch) -> (sum of per-token NLLs, total token weight)``; the loss is their ratio."""

LAST = "last"
BEST = "best"


def train(
    module: torch.nn.Module,
    loss_fn: LossFn,
    train_data: BatchSource,
    config: TrainConfig,
    *,
    valid_data: BatchSource | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = True,
    metadata: dict[str, Any] | None = None,
    callback: Callable[[TrainState], None] | None = None,
) -> TrainResult:
    """Train ``module`` to minimise ``loss_fn`` on ``train_data``.

    Each step draws a token-budget batch, computes ``sum_nll / normaliser`` with
    :data:`LossFn`, and makes one AdamW step with the learning rate of
    :func:`~laborseq.nn.schedule.inverse_sqrt_lr`. Under ``torchrun`` the module
    is wrapped in ``DistributedDataParallel``, every rank takes its share of each
    epoch's batches (see :func:`~laborseq.nn.distributed.shard_batches`), and the
    normaliser is the sum over ranks, so a step follows the gradient of the
    pooled batches' mean loss exactly as one process seeing all of them would.

    Parameters
    ----------
    module : torch.nn.Module
        The model; moved to the training device and trained in place.
    loss_fn : LossFn
        ``loss_fn(model, batch) -> (sum_nll, normaliser)``. In training it gets the
        ``DistributedDataParallel`` wrapper under DDP, so it must call the model
        (``model(...)``) rather than reach into its attributes
        (:func:`~laborseq.nn.distributed.unwrap` gives the bare module); in
        evaluation it gets the bare module.
    train_data, valid_data : BatchSource
        Training and (optional) validation sequences.
    config : TrainConfig
        Hyper-parameters.
    checkpoint_dir : path-like, optional
        Where to write ``last/`` (resumable: weights, optimizer, trainer state) and
        ``best/`` (the weights with the lowest validation loss). Only rank 0 writes.
    resume : bool
        Continue from ``checkpoint_dir/last`` if it exists. The resumed run makes
        the same updates on the same batches as an uninterrupted one.
    metadata : dict, optional
        JSON-serializable information stored in every checkpoint (e.g. the
        model's configuration and vocabularies).
    callback : callable, optional
        Called with the :class:`TrainState` after every step (and after that
        step's evaluation and checkpoint), on every rank. Do not modify the state.

    Returns
    -------
    TrainResult
        With validation data the module ends holding the **best** weights (lowest
        validation loss, ties going to the earlier step), not the last ones; the
        last ones are in ``checkpoint_dir/last``. Without validation data it holds
        the last weights.
    """
    if config.max_steps is None and config.max_epochs is None and (config.patience is None or valid_data is None):
        raise ValueError("train: set max_steps or max_epochs (or patience, with valid_data) so that training ends")
    info, device = distributed.setup(config.device)
    try:
        return _train(
            module, loss_fn, train_data, config, info, device, valid_data, checkpoint_dir, resume, metadata, callback
        )
    finally:
        distributed.teardown(info)


def _train(
    module: torch.nn.Module,
    loss_fn: LossFn,
    train_data: BatchSource,
    config: TrainConfig,
    info: DistInfo,
    device: torch.device,
    valid_data: BatchSource | None,
    checkpoint_dir: str | os.PathLike[str] | None,
    resume: bool,
    metadata: dict[str, Any] | None,
    callback: Callable[[TrainState], None] | None,
) -> TrainResult:
    torch.manual_seed(config.seed + info.rank)
    module.to(device)
    module.train()
    policy = precision_policy(config.precision, device)
    optimizer = torch.optim.AdamW(
        module.parameters(),
        lr=config.lr,
        betas=config.betas,
        eps=config.eps,
        weight_decay=config.weight_decay,
        **({"fused": True} if fused_adamw_available(device) else {}),
    )
    scaler = policy.grad_scaler()
    block = getattr(train_data, "batch_block", None)  # a source on disk batches block by block, lazily
    lengths = train_data.lengths()
    if block is None or block >= len(lengths):  # one packing of the whole data: read the lengths once
        lengths = np.asarray(lengths)
    first_epoch = epoch_batches(lengths, config.max_tokens, seed=config.seed, epoch=0, block=block)
    n_batches = len(distributed.shard_batches(first_epoch, info))
    if n_batches == 0:
        raise ValueError("train: the training data has no sequences")

    plan = {"sequences": len(lengths), "block": block, "batches": n_batches}  # what the batch order depends on
    ckpt_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    state, best_weights = TrainState(), None
    if ckpt_dir is not None and resume:
        if info.is_main:
            checkpoint.recover_interrupted(ckpt_dir / LAST)
        distributed.barrier(info)
        if (ckpt_dir / LAST).exists():
            state, best_weights = _restore(ckpt_dir, module, optimizer, scaler, config, info, device, plan)
    state.precision = f"{policy.name} ({policy.reason})"
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)  # this run's peak, not an earlier run's in the process
    compiled = torch.compile(module, dynamic=True) if config.compile else module
    model = distributed.wrap(compiled, info, device)

    def save(best: bool) -> None:
        rng = distributed.all_gather_objects(_rng_state(device), info)
        if info.is_main:
            trainer = {**state.to_dict(), "world_size": info.world_size, "rng": rng, "plan": plan}
            if scaler is not None:
                trainer["grad_scaler"] = scaler.state_dict()
            common = {"train_config": config.to_dict(), "metadata": metadata}
            checkpoint.save_checkpoint(ckpt_dir / LAST, module, optimizer=optimizer, trainer=trainer, **common)
            if best:
                checkpoint.save_checkpoint(ckpt_dir / BEST, module, trainer=_best_summary(state), **common)
        distributed.barrier(info)

    autocast = policy.autocast()
    bar = TrainingBar(config, state, n_batches, enabled=config.progress and info.is_main)
    start, start_tokens = time.perf_counter() - state.elapsed, state.tokens
    run_start = time.perf_counter()

    try:
        stopped = _stop_reason(state, config)
        while stopped is None:
            if state.epoch == 0 and first_epoch is not None:  # planned above already
                planned = first_epoch
            else:
                planned = epoch_batches(lengths, config.max_tokens, seed=config.seed, epoch=state.epoch, block=block)
            first_epoch = None
            batches = distributed.shard_batches(planned, info)
            if state.position >= len(batches):  # pragma: no cover - guarded by the plan check of _restore
                raise RuntimeError(f"train: batch {state.position} of an epoch of {len(batches)}")
            for position in range(state.position, len(batches)):
                index = batches[position]
                state.lr = inverse_sqrt_lr(
                    state.step, lr=config.lr, warmup_steps=config.warmup_steps, warmup_init_lr=config.warmup_init_lr
                )
                for group in optimizer.param_groups:
                    group["lr"] = state.lr
                batch = train_data.collate(index, device)
                n_tokens = int(lengths[index].sum())
                nll, weight, tokens = _train_step(
                    model, loss_fn, batch, n_tokens, optimizer, config.clip_norm, autocast, scaler, info
                )
                state.step += 1
                state.position += 1
                state.tokens += tokens
                state.loss = nll / max(weight, sys.float_info.min)
                state.train_nll += nll
                state.train_weight += weight
                end_of_epoch = state.position == len(batches)
                if end_of_epoch:
                    state.epoch += 1
                    state.position = 0
                state.elapsed = time.perf_counter() - start

                stopped = _stop_reason(state, config)
                due = end_of_epoch if config.eval_every is None else state.step % config.eval_every == 0
                improved = False
                if due or stopped is not None:
                    improved = _evaluate_and_log(model, loss_fn, valid_data, config, state, n_batches)
                    if improved:
                        best_weights = _copy_state(module)
                    stopped = _stop_reason(state, config)
                if ckpt_dir is not None and (
                    improved
                    or stopped is not None
                    or (state.step % config.checkpoint_every == 0 if config.checkpoint_every else due)
                ):
                    save(best=improved)

                rate = (state.tokens - start_tokens) / max(time.perf_counter() - run_start, 1e-9)
                bar.step(state, evaluated=due or stopped is not None, tokens_per_second=rate)
                if callback is not None:
                    callback(state)
                if stopped is not None:
                    break
    finally:
        bar.close(finished=stopped is not None)

    if best_weights is not None:
        module.load_state_dict(best_weights)
    seconds = state.elapsed
    return TrainResult(
        steps=state.step,
        epochs=state.epoch + state.position / n_batches,
        tokens=state.tokens,
        seconds=seconds,
        tokens_per_second=state.tokens / seconds if seconds > 0 else 0.0,
        best_step=state.best_step,
        best_valid_loss=state.best_valid_loss,
        stopped=stopped,
        history=state.history,
        peak_memory_bytes=peak_memory(device),
        precision=state.precision,
    )


def _train_step(
    model: torch.nn.Module,
    loss_fn: LossFn,
    batch: dict[str, torch.Tensor],
    tokens: int,
    optimizer: torch.optim.Optimizer,
    clip_norm: float | None,
    autocast: AbstractContextManager,
    scaler: torch.amp.GradScaler | None,
    info: DistInfo,
) -> tuple[float, float, int]:
    """One optimizer step; returns the pooled (over ranks) NLL sum, token weight and token count.

    With a gradient scaler (fp16) the loss is scaled before the backward pass and
    the gradients unscaled before clipping; a step with overflowing gradients is skipped.
    """
    optimizer.zero_grad(set_to_none=True)  # the last step's gradients go before this forward pass
    with autocast:
        sum_nll, weight = loss_fn(model, batch)
    sum_nll = sum_nll.float()
    weight = torch.as_tensor(weight, device=sum_nll.device)
    totals = torch.stack([sum_nll.detach().double(), weight.detach().double()])
    totals = distributed.all_reduce_sum(torch.cat([totals, totals.new_tensor([tokens])]), info)
    # DDP averages gradients over ranks; scaling by world_size makes the result the gradient of
    # (sum over ranks of sum_nll) / (sum over ranks of weight).
    scale = info.world_size / totals[1].clamp_min(torch.finfo(torch.float64).tiny).float()
    loss = sum_nll * scale
    if scaler is None:
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        if clip_norm is not None:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        scaler.step(optimizer)
        scaler.update()
    nll, weight_total, token_total = totals.tolist()
    return nll, weight_total, int(token_total)


@torch.no_grad()
def evaluate(
    module: torch.nn.Module, loss_fn: LossFn, data: BatchSource, *, max_tokens: int = 16_000, precision: str = "auto"
) -> float:
    """Mean negative log-likelihood per unit of token weight over all of ``data``.

    Runs ``module`` in eval mode (then restores its mode) on token-budget batches
    in length order. Under an initialized process group the batches are split
    over ranks and the sums pooled, so every rank gets the loss of the whole data.

    Parameters
    ----------
    module : torch.nn.Module
        The model (a ``DistributedDataParallel`` wrapper is unwrapped); batches go to its device.
    loss_fn : LossFn
        As in :func:`train`.
    data : BatchSource
        Sequences to score.
    max_tokens : int
        Padded-token budget of a batch.
    precision : {"auto", "bf16", "fp16", "fp32"}
        As in :class:`TrainConfig`.
    """
    module = distributed.unwrap(module)
    info = distributed.current()
    device = next(module.parameters()).device
    batches = token_budget_batches(np.asarray(data.lengths()), max_tokens, shuffle=False, rng=None)
    was_training = module.training
    module.eval()
    totals = torch.zeros(2, dtype=torch.float64, device=device)
    with precision_policy(precision, device).autocast():
        for index in distributed.shard_batches(batches, info, pad=False):
            sum_nll, weight = loss_fn(module, data.collate(index, device))
            totals[0] += sum_nll.double()
            totals[1] += torch.as_tensor(weight, device=device).double()
    module.train(was_training)
    nll, weight = distributed.all_reduce_sum(totals, info).tolist()
    if weight <= 0:
        raise ValueError("evaluate: the data has no token weight")
    return nll / weight


def _evaluate_and_log(
    model: torch.nn.Module,
    loss_fn: LossFn,
    valid_data: BatchSource | None,
    config: TrainConfig,
    state: TrainState,
    n_batches: int,
) -> bool:
    """Evaluate, append to the history and update the best loss; returns whether it improved."""
    if state.last_eval_step == state.step:
        return False
    valid_loss = None
    if valid_data is not None:
        valid_loss = evaluate(model, loss_fn, valid_data, max_tokens=config.max_tokens, precision=config.precision)
    previous = state.history[-1] if state.history else {"tokens": 0, "elapsed": 0.0}
    seconds = state.elapsed - previous["elapsed"]
    state.history.append(
        {
            "step": state.step,
            "epoch": state.epoch + state.position / n_batches,
            "train_loss": state.train_nll / state.train_weight if state.train_weight > 0 else None,
            "valid_loss": valid_loss,
            "lr": state.lr,
            "tokens": state.tokens,
            "tokens_per_second": (state.tokens - previous["tokens"]) / seconds if seconds > 0 else None,
            "elapsed": state.elapsed,
        }
    )
    state.train_nll = state.train_weight = 0.0
    state.last_eval_step = state.step
    if valid_loss is None:
        return False
    if state.best_valid_loss is None or valid_loss < state.best_valid_loss:
        state.best_valid_loss, state.best_step = valid_loss, state.step
        state.evals_since_improvement = 0
        return True
    state.evals_since_improvement += 1
    return False


def _stop_reason(state: TrainState, config: TrainConfig) -> str | None:
    if config.patience is not None and state.best_step is not None and state.evals_since_improvement >= config.patience:
        return "early_stopping"
    if config.max_steps is not None and state.step >= config.max_steps:
        return "max_steps"
    if config.max_epochs is not None and state.epoch >= config.max_epochs:
        return "max_epochs"
    return None


def _restore(
    ckpt_dir: Path,
    module: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    config: TrainConfig,
    info: DistInfo,
    device: torch.device,
    plan: dict[str, Any],
) -> tuple[TrainState, dict[str, torch.Tensor] | None]:
    """Load ``ckpt_dir/last`` into the module and optimizer; return the trainer state and the best weights.

    ``plan`` (the number of sequences, the batch block and the batches per epoch) must match the
    checkpoint's, or the resumed run would take other batches than the interrupted one.
    """
    last = checkpoint.load_checkpoint(ckpt_dir / LAST)
    source = ckpt_dir / LAST / checkpoint.MODEL
    trainer = dict(last.config.get("trainer") or {})
    saved = last.config.get("train_config") or {}
    world_size, rng = trainer.pop("world_size", 1), trainer.pop("rng", None)
    scaler_state = trainer.pop("grad_scaler", None)
    saved_plan = trainer.pop("plan", None)
    changed = [k for k in ("seed", "max_tokens") if saved.get(k) != getattr(config, k)]
    if saved_plan is None and trainer.get("position", 0) > 0:
        changed.append("the batch plan (the checkpoint predates plan records)")
    elif saved_plan is not None and saved_plan != plan:
        changed.append(f"the batch plan ({saved_plan} -> {plan})")
    if world_size != info.world_size:
        changed.append(f"world size ({world_size} -> {info.world_size})")
    if changed or last.optimizer is None:
        raise ValueError(
            f"cannot resume from {ckpt_dir / LAST}: "
            + (f"{', '.join(changed)} changed, so the data order differs" if changed else "it has no optimizer state")
            + "; pass resume=False or another checkpoint_dir"
        )
    checkpoint.check_state_dict(last.model, module, source=source)
    module.load_state_dict(last.model)
    optimizer.load_state_dict(last.optimizer)
    if scaler is not None and scaler_state is not None:
        scaler.load_state_dict(scaler_state)
    state = TrainState.from_dict(trainer)
    if rng is not None:
        _set_rng_state(rng[info.rank], device)

    best_weights = None
    if state.best_step == state.step:
        best_weights = _copy_state(module)
    elif state.best_step is not None:
        best = checkpoint.load_checkpoint(ckpt_dir / BEST)
        if (best.config.get("trainer") or {}).get("step") != state.best_step:
            raise ValueError(
                f"{ckpt_dir / BEST} does not hold the weights of step {state.best_step} recorded in {ckpt_dir / LAST}"
            )
        checkpoint.check_state_dict(best.model, module, source=ckpt_dir / BEST / checkpoint.MODEL)
        best_weights = best.model
    return state, best_weights


def _best_summary(state: TrainState) -> dict[str, Any]:
    return {"step": state.step, "epoch": state.epoch, "position": state.position, "valid_loss": state.best_valid_loss}


def _copy_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}


def _rng_state(device: torch.device) -> dict[str, list[int] | None]:
    cuda = torch.cuda.get_rng_state(device).tolist() if device.type == "cuda" else None
    return {"torch": torch.get_rng_state().tolist(), "cuda": cuda}


def _set_rng_state(state: dict[str, list[int] | None], device: torch.device) -> None:
    torch.set_rng_state(torch.tensor(state["torch"], dtype=torch.uint8))
    if state.get("cuda") is not None and device.type == "cuda":
        torch.cuda.set_rng_state(torch.tensor(state["cuda"], dtype=torch.uint8), device)
