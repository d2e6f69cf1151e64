"""The house rules of imports: light imports stay light, nothing changes global state, layers flow one way."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

LIGHT = [
    "import laborseq",
    "from laborseq.models import Markov, MNLogit",
    "from laborseq.datasets import load_nlswork",
    "from laborseq.evaluation import compare",
    "import laborseq.forecast.result",
]


def _loaded_after(statement: str) -> dict[str, object]:
    code = (
        "import sys, json\n"
        f"{statement}\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'matplotlib': 'matplotlib' in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("statement", LIGHT)
def test_light_imports_load_neither_torch_nor_matplotlib(statement):
    assert _loaded_after(statement) == {"torch": False, "matplotlib": False}


def test_the_heavy_models_load_torch_when_first_used():
    loaded = _loaded_after("from laborseq.models import CAREER")
    assert loaded["torch"] is True


def test_importing_the_report_layer_leaves_the_matplotlib_backend_alone():
    code = (
        "import matplotlib\n"
        "matplotlib.use('svg')\n"
        "import laborseq.report.comparison, laborseq.forecast.plots, laborseq.studies.rationales\n"
        "print(matplotlib.get_backend())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "svg"


def test_layers_import_downward_only():
    """The import-linter contract of pyproject.toml (layers, documented exceptions) holds."""
    lint_imports = shutil.which("lint-imports") or str(
        __import__("pathlib").Path(sys.executable).with_name("lint-imports")
    )
    out = subprocess.run([lint_imports, "--no-cache"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
