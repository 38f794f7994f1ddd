"""What the model needs across parameters, refused before any simulation with a named error."""

import dataclasses
import math

import pytest

from sim import InnovationModel
from sim.core.data_checks import MAX_LINKS, check_against_data, expected_links
from sim.experiments.scenario_files import REPO_SCENARIOS
from sim.experiments.scenarios import ScenarioError, load
from sim.params.checks import check_params
from sim.params.fields import DISTRICTS, ParamConflict
from sim.params.parameters import ParamError, Params, adcode_sets


@pytest.mark.parametrize("overrides, key, words", [
    ({"start_year": 2019}, "start_year", "up to the latest, 2024"),
    ({"evaluation": {"weights": [0, 0, 0, 0, 0]}}, "evaluation.weights", "positive sum"),
    ({"evaluation": {"weights": [-1, 1, 1, 1, 1]}}, "evaluation.weights", "0 or more"),
    ({"cultivation": {"certification_windows": [5, 6]}}, "cultivation.certification_windows", "1 to 4"),
    ({"cultivation": {"certification_windows": [2.5, 4]}}, "cultivation.certification_windows", "whole numbers"),
    ({"platforms": {"zone_upgrades": ["500151", "500999"]}}, "platforms.zone_upgrades", "'500999' is not allowed"),
    ({"innovative_county": {"already_passed": ["999"]}}, "innovative_county.already_passed", "38 districts"),
    # 渝中 is a district: the model only builds counties toward innovative-county status
    ({"innovative_county": {"candidates": ["500103"]}}, "innovative_county.candidates", "500233 忠县"),
    # an adcode list is a set: each adcode once, so never longer than the 38 districts
    ({"platforms": {"zone_upgrades": ["500151", "500152", "500151"]}}, "platforms.zone_upgrades",
     "'500151' is listed more than once"),
    ({"innovative_county": {"candidates": ["500233", "500233"]}}, "innovative_county.candidates", "listed more than once"),
    ({"innovative_county": {"already_passed": ["500236"] * 39}}, "innovative_county.already_passed", "at most 38; got a "
     "list of 39"),
    ({"platforms": {"zone_upgrades": [f"x{i}" for i in range(40)]}}, "platforms.zone_upgrades", "at most 38"),
    ({"behaviour": {"link_decay": 0.0}}, "behaviour.link_decay", "never decay"),
    ({"behaviour": {"link_decay": 0.001}}, "behaviour.link_decay", "raise link_decay to at least"),
    ({"behaviour": {"link_rate": 40.0}}, "behaviour.link_decay", f"{MAX_LINKS:,} links"),
    ({"guiding_fund": {"annual_budget": 10**400}}, "guiding_fund.annual_budget", "finite number"),
])
def test_what_the_model_cannot_run_is_a_named_error(overrides, key, words):
    # A rule the values break among themselves is refused as the parameters are built; one that
    # needs the data as well, by the check every model build and scenario file goes through.
    with pytest.raises(ParamError) as err:
        check_against_data(Params().with_overrides(overrides, file="mine.toml"), "mine.toml")
    assert err.value.key == key and words in str(err.value) and "mine.toml" in str(err.value)
    assert len(str(err.value)) < 1000


def test_the_model_built_from_python_gets_the_same_checks():
    with pytest.raises(ParamError, match="start_year"):
        InnovationModel(start_year=2019, scale=0.01)
    with pytest.raises(ParamError, match="link_decay"):
        InnovationModel({"behaviour": {"link_decay": 0.0}}, scale=0.01)
    with pytest.raises(ParamError, match="certification_windows"):
        InnovationModel(cultivation__certification_windows=(5, 6), scale=0.01)


def test_the_link_ceiling_scales_with_the_model_and_defaults_sit_far_below_it():
    default = expected_links(Params())
    assert 0 < default < MAX_LINKS / 5
    slow = Params().with_overrides(scale=0.01, behaviour__link_decay=0.01)   # fine small, refused at full scale
    assert expected_links(slow) < MAX_LINKS
    with pytest.raises(ParamConflict):
        check_against_data(slow.with_overrides(scale=1.0))
    assert expected_links(Params().with_overrides(
        behaviour={"link_rate": 0.0, "university_link_rate": 0.0}, consortia={"enabled": False})) == 0
    p = Params()
    never = dataclasses.replace(p, behaviour=dataclasses.replace(p.behaviour, link_decay=0.0))   # built unchecked
    assert math.isinf(expected_links(never))


