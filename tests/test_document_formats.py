"""Documents as they are published: Word .docx tables read like their text versions, formats
recognised from the file's bytes, and every document that cannot be read refused with what
was found and what to do (Chinese first, English after), nothing written."""

from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from docbuild import blocks_of, write_docx

from tracker.cli.main import cli
from tracker.targets.documents import IndicatorTable, TableError, TaskTable, read_document, read_table
from tracker.targets.file import build_model
from tracker.targets.formats import detect

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [ROOT / "sources" / "national-task-table.txt", ROOT / "sources" / "hainan-task-table.txt"]
FIXTURES = ROOT / "tests" / "fixtures" / "documents"
PLANS = [FIXTURES / "liaoning-plan.txt", FIXTURES / "city-plan.txt"]


def _same_extraction(a: Path, b: Path) -> None:
    one, other = build_model([a]), build_model([b])
    assert other.tasks == one.tasks
    assert other.targets == one.targets
    assert other.milestones == one.milestones
    assert other.indicators == one.indicators
    assert (other.plans[0].title, other.plans[0].level) == (one.plans[0].title, one.plans[0].level)


@pytest.mark.parametrize("text", SEEDS + PLANS, ids=lambda p: p.stem)
def test_a_docx_of_a_table_extracts_exactly_what_its_text_does(text, tmp_path):
    path = write_docx(blocks_of(text), tmp_path / f"{text.stem}.docx")
    _same_extraction(text, path)


def test_the_docx_really_has_merged_cells_and_a_repeated_header(tmp_path):
    """What the equality above exercises: the city table's 单位 and 责任单位 runs and its 一、 section
    rows are merged cells, and the header row is marked to repeat on each page."""
    path = write_docx(blocks_of(FIXTURES / "city-plan.txt"), tmp_path / "city.docx")
    table = docx.Document(str(path)).tables[0]
    header = table.rows[0]._tr.trPr
    assert header is not None and header.xml.count("tblHeader") == 1
    section = table.rows[1].cells
    assert len({c._tc for c in section}) == 1 and section[0].text == "一、“一老”方面"
    unit = [row.cells[2]._tc for row in table.rows]  # 单位: 万张 % 所 | 个 % 个 个
    assert unit[-1] is unit[-2] and unit[-2] is not unit[-3]
    tasks = docx.Document(str(path)).tables[1]
    assert tasks.rows[1].cells[2]._tc is tasks.rows[2].cells[2]._tc  # one 责任单位 cell for tasks 1 and 2
    assert [t.units_text for t in read_table(path).tasks[:2]] == ["市民政局牵头，各县区人民政府负责。"] * 2
    document = read_document(path)
    indicators = document.indicator_tables[0]
    assert [r.category for r in indicators.rows] == ["一、“一老”方面"] * 3 + ["二、“一小”方面"] * 4


def test_a_row_whose_number_cell_spans_two_rows_is_one_task(tmp_path):
    """A task whose 序号 and text are merged over two rows of 责任单位 (one per department)."""
    d = docx.Document()
    d.add_paragraph("重点任务分工表")
    t = d.add_table(rows=4, cols=3)
    for c, text in enumerate(["序号", "重点任务", "责任单位"]):
        t.cell(0, c).text = text
    t.cell(1, 0).merge(t.cell(2, 0)).text = "1"
    t.cell(1, 1).merge(t.cell(2, 1)).text = "到2025年，养老机构护理型床位占比不低于55%。"
    t.cell(1, 2).text = "省民政厅牵头"
    t.cell(2, 2).text = "省卫生健康委参加"
    for c, text in enumerate(["2", "推进医养结合。", "省卫生健康委负责"]):
        t.cell(3, c).text = text
    path = tmp_path / "merged.docx"
    d.save(str(path))
    table = read_table(path)
    assert [(r.number, r.units_text) for r in table.tasks] == [(1, "省民政厅牵头；省卫生健康委参加"), (2, "省卫生健康委负责")]


def test_a_docx_named_pdf_is_read_for_what_it_is(tmp_path):
    path = write_docx(blocks_of(SEEDS[1]), tmp_path / "hainan-task-table.pdf")
    assert detect(path) == "docx"
    assert len(read_table(path).tasks) == 39


