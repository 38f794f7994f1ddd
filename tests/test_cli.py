"""The command line, run as a user would: a subprocess."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args):
    return subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_run_prints_the_scoreboard():
    out = run_cli("--scale", "0.05", "--seed", "3")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "2025 Q4" in lines[0]
    for target in ("T1", "T2", "T3", "T4", "T5", "T6"):
        assert any(line.startswith(target) for line in lines), target
    assert "City R&D CAGR" in lines[-1]


def test_bad_arguments_exit_2_with_a_clear_message():
    out = run_cli("--scale", "3")
    assert out.returncode == 2 and "--scale must be in (0, 1]" in out.stderr
    out = run_cli("--until", "2020")
    assert out.returncode == 2 and "--until must be 2023 or later" in out.stderr
