"""targets.yaml: the committed file is valid; bad files get errors naming line, field and what is accepted."""

from pathlib import Path

import pytest

from tracker.targets.file import TargetsFileError, build_model, diff_models, dump_model, load_targets, parse_targets

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def committed():
    return load_targets(ROOT / "targets.yaml")


def test_committed_targets_file_is_valid_and_complete(committed):
    assert {p.id for p in committed.plans} == {"national", "hainan"}
    assert len([t for t in committed.tasks if t.plan == "hainan"]) == 39
    assert len([t for t in committed.targets if t.plan == "hainan"]) == 11


def test_dump_then_load_round_trips():
    draft = build_model([ROOT / "sources" / "national-task-table.txt", ROOT / "sources" / "hainan-task-table.txt"])
    again = parse_targets(dump_model(draft))
    assert again.targets == draft.targets
    assert again.milestones == draft.milestones
    assert again.indicators == draft.indicators
    assert again.tasks == [t.__class__(t.plan, t.number, t.text, tuple(sorted(t.units, key=lambda u: ("lead", "participating", "joint", "local").index(u.role))), t.units_text, t.implements) for t in draft.tasks]


def test_reextraction_shows_reviewed_edits_instead_of_overwriting(committed):
    draft = build_model([ROOT / "sources" / "national-task-table.txt", ROOT / "sources" / "hainan-task-table.txt"])
    changes = diff_models(committed, draft)
    # the reviewed file renamed the plans' titles; the extraction cannot know that
    assert any(line.startswith("~ plan hainan: title") for line in changes)
    assert not any("target" in line for line in changes)


def _replace(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.fixture(scope="module")
def text():
    return (ROOT / "targets.yaml").read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize("old, new, field, accepted", [
    ("comparator: '>='", "comparator: about", "comparator", "use one of: >=, >, <=, <"),
    ("deadline: 2025-12-31", "deadline: end of 2025", "deadline", "YYYY-MM-DD"),
    ("unit: bed / kiloperson\n  kind: ratio", "unit: furlong\n  kind: ratio", "unit", "known units"),
    ("indicator: elderly_care_beds_per_1000_elderly", "indicator: elderly_beds", "indicator", "does not exist"),
    ("scope: whole", "scope: everywhere", "scope", "whole, each_region"),
    ("value: 32.0\n  unit: bed / kiloperson", "value: .nan\n  unit: bed / kiloperson", "value", "a finite number"),
    ("value: 32.0\n  unit: bed / kiloperson", "value: -.inf\n  unit: bed / kiloperson", "value", "a finite number"),
    ("value: 32.0\n  unit: bed / kiloperson", "value: -32.0\n  unit: bed / kiloperson", "value", "0 or more"),
    ("value: 60.0\n  unit: percent", "value: -60.0\n  unit: percent", "value", "0 or more"),
    ("value: 60.0\n  unit: percent", "value: 160.0\n  unit: percent", "value", "between 0 and 100%"),
    ("value: 15000.0\n  unit: person_time", "value: -15000.0\n  unit: person_time", "value", "0 or more"),
    ("cumulative: false\n  quote: 到2025年底，全省养老机构护理型床位占比", "cumulative: true\n  quote: 到2025年底，全省养老机构护理型床位占比",
     "cumulative", "cumulative is for flow/count indicators"),
    ("numerator: elderly_care_beds\n", "numerator: elderly_care_beds_per_1000_elderly\n", "numerator",
     "component cycle elderly_care_beds_per_1000_elderly → elderly_care_beds_per_1000_elderly"),
])
def test_bad_field_names_line_field_and_what_is_accepted(text, old, new, field, accepted):
    bad = _replace(text, old, new)
    with pytest.raises(TargetsFileError) as err:
        parse_targets(bad, "targets.yaml")
    line = _line_of(bad, new)
    assert any(p.startswith(f"line {line}: {field}:") and accepted in p for p in err.value.problems), err.value.problems


def test_duplicate_id_and_several_problems_are_all_listed(text):
    bad = _replace(text, "id: hainan-7-childcare_enrollment_rate", "id: hainan-6-elderly_care_beds_per_1000_elderly")
    bad = _replace(bad, "deadline: 2022-12-31", "deadline: 2022-13-01")
    with pytest.raises(TargetsFileError) as err:
        parse_targets(bad)
    problems = "\n".join(err.value.problems)
    assert "duplicate target/milestone id" in problems and "2022-13-01" in problems
    assert len(err.value.problems) == 2


def test_unit_of_wrong_dimension_for_its_indicator(text):
    bad = _replace(text, "value: 32.0\n  unit: bed / kiloperson", "value: 32.0\n  unit: person")
    with pytest.raises(TargetsFileError, match="cannot be converted"):
        parse_targets(bad)


def test_not_yaml_names_the_line():
    with pytest.raises(TargetsFileError, match=r"line [23]: not valid YAML"):
        parse_targets("version: 1\nplans: [\n")


def test_missing_file_says_how_to_create_it(tmp_path):
    with pytest.raises(TargetsFileError, match="tracker extract"):
        load_targets(tmp_path / "nope.yaml")


def test_cycle_of_ratio_components_is_spelled_out(text):
    # today's `tracker status` would recurse forever computing such a ratio
    bad = _replace(text, "- id: elderly_care_beds\n  name: 养老床位数\n",
                   "- id: elderly_care_beds\n  name: 养老床位数\n  numerator: elderly_care_beds_per_1000_elderly\n"
                   "  denominator: elderly_population\n")
    with pytest.raises(TargetsFileError) as err:
        parse_targets(bad)
    line = _line_of(bad, "numerator: elderly_care_beds_per_1000_elderly")
    assert err.value.problems == [(
        f"line {line}: numerator: component cycle elderly_care_beds_per_1000_elderly → elderly_care_beds → "
        "elderly_care_beds_per_1000_elderly; a ratio is computed from its numerator and denominator, so they must "
        "be other indicators that do not lead back to it")]


def test_every_new_kind_of_problem_is_listed_together(text):
    bad = _replace(text, "value: 32.0\n  unit: bed / kiloperson", "value: .nan\n  unit: bed / kiloperson")
    bad = _replace(bad, "value: 60.0\n  unit: percent", "value: -1.0\n  unit: percent")
    bad = _replace(bad, "cumulative: false\n  quote: 2025年底，全省公立型", "cumulative: true\n  quote: 2025年底，全省公立型")
    bad = _replace(bad, "denominator: elderly_population\n", "denominator: elderly_care_beds_per_1000_elderly\n")
    with pytest.raises(TargetsFileError) as err:
        parse_targets(bad)
    fields = sorted(p.split(": ")[1] for p in err.value.problems)
    assert fields == ["cumulative", "denominator", "value", "value"], err.value.problems


def test_zero_under_an_upper_bound_and_a_full_percentage_are_accepted(text):
    ok = _replace(text, "comparator: '>='\n  value: 60.0\n  unit: percent", "comparator: <=\n  value: 0\n  unit: percent")
    ok = _replace(ok, "value: 70.0\n  unit: percent", "value: 100\n  unit: percent")
    parse_targets(ok)
