"""The one record of versions and hardware that every result carries."""

from __future__ import annotations

import os
import platform
import sys

import numpy as np
import pandas as pd

from laborseq._version import __version__


def _processor() -> str:
    """The CPU model (``/proc/cpuinfo`` on Linux, where ``platform.processor()`` is often empty)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment() -> dict[str, str]:
    """Versions and hardware recorded with every result.

    torch's version, thread count and CUDA device are recorded when torch has
    already been imported (by a model that uses it); a comparison of count
    models alone does not import torch just to record it.
    """
    record = {
        "laborseq": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        record["torch"] = torch.__version__
    record.update(
        {
            "machine": f"{platform.system()} {platform.machine()}",
            "processor": _processor(),
            "cpus": str(os.cpu_count()),
        }
    )
    if torch is not None:
        record["torch threads"] = str(torch.get_num_threads())
        record["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return record
