"""Data-parallel training helpers: torchrun detection, process group, DDP wrapping and batch sharding.

A single process is "world size 1, rank 0" and every helper here is a no-op
for it, so the training loop reads the same with and without ``torchrun``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

T = TypeVar("T")


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands in a (possibly single-process) run."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    owns_group: bool = False  # this process group was created by :func:`setup` and is destroyed by :func:`teardown`

    @property
    def is_distributed(self) -> bool:
        """True when more than one process trains together."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True on rank 0, the process that writes checkpoints and shows progress."""
        return self.rank == 0


def launched_by_torchrun() -> bool:
    """True when the environment of a multi-process ``torchrun`` launch is present (``WORLD_SIZE > 1``)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def current() -> DistInfo:
    """This process's place in an already initialized process group (world size 1 if there is none)."""
    if not (dist.is_available() and dist.is_initialized()):
        return DistInfo()
    rank = dist.get_rank()
    return DistInfo(rank=rank, local_rank=int(os.environ.get("LOCAL_RANK", rank)), world_size=dist.get_world_size())


def setup(device: str) -> tuple[DistInfo, torch.device]:
    """Join the process group of a ``torchrun`` launch, if any, and choose this process's device.

    Parameters
    ----------
    device : str
        ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        Under ``torchrun`` with CUDA each process uses ``cuda:LOCAL_RANK``.

    Returns
    -------
    (DistInfo, torch.device)
        The process group is created with backend ``"nccl"`` on CUDA and ``"gloo"``
        on CPU, unless one is already initialized (then it is used as is).
    """
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if dist.is_available() and dist.is_initialized():
        info = current()
    elif launched_by_torchrun():
        info = DistInfo(
            rank=int(os.environ["RANK"]),
            local_rank=int(os.environ.get("LOCAL_RANK", "0")),
            world_size=int(os.environ["WORLD_SIZE"]),
            owns_group=True,
        )
    else:
        return DistInfo(), torch.device(device)

    if torch.device(device).type == "cuda":
        torch_device = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(torch_device)
    else:
        torch_device = torch.device(device)
    if info.owns_group:
        dist.init_process_group(backend="nccl" if torch_device.type == "cuda" else "gloo")
    return info, torch_device


def teardown(info: DistInfo) -> None:
    """Destroy the process group if :func:`setup` created it."""
    if info.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def wrap(module: torch.nn.Module, info: DistInfo, device: torch.device) -> torch.nn.Module:
    """Wrap ``module`` (already on ``device``) in :class:`DistributedDataParallel` when distributed."""
    if not info.is_distributed:
        return module
    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids)


def unwrap(module: torch.nn.Module) -> torch.nn.Module:
    """The bare module inside a :class:`DistributedDataParallel` wrapper (state-dict keys without ``module.``)."""
    return module.module if isinstance(module, DistributedDataParallel) else module


def shard_batches(batches: Sequence[T], info: DistInfo, *, pad: bool = True) -> Sequence[T]:
    """The batches of this rank: every ``world_size``-th batch, starting at ``rank``.

    Parameters
    ----------
    batches : sequence
        The batches of an epoch, identical on every rank: a list, or a lazy
        sequence such as an :class:`~laborseq.nn.batching.EpochPlan` (then the
        result is a lazy view too, and no batch is formed before it is asked for).
    info : DistInfo
        This process's rank and the world size.
    pad : bool
        If true (training), the list is first padded by repeating its first
        batches until its length is a multiple of ``world_size``, so that every
        rank makes the same number of steps and no sequence is dropped (at most
        ``world_size - 1`` batches are seen twice in an epoch). If false
        (evaluation), ranks may get one batch fewer than others and nothing is
        repeated.
    """
    if not isinstance(batches, list):
        return ShardView(batches, info, pad=pad)
    if not info.is_distributed:
        return list(batches)
    if pad and batches:
        n = -(-len(batches) // info.world_size) * info.world_size
        batches = [batches[i % len(batches)] for i in range(n)]
    return batches[info.rank :: info.world_size]


class ShardView(Sequence[T]):
    """This rank's batches of a lazy epoch (see :func:`shard_batches`), formed only when asked for."""

    def __init__(self, batches: Sequence[T], info: DistInfo, *, pad: bool) -> None:
        self._batches = batches
        self._rank, self._world = (info.rank, info.world_size) if info.is_distributed else (0, 1)
        total = len(batches)
        if pad and total:
            total = -(-total // self._world) * self._world
        self._total = total

    def __len__(self) -> int:
        return max(0, -(-(self._total - self._rank) // self._world))

    def __getitem__(self, position: int) -> T:  # type: ignore[override]
        if isinstance(position, slice):
            raise TypeError("a ShardView is indexed one batch at a time")
        if not 0 <= position < len(self):
            raise IndexError(f"batch {position} of {len(self)}")
        return self._batches[(self._rank + position * self._world) % len(self._batches)]


def all_reduce_sum(tensor: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Sum ``tensor`` over ranks in place (a no-op in a single process); returns it."""
    if info.is_distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def barrier(info: DistInfo) -> None:
    """Wait for every rank (a no-op in a single process)."""
    if info.is_distributed:
        dist.barrier()


def all_gather_objects(obj: T, info: DistInfo) -> list[T]:
    """One picklable object from every rank, in rank order (``[obj]`` in a single process).

    Used only to collect small in-memory values (RNG states) for rank 0's
    checkpoint; checkpoints themselves are never pickled.
    """
    if not info.is_distributed:
        return [obj]
    out: list = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out
