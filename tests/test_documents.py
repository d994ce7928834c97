"""Both task-table layouts parse completely; responsible units split into roles."""

import re
from pathlib import Path

import pytest

from tracker.targets.documents import TableError, parse_table, read_table, split_units

SOURCES = Path(__file__).resolve().parent.parent / "sources"


def _chars(text: str) -> str:
    return re.sub(r"\s", "", text)


def test_national_table_has_33_tasks_in_rows_layout():
    table = read_table(SOURCES / "national-task-table.txt")
    assert table.layout == "rows"
    assert [t.number for t in table.tasks] == list(range(1, 34))
    assert table.title == "促进养老托育服务健康发展重点任务分工表"


def test_hainan_table_has_39_tasks_in_cells_layout_with_trailer():
    table = read_table(SOURCES / "hainan-task-table.txt")
    assert table.layout == "cells"
    assert [t.number for t in table.tasks] == list(range(1, 40))
    assert table.trailer and table.trailer[0].startswith("抄送")


@pytest.mark.parametrize("name", ["national-task-table.txt", "hainan-task-table.txt"])
def test_no_text_is_lost(name):
    """Every character of the file is in a task, a unit cell, the header, title or trailer."""
    raw = (SOURCES / name).read_text(encoding="utf-8")
    table = read_table(SOURCES / name)
    kept = "".join([*table.preamble, "序号重点任务责任单位",
                    *(f"{t.number}{t.text}{t.units_text}" for t in table.tasks), *table.trailer])
    assert sorted(_chars(kept)) == sorted(_chars(raw))


def test_lead_and_participating_units_split_into_organisations():
    units = split_units("住房城乡建设部牵头，中直管理局、国家发展改革委、民政部、自然资源部、国家卫生健康委、"
                        "应急部、国务院国资委、国管局参加。")
    assert [u.name for u in units if u.role == "lead"] == ["住房城乡建设部"]
    assert [u.name for u in units if u.role == "participating"] == [
        "中直管理局", "国家发展改革委", "民政部", "自然资源部", "国家卫生健康委", "应急部", "国务院国资委", "国管局"]


def test_long_hainan_list_with_local_government_and_parenthetical():
    table = read_table(SOURCES / "hainan-task-table.txt")
    task23 = next(t for t in table.tasks if t.number == 23)
    units = split_units(task23.units_text)
    assert [u.name for u in units if u.role == "lead"] == ["省发展改革委"]
    joint = [u.name for u in units if u.role == "joint"]
    assert len(joint) == 11 and joint[-1] == "人行海口中心支行" and "省委编办" in joint
    assert [u.name for u in units if u.role == "local"] == ["各市县政府"]
    first = split_units(table.tasks[0].units_text)
    assert [(u.name, u.role) for u in first] == [("省民政厅", "joint"), ("省财政厅", "joint"), ("各市县政府", "local")]


@pytest.mark.parametrize("text, expected", [
    ("省民政厅牵头负责，各市县政府负责。", [("省民政厅", "lead"), ("各市县政府", "local")]),
    ("省民政厅、省卫生健康委牵头，省住房城乡建设厅、省工业和信息化厅按职责分工负责，各市县政府负责。",
     [("省民政厅", "lead"), ("省卫生健康委", "lead"), ("省住房城乡建设厅", "joint"),
      ("省工业和信息化厅", "joint"), ("各市县政府", "local")]),
    ("省工业和信息化厅、省残联按职责负责，各市县人民政府负责。",
     [("省工业和信息化厅", "joint"), ("省残联", "joint"), ("各市县人民政府", "local")]),
    ("国家卫生健康委牵头，国家医保局参加；地方各级人民政府负责。",
     [("国家卫生健康委", "lead"), ("国家医保局", "participating"), ("地方各级人民政府", "local")]),
    ("国家发展改革委牵头，各相关部门参加。", [("国家发展改革委", "lead"), ("各相关部门", "participating")]),
])
def test_roles(text, expected):
    assert [(u.name, u.role) for u in split_units(text)] == expected


def test_every_task_of_both_tables_names_a_lead_or_joint_unit():
    for name in ("national-task-table.txt", "hainan-task-table.txt"):
        for task in read_table(SOURCES / name).tasks:
            units = split_units(task.units_text)
            assert any(u.role in ("lead", "joint") for u in units), (name, task.number)
            assert all("，" not in u.name and "、" not in u.name for u in units)


def test_row_with_missing_cell_names_its_line():
    text = "序号\t重点任务\t责任单位\n1\t任务一\t民政部负责。\n2\t任务二\n"
    with pytest.raises(TableError) as err:
        parse_table(text, "bad.txt")
    assert err.value.line == 3 and "3 tab-separated cells" in str(err.value) and "bad.txt:3" in str(err.value)


def test_cell_row_with_two_cells_is_refused_with_its_line():
    text = "\t序号\n\t重点任务\n\t责任单位\n\n\t1\n\t任务一\n\t省民政厅负责。\n\n\t2\n\t任务二\n"
    with pytest.raises(TableError) as err:
        parse_table(text, "cells.txt")
    assert err.value.line == 9 and "task 2" in str(err.value)


def test_duplicate_task_number_is_refused():
    text = "序号\t重点任务\t责任单位\n1\t任务一\t民政部负责。\n1\t任务二\t民政部负责。\n"
    with pytest.raises(TableError, match="appears twice"):
        parse_table(text, "dup.txt")


def test_text_without_a_table_is_refused():
    with pytest.raises(TableError, match="no task table"):
        parse_table("这是一段普通文字。\n没有表格。\n", "prose.txt")


def test_gbk_encoded_table_is_read(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes("序号\t重点任务\t责任单位\n1\t到2025年底，养老床位达到32张。\t民政厅牵头。\n".encode("gbk"))
    assert read_table(path).tasks[0].units_text == "民政厅牵头。"
