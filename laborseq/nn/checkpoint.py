"""Training checkpoints as directories of JSON and safetensors files: written atomically, loaded without pickle.

A checkpoint directory holds

``config.json``
    The training configuration, the caller's ``metadata`` (e.g. a model's
    configuration and vocabularies), the trainer state (step, data position, RNG
    states, history, ...), the optimizer's hyper-parameters and non-tensor state,
    and the names of tied (shared) weights.
``model.safetensors``
    The module's ``state_dict`` (without a ``DistributedDataParallel`` ``module.`` prefix).
``optimizer.safetensors``
    The optimizer's state tensors, keyed ``state.{param_index}.{name}`` (e.g.
    ``state.3.exp_avg``, ``state.3.step``); only in resumable checkpoints.

The directory is built under a temporary name and renamed into place, so an
interrupted save leaves the previous checkpoint intact. Loading reads only JSON
and safetensors; no pickle is ever executed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from laborseq._util.io import atomic_directory
from laborseq._version import __version__
from laborseq.nn.distributed import unwrap

CONFIG = "config.json"
MODEL = "model.safetensors"
OPTIMIZER = "optimizer.safetensors"
FORMAT = "laborseq.nn.checkpoint"
VERSION = 1


class Checkpoint(NamedTuple):
    """A loaded checkpoint.

    Attributes
    ----------
    config : dict
        The contents of ``config.json``; ``config["metadata"]`` is the caller's
        metadata, ``config["trainer"]`` the trainer state, ``config["train_config"]``
        the training configuration.
    model : dict of str to torch.Tensor
        A state dict for ``module.load_state_dict``.
    optimizer : dict or None
        A state dict for ``optimizer.load_state_dict``, or None if the checkpoint has none.
    """

    config: dict[str, Any]
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any] | None


def save_checkpoint(
    path: str | os.PathLike[str],
    module: torch.nn.Module,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    train_config: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    trainer: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint directory atomically (replacing an existing one only once the new one is complete).

    Parameters
    ----------
    path : path-like
        The checkpoint directory.
    module : torch.nn.Module
        Module whose ``state_dict`` is saved; a ``DistributedDataParallel`` wrapper is unwrapped.
    optimizer : torch.optim.Optimizer, optional
        Optimizer whose state is saved (needed to resume training).
    train_config, metadata, trainer : dict, optional
        JSON-serializable dicts stored in ``config.json`` under these names.

    Returns
    -------
    pathlib.Path
    """
    module = unwrap(module)
    tensors, tied = _split_tied(module.state_dict())
    config: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "laborseq_version": __version__,
        "train_config": train_config,
        "metadata": metadata,
        "trainer": trainer,
        "tied_weights": tied,
        "optimizer": None,
    }
    optimizer_tensors = None
    if optimizer is not None:
        optimizer_tensors, config["optimizer"] = _flatten_optimizer(optimizer.state_dict())
    try:
        text = json.dumps(config, indent=2, allow_nan=True) + "\n"
    except TypeError as err:
        raise TypeError(
            f"save_checkpoint: metadata, train_config and trainer must be JSON-serializable: {err}"
        ) from err

    with atomic_directory(path) as tmp:
        save_file(tensors, tmp / MODEL)
        if optimizer_tensors is not None:
            save_file(optimizer_tensors, tmp / OPTIMIZER)
        (tmp / CONFIG).write_text(text, encoding="utf-8")
        for name in os.listdir(tmp):
            _fsync(tmp / name)
    return Path(path)


def load_checkpoint(path: str | os.PathLike[str], *, device: str | torch.device = "cpu") -> Checkpoint:
    """Read a checkpoint directory written by :func:`save_checkpoint`.

    Parameters
    ----------
    path : path-like
        The checkpoint directory.
    device : str or torch.device
        Where to put the tensors.

    Raises
    ------
    FileNotFoundError
        If the directory or one of its files is missing.
    ValueError
        If a file is corrupt or not a laborseq checkpoint.
    """
    path = Path(path)
    config_file = path / CONFIG
    if not path.is_dir():
        raise FileNotFoundError(f"no checkpoint directory at {path}")
    if not config_file.is_file():
        raise FileNotFoundError(f"checkpoint {path} has no {CONFIG}; it is incomplete or not a checkpoint")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{config_file} is corrupt: {err}") from err
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(f"{config_file} is not a laborseq checkpoint (expected format {FORMAT!r})")
    if config.get("version", 0) > VERSION:
        raise ValueError(f"{config_file} has format version {config['version']}; this laborseq reads up to {VERSION}")

    model = _read_tensors(path / MODEL, device)
    for alias, source in config.get("tied_weights", {}).items():
        model[alias] = model[source]
    optimizer = None
    if config.get("optimizer") is not None:
        optimizer = _unflatten_optimizer(_read_tensors(path / OPTIMIZER, device), config["optimizer"])
    return Checkpoint(config=config, model=model, optimizer=optimizer)


