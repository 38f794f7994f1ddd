"""Programme hooks cannot be misspelt or mis-shaped, and the quarter calls every declared hook."""

import numpy as np
import pytest

import sim.programmes as programmes
from sim import InnovationModel
from sim.programmes import HOOKS, HookError, Programme, check_hooks
from sim.programmes._base import ACTIONS, TERMS


def test_the_shipped_programmes_pass_the_check():
    for cls in programmes.PROGRAMMES:
        check_hooks(cls)


@pytest.mark.parametrize("name, words", [
    ("after_listng", "did you mean after_listing"),
    ("exit_hazzard", "did you mean exit_hazard"),
    ("listing", "did you mean listing_eligibility"),   # the old two-valued term is no hook now
    ("after_graduation", "looks like a hook"),
])
def test_a_method_named_like_a_hook_that_is_none_fails_loudly(name, words):
    cls = type("Misspelt", (Programme,), {name: lambda self, *a: None})
    with pytest.raises(HookError, match=words):
        check_hooks(cls)


def test_a_hook_that_cannot_take_its_arguments_fails_loudly():
    two_values = type("TwoValues", (Programme,), {"listing_rate": lambda self, eligible, rate, firms: (eligible, rate)})
    with pytest.raises(HookError, match=r"listing_rate: \(self, rate, firms\)"):
        check_hooks(two_values)
    no_rows = type("NoRows", (Programme,), {"after_exit": lambda self: None})
    with pytest.raises(HookError, match="action hook after_exit"):
        check_hooks(no_rows)


def test_helpers_that_are_not_hooks_are_left_alone():
    check_hooks(type("Helpers", (Programme,), {"financed": lambda self, firms: None,
                                                  "allocation_scores": lambda self: None}))


class Recorder(Programme):
    """Defines every hook: actions record the call, terms record what they were handed and hand
    it on unchanged."""
    name = "recorder"
    calls: dict = {}


def _action(hook):
    def f(self, *args):
        Recorder.calls.setdefault(hook, []).append(None)
    return f


def _term(hook):
    def f(self, value, *args):
        # exactly one value is threaded: never a pair of them
        assert not isinstance(value, tuple), (hook, type(value))
        Recorder.calls.setdefault(hook, []).append(type(value))
        return value
    return f


for _hook in ACTIONS:
    setattr(Recorder, _hook, _action(_hook))
for _hook in TERMS:
    setattr(Recorder, _hook, _term(_hook))


def test_the_quarter_calls_every_declared_hook_and_a_no_op_programme_changes_nothing(monkeypatch):
    def city(model):
        model.run_until(2023)
        frame = model.datacollector.get_model_vars_dataframe()
        model.release()
        return frame

    settings = dict(scale=0.02, seed=3, consortia__enabled=True)
    plain = city(InnovationModel(**settings))
    Recorder.calls = {}
    monkeypatch.setattr(programmes, "PROGRAMMES", programmes.PROGRAMMES + (Recorder,))
    recorded = city(InnovationModel(**settings))
    assert set(Recorder.calls) == set(HOOKS), sorted(set(HOOKS) - set(Recorder.calls))
    assert Recorder.calls["listing_eligibility"][0] is np.ndarray
    assert plain.equals(recorded)
