"""Output folders: which folder a run may use, one writer at a time, and what it may delete.

A results folder records that it belongs to this project (``.cq-innovation-sim.json``: the kind
of folder, the ids of the runs that wrote into it, the report files they wrote). A run

* only uses a folder that is new, empty, or one of this project's results folders, and never the
  filesystem root, the home folder or the project's own folder (:meth:`OutputFolder.check`);
* only a path whose every folder name is one line of printable text, neither blank nor
  beginning or ending in a space (:func:`check_names`): such names are easily made by a stray
  quote or newline on the command line, and then hide in listings and split the messages that
  show them;
* holds the folder's lock (``filelock``) from its first check to its last write, so a second run
  into the same folder is refused or waits (``wait``);
* writes every file under a temporary name that carries its run id, then renames it;
* deletes only what this project wrote: its temporary files (by run id), and on ``--overwrite``
  the shards, markers, manifest and report files it recorded (:meth:`OutputFolder.clear`).

What the shards and their completion markers hold, and how a resume trusts them, is in
:mod:`sim.experiments.results`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import socket
import uuid
from pathlib import Path

from ..util.errors import KeyedError
from ..util.messages import char_name, clip, escaped, short, unprintable

PROJECT = "cq-innovation-sim"
FORMAT = 2
OWNER_FILE = f".{PROJECT}.json"
LOCK_FILE = f".{PROJECT}.lock"
TABLES = ("city", "districts", "targets", "links")
MARKERS = "done"
FIGURES = "figures"
DISTRICT_QUANTILES = "district_quantiles.csv"      # each district's band (sim.experiments.district_bands)
# What a run writes from its shards (removed when the shards change, written again at its end).
REPORT_FILES = ("summary.csv", DISTRICT_QUANTILES, "report.html", "differences.csv")
# What a run (and a discovery over its replicates) writes at the folder's top.
DERIVED_FILES = (*REPORT_FILES, "discovery.csv", "discovery.txt")
# Everything a results folder of this project may hold at its top level.
ARTEFACTS = frozenset({OWNER_FILE, LOCK_FILE, "manifest.json", *DERIVED_FILES, FIGURES, MARKERS, *TABLES})
TAG_RE = re.compile(r"^r\d{5}-\d{5}$")
PART_RE = re.compile(r"^part-(r\d{5}-\d{5})\.parquet$")
RUN_ID_RE = re.compile(r"^[0-9a-f]{12}$")
FIGURE_RE = re.compile(rf"^{FIGURES}/[A-Za-z0-9_][A-Za-z0-9_.-]*\.png$")
REPO_ROOT = Path(__file__).resolve().parents[2]
KEEP_RUN_IDS = 200            # the owner record remembers this many run ids


class OutputFolderError(KeyedError):
    """The output folder cannot be used: not this project's, in use, or holding another set-up."""

    def __init__(self, out, message: str, key: str = "--out"):
        super().__init__(escaped(str(out)), key, message)     # a newline in the path must not split the message


class FolderBusy(OutputFolderError):
    """Another run holds the output folder's lock."""


def check_names(path, option: str = "--out") -> None:
    """Refuse (OutputFolderError naming ``option``) a path with a folder name that is blank, holds
    a character that does not print on one line (a newline, a tab, NUL, a zero-width space) or
    begins or ends in a space. Every name the user wrote is checked, not only the last: the ones
    before it are created too. (``.`` and ``..`` are ordinary parts of a path.)"""
    text = os.fspath(path)
    if not text.strip():
        raise OutputFolderError(short(text), "is blank; name a folder, e.g. results/<scenario>", option)
    for name in Path(text).parts:
        if name == Path(text).anchor:
            continue
        at = unprintable(name)
        if at is not None:
            what = f"holds {char_name(name[at])} in the folder name {short(name)}"
        elif not name.strip():
            what = f"has a blank folder name {short(name)}"
        elif name != name.strip():
            what = f"has a folder name {short(name)} that begins or ends in a space"
        else:
            continue
        raise OutputFolderError(short(text), f"{what}; folder names are one line of printable text, neither blank nor "
                                "beginning or ending in a space", option)


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def tmp_name(path: Path, run_id: str) -> Path:
    """The temporary name a file is written under before its rename: hidden (Parquet readers
    skip it) and tagged with the writing run, so only that run's leftovers are ever removed."""
    return path.with_name(f".tmp-{run_id}-{uuid.uuid4().hex[:8]}-{path.name}")


