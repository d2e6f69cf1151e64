"""Benchmark: MNLogit with the full regression features on 330 states and 200,000 transitions.

A synthetic panel over the occ1990dd codes (Dorn 2013, 330 occupations):
25,000 persons observed 9 times each (200,000 transitions), with sticky,
neighbourhood-biased moves and covariates (education, race, gender, birth
year). Run from the repository root::

    .venv/bin/python analyses/bench_mnlogit.py [--persons 25000] [--solver lbfgs|adam] [--max-iter 100]

(``--max-iter`` counts L-BFGS iterations or Adam epochs.)

Each engine runs in a fresh process; the script prints wall time and peak
resident memory of the torch engine's fit (aim: under 2 minutes and 4 GB on
the 2-core CPU) and what statsmodels' MNLogit does with the same design: the
size of the dense design and of the Hessian its Newton step needs, and how it
fails (it is stopped after ``--statsmodels-timeout`` seconds). The reference
in the same process is the first-order Markov chain on the same panel (fit
time), the closed-form baseline the logit must beat.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from laborseq import CareerPanel
from laborseq.occupations.occ1990dd import occ1990dd


def synthetic_panel(n_persons: int, n_obs: int = 9, seed: int = 0) -> CareerPanel:
    """Careers over 330 occ1990dd codes: stay with p=0.75, else move to a nearby code or anywhere."""
    rng = np.random.default_rng(seed)
    scheme = occ1990dd("dorn2013")
    k = len(scheme.codes)
    popularity = rng.dirichlet(np.full(k, 0.5))
    state = rng.choice(k, size=n_persons, p=popularity)
    education = rng.choice(["high_school", "some_college", "bachelors"], size=n_persons)
    race = rng.choice(["white", "black", "hispanic"], size=n_persons, p=[0.7, 0.15, 0.15])
    gender = rng.choice(["female", "male"], size=n_persons)
    birth = rng.integers(1950, 1975, size=n_persons)
    start = rng.integers(1980, 1990, size=n_persons)
    frames = []
    for t in range(n_obs):
        frames.append(
            pd.DataFrame(
                {
                    "person_id": np.arange(n_persons),
                    "year": start + t,
                    "occ": np.asarray(scheme.codes)[state],
                    "education": education,
                    "race": race,
                    "gender": gender,
                    "birth_year": birth,
                }
            )
        )
        u = rng.random(n_persons)
        near = np.clip(state + rng.integers(-5, 6, size=n_persons), 0, k - 1)
        anywhere = rng.choice(k, size=n_persons, p=popularity)
        state = np.where(u < 0.75, state, np.where(u < 0.9, near, anywhere))
    frame = pd.concat(frames, ignore_index=True)
    return CareerPanel(
        frame, covariates=["education", "race", "gender", "birth_year"], scheme=scheme, name="synthetic330"
    )


TORCH_CHILD = """
import json, resource, sys, time
sys.path.insert(0, "analyses")
from bench_mnlogit import synthetic_panel
from laborseq.models import MNLogit
panel = synthetic_panel(int(sys.argv[1]))
model = MNLogit(features="full", alpha=1e-4, solver=sys.argv[2], max_iter=int(sys.argv[3]), tol=1e-6, dtype="float32")
start = time.perf_counter()
model.fit(panel)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                  "transitions": model.n_transitions_, "iterations": model.fit_info_["iterations"],
                  "converged": model.fit_info_["converged"], "objective": model.fit_info_["objective"],
                  "n_params": sum(p.numel() for p in model.model_.parameters()),
                  "train_perplexity": model.perplexity(panel)}))
"""

STATSMODELS_CHILD = """
import json, resource, sys, time
import numpy as np
sys.path.insert(0, "analyses")
from bench_mnlogit import synthetic_panel
from laborseq.models.features import FULL_FEATURES, FeatureEncoder
from statsmodels.discrete.discrete_model import MNLogit
panel = synthetic_panel(int(sys.argv[1]))
rows = panel.lagged_states(1) >= 0
x = FeatureEncoder(FULL_FEATURES).fit(panel, rows).transform(panel, rows)
n, p = len(x), len(x.column_names)
k = len(np.unique(panel.state_index()[rows]))
out = {"design_gb": n * p * 8 / 1e9, "hessian_gb": (p * (k - 1)) ** 2 * 8 / 1e9, "n_params": p * (k - 1)}
print(json.dumps(out), flush=True)
start = time.perf_counter()
try:
    design = x.design_matrix()
    MNLogit(panel.state_index()[rows], design).fit(method="newton", maxiter=5, disp=False)
    out["outcome"] = "finished"
except BaseException as err:
    out["outcome"] = f"{type(err).__name__}: {str(err)[:160]}"
out["seconds"] = time.perf_counter() - start
out["peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
print(json.dumps(out))
"""


def run_child(code: str, *args: str, timeout: float = 1800) -> dict:
    """Run ``code`` in a fresh interpreter; on timeout, stop it and report its peak memory so far."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        peak = _peak_rss_gb(proc.pid)
        proc.kill()
        out, _ = proc.communicate()
        result = _last_json(out)
        result.update({"outcome": f"still running after {timeout:.0f} s: stopped", "seconds": timeout, "peak_gb": peak})
        return result
    result = _last_json(out)
    if not result:
        return {"outcome": f"process failed (exit {proc.returncode}): {err.strip()[-300:]}"}
    return result


def _last_json(text: str) -> dict:
    lines = [line for line in text.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def _peak_rss_gb(pid: int) -> float:
    """Peak resident memory of a running process (Linux ``VmHWM``)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1e6
    except OSError:
        pass
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=25_000)
    parser.add_argument("--solver", default="lbfgs", choices=("lbfgs", "adam"))
    parser.add_argument("--max-iter", type=int, default=100)
    parser.add_argument("--statsmodels-timeout", type=float, default=300.0)
    parser.add_argument("--skip-statsmodels", action="store_true")
    args = parser.parse_args()

    from laborseq.models import Markov

    panel = synthetic_panel(args.persons)
    start = time.perf_counter()
    Markov(order=1).fit(panel)
    print(f"panel: {args.persons:,} persons, {len(panel) - args.persons:,} transitions, 330 occupations")
    print(f"reference: Markov(order=1) fit                {time.perf_counter() - start:8.2f} s")

    torch_run = run_child(TORCH_CHILD, str(args.persons), args.solver, str(args.max_iter))
    if "seconds" not in torch_run or "iterations" not in torch_run:
        raise SystemExit(f"torch engine failed: {torch_run['outcome']}")
    print(
        f"MNLogit torch engine ({args.solver}, {torch_run['iterations']} iterations, converged "
        f"{torch_run['converged']}): {torch_run['seconds']:8.1f} s, peak RSS {torch_run['peak_gb']:.2f} GB, "
        f"{torch_run['n_params']:,} parameters, training perplexity {torch_run['train_perplexity']:.2f}",
        flush=True,
    )
    if args.skip_statsmodels:
        return
    sm_run = run_child(STATSMODELS_CHILD, str(args.persons), timeout=args.statsmodels_timeout)
    print(
        f"statsmodels MNLogit: dense design {sm_run.get('design_gb', float('nan')):.1f} GB, "
        f"{sm_run.get('n_params', 0):,} parameters, Newton Hessian {sm_run.get('hessian_gb', float('nan')):,.0f} GB; "
        f"outcome after {sm_run.get('seconds', float('nan')):.1f} s: {sm_run['outcome']} "
        f"(peak RSS {sm_run.get('peak_gb', float('nan')):.2f} GB)"
    )


if __name__ == "__main__":
    main()
