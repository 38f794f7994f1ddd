"""Every notebook in notebooks/ runs top to bottom with small sizes, and none is committed with
outputs. The sizes a real study would use are each notebook's defaults; CI injects the small
ones below into the cell tagged ``parameters`` (see notebooks/README.md)."""

import importlib.util
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
_spec = importlib.util.spec_from_file_location("nbtools", ROOT / "tools" / "notebooks.py")
nbtools = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nbtools)

# Small sizes for CI: every notebook must be listed, so a new one cannot run at full size by accident.
CI_PARAMETERS = {
    "01_quickstart": dict(SCALE=0.05),
    "02_scenarios": dict(SCENARIOS=["baseline", "paired_strong", "no_policy"], SCALE=0.05, REPLICATES=4, WORKERS=2),
    "03_sensitivity": dict(LEVERS=["cultivation.super_deduction", "paired.intensity", "guiding_fund.annual_budget",
                                   "guiding_fund.allocation", "cultivation.candidate_list_boost",
                                   "finance.fund_of_funds_size"],
                           MORRIS_TRAJECTORIES=2, SOBOL_N=8, SOBOL_TOP=2, REPLICATES=1, SCALE=0.03, WORKERS=2),
    "04_network": dict(SCALE=0.05),
    "05_calibration": dict(SCALE=0.05, REPLICATES=2, POSTERIOR_DRAWS=4, UPDATE_SCALE=0.03,
                           FIT_IF_MISSING=dict(population=8, budget=40, generations=2, scale=0.05, eval_scale=0.05, replicates=2,
                                               top=1, refine=0)),
    "06_optimise": dict(TRIALS=3, REPLICATES=2, CHECK_REPLICATES=3, SCALE=0.03, WORKERS=1),
    "07_discovery": dict(REPLICATES=24, SCALE=0.02, WORKERS=2),
}
# Figures each notebook must draw (a notebook that silently draws nothing fails).
MIN_FIGURES = {"01_quickstart": 2, "02_scenarios": 5, "03_sensitivity": 2, "04_network": 2, "05_calibration": 1, "06_optimise": 1, "07_discovery": 2}

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def test_there_are_notebooks_and_each_has_ci_sizes():
    assert len(NOTEBOOKS) >= 4
    for path in NOTEBOOKS:
        assert path.stem in CI_PARAMETERS, f"{path.name}: add its small CI sizes to CI_PARAMETERS"
        names = nbtools.parameter_names(nbtools.read(path))
        assert set(CI_PARAMETERS[path.stem]) <= set(names), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_is_stripped(path):
    nb = nbtools.read(path)
    nbformat.validate(nb)
    assert nbtools.problems(nb) == [], f"{path.name}: run `python tools/notebooks.py strip`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_with_small_sizes(path):
    start = time.perf_counter()
    nb = nbtools.execute(path, CI_PARAMETERS[path.stem], timeout=300)
    elapsed = time.perf_counter() - start
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    figures = sum("image/png" in o.get("data", {}) for o in outputs)
    assert figures >= MIN_FIGURES.get(path.stem, 1), f"{path.name} drew {figures} figure(s)"
    print(f"{path.name}: {elapsed:.1f} s")


# ---- the harness itself: a failing cell must fail the run; parameters must reach the notebook ---
def _tiny_notebook(tmp_path, body):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("N = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_a_failing_cell_fails_the_run(tmp_path):
    from nbclient.exceptions import CellExecutionError

    path = _tiny_notebook(tmp_path, "assert N == 1, 'N was injected'")
    nbtools.execute(path, {})                       # defaults: passes
    with pytest.raises(CellExecutionError, match="N was injected"):
        nbtools.execute(path, {"N": 2})             # the injected value is what the notebook sees


def test_unknown_parameters_are_refused(tmp_path):
    path = _tiny_notebook(tmp_path, "pass")
    with pytest.raises(KeyError, match="SCAEL"):
        nbtools.inject(nbtools.read(path), {"SCAEL": 0.1})


def test_strip_removes_outputs_and_counts(tmp_path):
    path = _tiny_notebook(tmp_path, "print(N)")
    nb = nbtools.execute(path, {})
    assert nbtools.problems(nb)                     # executed: outputs and counts present
    out = tmp_path / "executed.ipynb"
    nbtools.write(nb, out)
    assert nbtools.main(["check", str(out)]) == 1
    assert nbtools.main(["strip", str(out)]) == 0
    assert nbtools.main(["check", str(out)]) == 0
    stripped = nbtools.read(out)
    assert [c.source for c in stripped.cells] == [c.source for c in nb.cells]