def load_weights(path: str | os.PathLike[str], module: torch.nn.Module, *, strict: bool = True) -> dict[str, Any]:
    """Load a checkpoint's weights into ``module``.

    Parameters
    ----------
    path : path-like
        A checkpoint directory (e.g. ``checkpoint_dir/"best"``).
    module : torch.nn.Module
        The module to fill; its parameters keep their device and dtype.
    strict : bool
        If true, the checkpoint must have exactly the module's keys.

    Returns
    -------
    dict
        The checkpoint's ``metadata``.

    Raises
    ------
    ValueError
        Naming the file, if keys are missing or unexpected (when ``strict``) or a shape differs.
    """
    checkpoint = load_checkpoint(path)
    check_state_dict(checkpoint.model, module, source=Path(path) / MODEL, strict=strict)
    module.load_state_dict(checkpoint.model, strict=strict)
    return checkpoint.config.get("metadata") or {}


def check_state_dict(
    state: dict[str, torch.Tensor], module: torch.nn.Module, *, source: str | os.PathLike[str], strict: bool = True
) -> None:
    """Raise a ``ValueError`` naming ``source`` if ``state`` does not fit ``module`` (keys and shapes)."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k}: {tuple(state[k].shape)} in the checkpoint, {tuple(v.shape)} in the module"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    problems = []
    if strict and missing:
        problems.append(f"missing keys {_shorten(missing)}")
    if strict and unexpected:
        problems.append(f"unexpected keys {_shorten(unexpected)}")
    if shapes:
        problems.append(f"shape mismatch for {_shorten(shapes)}")
    if problems:
        raise ValueError(f"{source} does not match {type(module).__name__}: " + "; ".join(problems))


def recover_interrupted(path: str | os.PathLike[str]) -> bool:
    """Move back a checkpoint left aside by a save interrupted between its two renames.

    :func:`laborseq._util.io.atomic_directory` renames the old directory aside before
    renaming the new one into place; a crash between the two leaves no ``path``
    but a complete ``.{name}.old-{pid}`` next to it. Returns True if one was restored.
    """
    path = Path(path)
    if path.exists() or not path.parent.is_dir():
        return False
    olds = sorted(path.parent.glob(f".{path.name}.old-*"), key=lambda p: p.stat().st_mtime)
    olds = [p for p in olds if (p / CONFIG).is_file()]
    if not olds:
        return False
    os.replace(olds[-1], path)
    return True


# ---------------------------------------------------------------------------- helpers
def _read_tensors(file: Path, device: str | torch.device) -> dict[str, torch.Tensor]:
    if not file.is_file():
        raise FileNotFoundError(f"checkpoint file {file} is missing")
    try:
        return load_file(file, device=str(device))
    except (SafetensorError, OSError) as err:
        raise ValueError(f"{file} is corrupt or not a safetensors file: {err}") from err


def _split_tied(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """CPU copies of the tensors, with tensors that are the same view of the same memory stored once.

    safetensors refuses tensors that share memory; tied weights (e.g. input and
    output embeddings) are saved under their first name and the others recorded
    as aliases ``{alias: first_name}``.
    """
    tensors: dict[str, torch.Tensor] = {}
    tied: dict[str, str] = {}
    seen: dict[tuple, str] = {}
    for name, tensor in state.items():
        tensor = tensor.detach()
        key = (
            tensor.device,
            tensor.untyped_storage().data_ptr(),
            tensor.storage_offset(),
            tuple(tensor.shape),
            tuple(tensor.stride()),
            tensor.dtype,
        )
        if tensor.numel() and key in seen:
            tied[name] = seen[key]
            continue
        seen[key] = name
        tensors[name] = tensor.to("cpu", copy=True).contiguous()
    return tensors, tied


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer state dict into tensors ``state.{i}.{name}`` and a JSON-able rest."""
    tensors: dict[str, torch.Tensor] = {}
    other: dict[str, dict[str, Any]] = {}
    for index, param_state in state["state"].items():
        for name, value in param_state.items():
            if torch.is_tensor(value):
                tensors[f"state.{index}.{name}"] = value.detach().to("cpu", copy=True).contiguous()
            else:
                other.setdefault(str(index), {})[name] = value
    groups = [{k: list(v) if isinstance(v, tuple) else v for k, v in group.items()} for group in state["param_groups"]]
    return tensors, {"param_groups": groups, "state": other}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], info: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = value
    for index, values in info.get("state", {}).items():
        state.setdefault(int(index), {}).update(values)
    groups = [
        {k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in group.items()}
        for group in info["param_groups"]
    ]
    return {"state": state, "param_groups": groups}


def _fsync(file: Path) -> None:
    with open(file, "rb") as handle:
        os.fsync(handle.fileno())


def _shorten(items: list[str], n: int = 8) -> str:
    shown = ", ".join(items[:n])
    return f"[{shown}, ... ({len(items) - n} more)]" if len(items) > n else f"[{shown}]"