def test_no_links_formed_means_no_decay_is_needed():
    # nothing forms links, so links that never decay cannot grow the network
    Params().with_overrides(behaviour={"link_rate": 0.0, "university_link_rate": 0.0, "link_decay": 0.0},
                            consortia={"enabled": False})


def test_the_checks_return_what_they_were_given():
    p = Params()
    assert check_params(p, "x.toml") is p and check_against_data(p, "x.toml") is p


def test_parameters_alone_need_no_data():
    # Building parameters reads no data file: the data's rules wait for the model or the scenario.
    p = Params().with_overrides(start_year=2019, platforms={"zone_upgrades": ["500999"]})
    with pytest.raises(ParamError, match="start_year"):
        check_against_data(p)


def test_a_cross_field_rule_is_judged_on_the_merged_scenario_not_file_by_file(tmp_path):
    (tmp_path / "parent.toml").write_text('name = "p"\ndescription = "fast-decaying links"\n'
                                          f'extends = "{REPO_SCENARIOS / "baseline.toml"}"\n'
                                          '[behaviour]\nlink_decay = 2.0\n', "utf-8")
    (tmp_path / "child.toml").write_text('name = "c"\ndescription = "many links"\nextends = "parent"\n'
                                         '[behaviour]\nlink_rate = 30.0\n', "utf-8")
    s = load(tmp_path / "child.toml")
    assert (s.params.behaviour.link_rate, s.params.behaviour.link_decay) == (30.0, 2.0)
    (tmp_path / "alone.toml").write_text('name = "a"\ndescription = "many links, default decay"\n'
                                         f'extends = "{REPO_SCENARIOS / "baseline.toml"}"\n'
                                         '[behaviour]\nlink_rate = 30.0\n', "utf-8")
    with pytest.raises(ScenarioError) as err:
        load(tmp_path / "alone.toml")
    assert err.value.key == "behaviour.link_decay" and err.value.file.endswith("alone.toml")


@pytest.mark.parametrize("key", ["platforms.zone_upgrades", "innovative_county.candidates",
                                 "innovative_county.already_passed"])
def test_a_million_repeats_of_a_valid_adcode_are_refused_at_once(key):
    # One valid adcode a million times was once a valid set-up that took seconds to check and
    # rode along in every replicate; its length alone refuses it now, before any element is read.
    # The list refuses to be read, so the check is shown to need its length only (a time limit
    # would say the same less surely, and fail on a busy machine).
    class Unread(list):
        def __iter__(self):
            raise AssertionError("an element of the list was read")
        __getitem__ = __iter__

    section, name = key.split(".")
    code = Params().to_dict()[section][name][0]
    with pytest.raises(ParamError) as err:
        Params().with_overrides({section: {name: Unread([code] * 10**6)}}, file="mine.toml")
    assert err.value.key == key and "at most 38; got a list of 1,000,000" in str(err.value)
    assert "mine.toml" in str(err.value) and len(str(err.value)) < 300


def test_the_adcode_sets_are_declared_once_and_the_defaults_are_sets():
    sets = {key: of for key, _, of in adcode_sets(Params())}
    assert sets == {"platforms.zone_upgrades": "districts", "innovative_county.candidates": "counties",
                    "innovative_county.already_passed": "districts"}
    for key, codes, _ in adcode_sets(Params()):
        assert len(set(codes)) == len(codes) <= DISTRICTS, key
    # a set of every district is allowed, in any order; so is an empty one
    every = sorted(_districts(), reverse=True)
    assert len(every) == DISTRICTS
    check_against_data(Params().with_overrides(platforms={"zone_upgrades": every}))
    check_against_data(Params().with_overrides(innovative_county={"candidates": [], "already_passed": []}))


def _districts() -> set:
    from sim.data import identity
    return set(identity.district_identity(str(identity.data_folder(None)))["adcode"].astype(str))