def atomic_write(path: Path, data: bytes, run_id: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(path, run_id)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def listing(names, limit: int = 5) -> str:
    names = sorted(names)
    shown = ", ".join(repr(clip(n, 60)) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# ------------------------------------------------------------------------------------------------
class OutputFolder:
    """One results folder: ``kind`` is ``"ensemble"`` (one scenario's replicates) or
    ``"comparison"`` (the folder of a ``compare``: differences, report, one ensemble folder per
    scenario). Use as a context manager, or :meth:`open` and :meth:`close`."""

    def __init__(self, path, kind: str = "ensemble", option: str = "--out"):
        self.path, self.kind, self.option = Path(path), kind, option
        self.given = path           # as given: Path("") is ".", a blank name is only seen in the text
        self.run_id = new_run_id()
        self.started = None
        self._lock = None
        self._adopt: list[str] = []

    def __repr__(self):
        return f"OutputFolder({str(self.path)!r}, {self.kind!r})"

    def _error(self, message: str) -> OutputFolderError:
        return OutputFolderError(self.path, message, self.option)

    # ---- may this run use the folder? -------------------------------------------------------
    def check_place(self) -> Path:
        """Refuse a folder name :func:`check_names` refuses, the filesystem root, the home folder,
        the project's own folder, a file and a path under a file; return the resolved path."""
        check_names(self.given, self.option)
        try:
            resolved = self.path.resolve()
        except (OSError, RuntimeError, ValueError) as e:
            raise self._error(f"cannot be used as a folder: {e}") from None
        try:
            home = Path.home().resolve()
        except (RuntimeError, KeyError, OSError):       # no home folder known (a service account)
            home = None
        for place, what in ((Path(resolved.anchor), "the filesystem root"), (home, "your home folder"),
                            (REPO_ROOT, "the project's own folder")):
            if resolved == place:
                raise self._error(f"is {what}; results go into a folder of their own, e.g. results/<scenario>")
        try:
            for parent in (resolved, *resolved.parents):
                if parent.exists():
                    if not parent.is_dir():
                        where = "is a file" if parent == resolved else f"is under the file {parent}"
                        raise self._error(f"{where}; {self.option} must be a folder (new, empty, or holding this "
                                          "simulator's results)")
                    break
        except OSError as e:
            raise self._error(f"cannot be used: {e.strerror or e}") from None
        return resolved

    def check(self) -> None:
        """Refuse (OutputFolderError) a folder this run must not write into; reads only the
        folder's own entries, never a whole tree."""
        resolved = self.check_place()
        try:
            if not resolved.exists():
                return
            # The lock file alone is what a run killed right after taking the lock leaves.
            entries = {e.name: e for e in os.scandir(resolved) if e.name != LOCK_FILE}
        except OSError as e:
            raise self._error(f"cannot be used: {e.strerror or e}") from None
        if not entries:
            return
        owner = self._read_owner()
        if owner is not None:
            if owner.get("kind", "ensemble") != self.kind:
                what = {"comparison": "the results of a compare", "ensemble": "one scenario's results",
                        "optimisation": "a search for the cheapest policy mix"}
                raise self._error(f"holds {what.get(owner.get('kind'), 'other results')}, not {what[self.kind]}; "
                                  "choose another --out")
            return
        # A folder written before folders recorded their owner: ours if it holds nothing else.
        foreign = [n for n, e in entries.items() if n not in ARTEFACTS
                   and not (self.kind == "comparison" and e.is_dir() and any(
                       (Path(e.path) / f).exists() for f in (OWNER_FILE, "manifest.json")))]
        ours = {"manifest.json", MARKERS, "differences.csv"} & set(entries)
        if foreign or not ours:
            raise self._error(f"holds files this simulator did not write ({listing(foreign or entries)}); {self.option} "
                              "must be a new or empty folder, or one that holds this simulator's results")
        self._adopt = [n for n in REPORT_FILES if n in entries]
        if FIGURES in entries and entries[FIGURES].is_dir():
            self._adopt += [f"{FIGURES}/{p.name}" for p in (resolved / FIGURES).glob("*.png")]

    def _read_owner(self) -> dict | None:
        try:
            owner = json.loads((self.path / OWNER_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return owner if isinstance(owner, dict) and owner.get("project") == PROJECT else None

    # ---- holding it ---------------------------------------------------------------------------
    def open(self, wait: float | None = 0) -> "OutputFolder":
        """Check, create and lock the folder for this run. ``wait``: seconds to wait for another
        run that holds it (None: as long as it takes; 0: refuse at once)."""
        from filelock import FileLock, Timeout
        if self._lock is not None:
            return self
        self.check()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self.path / LOCK_FILE))
            lock.acquire(timeout=-1 if wait is None else max(float(wait), 0.0))
        except Timeout:
            holder = (self._read_owner() or {}).get("active") or {}
            who = (f" (run {holder.get('run', '?')}, process {holder.get('pid', '?')} on {holder.get('host', '?')}, "
                   f"started {holder.get('started', '?')})" if holder else "")
            waited = f"; waited {wait:g} s" if wait else ""
            raise FolderBusy(self.path, f"is in use by another run{who}{waited}. Two runs never write into one folder: "
                             "wait for it to finish, or add --wait to queue behind it", self.option) from None
        except OSError as e:
            raise self._error(f"cannot be created or locked: {e.strerror or e}") from None
        self._lock = lock
        try:
            self.check()        # it may have changed while this run waited
            owner = self._read_owner() or {"project": PROJECT, "format": FORMAT, "kind": self.kind,
                                            "created": _now(), "runs": [], "written": []}
            owner["runs"] = [*owner.get("runs", []), self.run_id][-KEEP_RUN_IDS:]
            owner["written"] = sorted(set(owner.get("written", [])) | set(self._adopt))
            owner["active"] = dict(run=self.run_id, pid=os.getpid(), host=socket.gethostname(), started=_now())
            self._write_owner(owner)
            self.started = _dt.datetime.now().timestamp()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self._lock is None:
            return
        try:
            owner = self._read_owner()
            if owner is not None and (owner.get("active") or {}).get("run") == self.run_id:
                owner["active"] = None
                self._write_owner(owner)
        except OSError:
            pass
        finally:
            self._lock.release()
            self._lock = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    @property
    def is_open(self) -> bool:
        return self._lock is not None

    def _write_owner(self, owner: dict) -> None:
        atomic_write(self.path / OWNER_FILE, json.dumps(owner, indent=1).encode(), self.run_id)

    def record(self, relpaths) -> None:
        """Note report files this run wrote, so ``--overwrite`` may remove them later."""
        owner = self._read_owner()
        if owner is None:
            return
        owner["written"] = sorted(set(owner.get("written", [])) | {str(p) for p in relpaths})
        self._write_owner(owner)

    def record_reports(self) -> None:
        """Record the report files written since this run opened the folder."""
        written = [n for n in REPORT_FILES if (self.path / n).is_file()]
        figures = [f"{FIGURES}/{p.name}" for p in (self.path / FIGURES).glob("*.png")
                   if self.started is not None and p.stat().st_mtime >= self.started - 1]
        self.record(written + figures)

    # ---- what it holds --------------------------------------------------------------------------
    def remove_temporaries(self) -> None:
        """Temporary files of runs that wrote into this folder (none of them is running: this
        run holds the lock)."""
        runs = {r for r in (self._read_owner() or {}).get("runs", []) if isinstance(r, str) and RUN_ID_RE.match(r)}
        runs.discard(self.run_id)
        for folder in (self.path, *(self.path / t for t in (*TABLES, MARKERS))):
            if not folder.is_dir():
                continue
            for p in folder.iterdir():
                parts = p.name.split("-", 2)
                if p.name.startswith(".tmp-") and len(parts) == 3 and parts[1] in runs and p.is_file():
                    p.unlink(missing_ok=True)

    def remove_derived(self) -> None:
        """Remove the report files earlier runs wrote (summary, report, figures): they are
        rewritten when this run ends, and must never describe shards that are no longer there."""
        owner = self._read_owner() or {}
        for rel in owner.get("written", []):
            # The record is a file anyone can edit: only names a report writes are ever removed.
            if isinstance(rel, str) and (rel in DERIVED_FILES or FIGURE_RE.match(rel)):
                with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                    (self.path / rel).unlink()
        _rmdir_if_empty(self.path / FIGURES)

    def clear(self) -> None:
        """``--overwrite``: remove every result this project wrote here (shards, markers,
        manifest, report files); anything else in the folder is left alone."""
        if not self.is_open:
            raise RuntimeError("open the folder before clearing it")
        self.remove_temporaries()
        for table in TABLES:
            for p in ls(self.path / table):
                if PART_RE.match(p.name):
                    p.unlink(missing_ok=True)
        for p in ls(self.path / MARKERS):
            if p.suffix == ".json" and TAG_RE.match(p.stem):
                p.unlink(missing_ok=True)
        (self.path / "manifest.json").unlink(missing_ok=True)
        self.remove_derived()
        owner = self._read_owner()
        if owner is not None:
            owner["written"] = []
            self._write_owner(owner)
        for name in (*TABLES, MARKERS, FIGURES):
            _rmdir_if_empty(self.path / name)


def ls(folder: Path) -> list[Path]:
    return list(folder.iterdir()) if folder.is_dir() else []


def _rmdir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