def test_a_document_with_both_tables_keeps_the_task_numbers_and_numbers_indicators_after_them():
    document = read_document(FIXTURES / "liaoning-plan.txt")
    assert [type(t) for t in document.tables] == [IndicatorTable, TaskTable]
    model = build_model([FIXTURES / "liaoning-plan.txt"])
    numbers = [t.number for t in model.tasks]
    assert numbers == list(range(1, 25))  # 15 tasks keep 1–15; the 9 indicator rows follow as 16–24
    assert model.task("liaoning-plan", 16).text.startswith("养老服务床位数：2020年基期值 23.55")


# --- documents that cannot be read -------------------------------------------------------------
def _refused(path: Path, *needles: str) -> str:
    with pytest.raises(TableError) as err:
        read_document(path)
    message = str(err.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message, message
    said = message.split(": ", 1)[1]
    zh, _, en = said.partition(" / ")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh) and any(ch.isascii() and ch.isalpha() for ch in en)
    return message


def test_a_docx_without_a_table_is_refused(tmp_path):
    d = docx.Document()
    d.add_paragraph("关于推进养老服务发展的通知")
    d.add_paragraph("各市人民政府：现将有关事项通知如下。")
    path = tmp_path / "notice.docx"
    d.save(str(path))
    _refused(path, "没有表格", "no table", "2 paragraph(s)", "picture, or in another attachment")


def test_a_table_whose_columns_match_no_layout_is_refused_with_the_columns_found(tmp_path):
    d = docx.Document()
    t = d.add_table(rows=2, cols=3)
    for c, text in enumerate(["姓名", "职务", "联系电话"]):
        t.cell(0, c).text = text
    for c, text in enumerate(["张三", "处长", "0898-1234567"]):
        t.cell(1, c).text = text
    path = tmp_path / "contacts.docx"
    d.save(str(path))
    message = _refused(path, "姓名 | 职务 | 联系电话", "match no layout", "序号, 重点任务 and 责任单位", "基期值/目标值")
    assert "表1第1行 table 1 row 1" in message


def test_a_table_matching_no_layout_beside_one_that_does_is_skipped_and_named(tmp_path):
    blocks = blocks_of(SEEDS[1]) + [[["姓名", "职务"], ["张三", "处长"]]]
    path = write_docx(blocks, tmp_path / "with-contacts.docx")
    notes: list[str] = []
    model = build_model([path], notes=notes)
    assert len([t for t in model.tasks]) == 39
    assert len(notes) == 1 and "姓名 | 职务" in notes[0] and "matches no layout" in notes[0]


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


@pytest.mark.parametrize("name, content, needles", [
    ("plan.doc", OLE2, ["旧版 Word", "另存为", ".docx", "save it as .docx"]),
    ("plan.wps", OLE2, ["WPS", "另存为", "Word 文档（.docx）", "save it as a Word document (.docx)"]),
    ("plan.docx", OLE2, ["加密", "password-protected", "without a password"]),
    ("plan.doc", b"<html><head><meta charset=utf-8></head><body><table></table></body></html>",
     ["网页", "web page", "save it as .docx"]),
    ("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, ["PNG 图片", "OCR"]),
    ("plan.rtf", b"{\\rtf1\\ansi hello}", ["RTF", "save it as .docx"]),
    ("plan.bin", bytes(range(256)) * 4, ["无法识别的文件格式", "unknown file format", "first bytes 00 01 02"]),
    ("empty.docx", b"", ["文件是空的", "the file is empty"]),
    ("damaged.docx", b"PK\x03\x04" + b"\x00" * 100, ["已损坏", "damaged"]),
])
def test_documents_that_cannot_be_read_are_refused_with_what_to_do(tmp_path, name, content, needles):
    path = tmp_path / name
    path.write_bytes(content)
    _refused(path, *needles)


def test_an_excel_workbook_is_sent_to_tracker_import(tmp_path):
    import openpyxl

    path = tmp_path / "values.xlsx"
    openpyxl.Workbook().save(path)
    _refused(path, "Excel", "tracker import")


def test_the_cli_writes_nothing_when_a_document_is_refused(tmp_path):
    bad = tmp_path / "plan.wps"
    bad.write_bytes(OLE2)
    out = tmp_path / "draft.yaml"
    result = CliRunner().invoke(cli, ["extract", str(SEEDS[0]), str(bad), "-o", str(out)])
    assert result.exit_code == 1 and "另存为" in result.output and "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".*tmp"))
