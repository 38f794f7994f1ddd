"""Keep the notebooks in ``notebooks/`` clean in git and run them with parameters.

    python tools/notebooks.py strip [FILES...]     # remove outputs, execution counts, run metadata
    python tools/notebooks.py check [FILES...]     # exit 1 naming every notebook that is not stripped
    python tools/notebooks.py run FILE [-p NAME=VALUE ...] [-o OUT.ipynb]

Without FILES, every ``notebooks/*.ipynb`` is meant.

Parameters follow the papermill convention: the first code cell tagged ``parameters`` holds each
notebook's defaults; ``run`` inserts a cell tagged ``injected-parameters`` right after it that
assigns the new values, so the rest of the notebook sees them. Only names the ``parameters`` cell
assigns may be injected (a misspelt name is an error, not a silently ignored setting). Values on
the command line are Python literals (``-p SCALE=0.05 -p SCENARIOS="['baseline']"``).
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
# Cell metadata that records a particular run rather than the notebook itself.
RUN_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime", "papermill")
NB_RUN_METADATA = ("widgets", "papermill", "varInspector")


def notebooks(files=None) -> list[Path]:
    return [Path(f) for f in files] if files else sorted(NOTEBOOK_DIR.glob("*.ipynb"))


# ---- stripping ---------------------------------------------------------------------------------
def strip(nb):
    """The notebook without outputs, execution counts or per-run metadata (in place; returned)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in RUN_METADATA:
            cell.metadata.pop(key, None)
    for key in NB_RUN_METADATA:
        nb.metadata.pop(key, None)
    return nb


def problems(nb) -> list[str]:
    """Why a notebook is not fit to commit (empty when it is stripped)."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.outputs:
            found.append(f"cell {i} has {len(cell.outputs)} output(s)")
        if cell.execution_count is not None:
            found.append(f"cell {i} has execution count {cell.execution_count}")
        extra = [k for k in RUN_METADATA if k in cell.metadata]
        if extra:
            found.append(f"cell {i} has run metadata {extra}")
    extra = [k for k in NB_RUN_METADATA if k in nb.metadata]
    if extra:
        found.append(f"notebook has run metadata {extra}")
    return found


def read(path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def write(nb, path) -> None:
    nbformat.validate(nb)
    nbformat.write(nb, str(path))


# ---- parameters --------------------------------------------------------------------------------
def parameter_cell(nb) -> int:
    """Index of the first code cell tagged ``parameters``."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return i
    raise ValueError("the notebook has no code cell tagged 'parameters'")


def parameter_names(nb) -> dict[str, object]:
    """Names the parameters cell assigns, with their default values (literals only)."""
    cell = nb.cells[parameter_cell(nb)]
    names = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    try:
                        names[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        names[target.id] = None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = ast.literal_eval(node.value) if node.value is not None else None
    return names


def inject(nb, parameters: dict) -> nbformat.NotebookNode:
    """A copy of ``nb`` with a cell assigning ``parameters`` after its parameters cell."""
    nb = nbformat.from_dict(nb)
    i = parameter_cell(nb)
    known = parameter_names(nb)
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise KeyError(f"not parameters of this notebook: {', '.join(unknown)}; it takes: {', '.join(known)}")
    source = "# Injected parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(i + 1, cell)
    return nb


# ---- running -----------------------------------------------------------------------------------
def execute(path, parameters: dict | None = None, timeout: int = 600, kernel_name: str = "python3"):
    """Run a notebook top to bottom in its own folder with injected parameters; the executed
    notebook is returned. A cell that raises stops the run with ``nbclient``'s
    ``CellExecutionError``, which names the cell and the error."""
    from nbclient import NotebookClient

    path = Path(path)
    nb = inject(read(path), parameters or {})
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("strip", "check"):
        s = sub.add_parser(name)
        s.add_argument("files", nargs="*")
    r = sub.add_parser("run")
    r.add_argument("file")
    r.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE")
    r.add_argument("-o", "--output", help="write the executed notebook here (default: not written)")
    r.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = ap.parse_args(argv)

    if args.command == "strip":
        for path in notebooks(args.files):
            nb = read(path)
            if problems(nb):
                write(strip(nb), path)
                print(f"stripped {path}")
        return 0
    if args.command == "check":
        bad = 0
        for path in notebooks(args.files):
            found = problems(read(path))
            if found:
                bad += 1
                print(f"{path}: " + "; ".join(found))
        if bad:
            print(f"{bad} notebook(s) carry outputs; run: python tools/notebooks.py strip")
        return 1 if bad else 0
    params = {}
    for item in args.parameter:
        name, _, value = item.partition("=")
        params[name.strip()] = _literal(value)
    start = time.perf_counter()
    nb = execute(args.file, params, timeout=args.timeout)
    print(f"{args.file}: ran in {time.perf_counter() - start:.1f} s")
    if args.output:
        write(nb, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
