"""The house's shape: wings that import one way (import-linter's contracts in pyproject.toml),
no module too long to read, and each wing saying what it holds."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIM = ROOT / "sim"
MAX_LINES = 400


def test_imports_follow_the_layers():
    # the one installed beside this interpreter (a virtual environment's), else the one on PATH
    beside = Path(sys.executable).with_name("lint-imports")
    exe = str(beside) if beside.exists() else shutil.which("lint-imports")
    done = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_no_module_is_longer_than_it_can_be_read():
    long = {str(p.relative_to(ROOT)): n for p in SIM.rglob("*.py")
            if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES}
    assert not long


def test_every_wing_says_what_it_holds():
    for init in SIM.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text("utf-8")))
        assert doc and len(doc.splitlines()) >= 3, init
