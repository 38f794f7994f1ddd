"""The order in which the suite's files start.

The suite runs on two processes, each taking a whole file at a time (``addopts`` in
pyproject.toml), so the files that share one costly set-up (a browser and an app server, a
search, a run) keep it in one process. The browser tests of the app take minutes on their one
server: they start first, then the other long files, then the rest in the order pytest finds
them, so that the two processes finish close together instead of one waiting on the last long
file. A file not named here only starts later; it runs all the same.
"""

LONG_FIRST = ("test_app_e2e.py", "test_cli.py", "test_optimise.py", "test_notebooks.py", "test_app_layout_e2e.py",
              "test_fuzz.py", "test_outputs.py", "test_app.py", "test_calibration.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))     # stable: a file's own order holds
