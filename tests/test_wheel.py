"""The package builds as a wheel and an sdist that carry their resources, and the wheel works in a fresh environment.

Slow (a build and a virtual environment), so left out of the default run; CI runs it
(``.ci/run``). Nothing is downloaded: the wheel is built without isolation with the
setuptools installed here, installed with ``--no-index --no-deps``, and the fresh
environment borrows this one's dependencies (numpy, torch, ...) through a ``.pth``
file, so that the laborseq it imports can only be the wheel's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from laborseq import __version__

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return out


def test_wheel_and_sdist_carry_resources_and_types(dist):
    wheel = dist / f"laborseq-{__version__}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    assert "laborseq/py.typed" in names
    assert "laborseq/resources/taxonomy/occ1990dd_titles.csv" in names
    assert "laborseq/resources/taxonomy/PROVENANCE.md" in names
    assert sum(n.startswith("laborseq/resources/taxonomy/crosswalk_") for n in names) >= 8
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "analyses/", "reports/")) for n in names)
    sdist = tarfile.open(dist / f"laborseq-{__version__}.tar.gz").getnames()
    for name in ("LICENSE", "CHANGELOG.md", "CITATION.cff", "pyproject.toml", "laborseq/py.typed"):
        assert f"laborseq-{__version__}/{name}" in sdist


def test_wheel_installs_in_a_fresh_environment_and_runs(dist, tmp_path):
    started = time.perf_counter()
    env_dir = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, timeout=300)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # this environment's dependencies, not its (editable) laborseq: a .pth line adds a path, and .pth files
    # inside that path are not read, so the editable install's finder stays out
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = dist / f"laborseq-{__version__}-py3-none-any.whl"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", str(wheel)]
    subprocess.run(pip, check=True, timeout=300)
    where = subprocess.run(
        [str(python), "-c", "import laborseq; print(laborseq.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert where.startswith(str(env_dir)), where
    laborseq = str(env_dir / "bin" / "laborseq")
    version = subprocess.run([laborseq, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"laborseq {__version__}"
    out = tmp_path / "report"
    command = [laborseq, "compare", "--data", "wage_panel", "--models", "markov1,mnlogit", "--n-boot", "50"]
    command += ["--forecast-samples", "20", "--wages", "none", "--quiet", "--out", str(out)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    assert results["environment"]["laborseq"] == __version__
    assert (out / "report.html").exists() and (out / "tables" / "tables.tex").exists()
    print(f"fresh environment, install and smoke run: {time.perf_counter() - started:.1f} s")
