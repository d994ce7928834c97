"""PDF plans, printed by Debian's Chromium from an HTML rendering of the same tables: a header
row repeated on each page, rows cut by a page break, merged cells; they must extract exactly
what the text versions do. Scanned and encrypted PDFs are refused with what to do.

Set TRACKER_SKIP_BROWSER=1 to skip on a machine without a browser.
"""

import base64
from pathlib import Path

import pdfplumber
import pytest
from docbuild import blocks_of, html_of, write_docx, write_pdf

from tracker.targets.documents import TableError, read_document, read_table
from tracker.targets.file import build_model


ROOT = Path(__file__).resolve().parent.parent
SEEDS = [ROOT / "sources" / "national-task-table.txt", ROOT / "sources" / "hainan-task-table.txt"]
FIXTURES = ROOT / "tests" / "fixtures" / "documents"
PLANS = [FIXTURES / "liaoning-plan.txt", FIXTURES / "city-plan.txt"]


# Font sizes at which Chromium's page breaks fall inside a row of the Hainan and Liaoning task
# tables (checked below), so that joining a cut row is exercised, not only repeated headers.
FONT = {"hainan-task-table": "11pt", "liaoning-plan": "11pt", "national-task-table": "11.5pt"}


@pytest.fixture(scope="module")
def pdfs(browser, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf")
    return {p.stem: write_pdf(browser, blocks_of(p), out / f"{p.stem}.pdf", FONT.get(p.stem, "12pt"))
            for p in SEEDS + PLANS}


def _pages(path: Path) -> list[list[str]]:
    with pdfplumber.open(str(path)) as pdf:
        return [page.extract_text().split("\n") for page in pdf.pages]


def _cut_rows(path: Path) -> list[str]:
    """First lines under a page's repeated header (序 重点任务 责任单位 / 号) that do not start a
    numbered row: the rest of a row the page break cut."""
    cut = []
    for lines in _pages(path)[1:]:
        if lines[0].startswith("序") and len(lines) > 2 and not lines[2].split(" ")[0].isdigit():
            cut.append(lines[2])
    return cut


@pytest.mark.parametrize("text", SEEDS + PLANS, ids=lambda p: p.stem)
def test_a_pdf_of_a_table_extracts_exactly_what_its_text_does(text, pdfs):
    one, other = build_model([text]), build_model([pdfs[text.stem]])
    assert other.tasks == one.tasks
    assert other.targets == one.targets
    assert other.milestones == one.milestones
    assert other.indicators == one.indicators
    assert (other.plans[0].title, other.plans[0].level) == (one.plans[0].title, one.plans[0].level)


def test_the_hainan_pdf_repeats_its_header_and_cuts_a_row_across_pages(pdfs):
    """What the equality above exercises: three pages, the header printed at the top of each,
    and a task's 责任单位 continued at the top of a page under an empty 序号 cell."""
    pages = _pages(pdfs["hainan-task-table"])
    assert len(pages) == 3
    assert all("序 重点任务 责任单位" in lines for lines in pages)
    assert _cut_rows(pdfs["hainan-task-table"]), "no row was cut by a page break"
    assert [t.number for t in read_table(pdfs["hainan-task-table"]).tasks] == list(range(1, 40))


def test_the_province_pdf_cuts_a_task_row_and_keeps_it_whole(pdfs):
    path = pdfs["liaoning-plan"]
    assert len(_pages(path)) >= 2 and _cut_rows(path), "no row was cut by a page break"
    task5 = read_document(path).task_tables[0].tasks[4]
    assert task5.text == "建立健全特殊困难老年人探访关爱制度，“十四五”末月探访率达到100%。"


def test_the_main_indicator_pdf_has_merged_cells(pdfs):
    """The Liaoning table's 属性 runs (预期性 预期性, 约束性 …) are rowspans; pdfplumber sees None
    under each, which the reader fills from the covering cell."""
    with pdfplumber.open(str(pdfs["liaoning-plan"])) as pdf:
        table = pdf.pages[0].extract_tables()[0]
    assert any(row[-1] is None for row in table[1:])
    rows = read_document(pdfs["liaoning-plan"]).indicator_tables[0].rows
    assert [r.attribute for r in rows] == ["预期性", "约束性", "预期性", "预期性", "约束性", "预期性", "预期性", "预期性",
                                           "预期性"]


def test_a_scanned_pdf_without_a_text_layer_is_refused(browser, tmp_path):
    page = browser.new_page()
    page.set_content(html_of(blocks_of(SEEDS[1])[:4]))
    png = page.screenshot(full_page=True)
    page.set_content(f'<!doctype html><meta charset="utf-8"><img src="data:image/png;base64,'
                     f'{base64.b64encode(png).decode()}" style="width:100%">')
    path = tmp_path / "scan.pdf"
    page.pdf(path=str(path), format="A4")
    page.close()
    with pytest.raises(TableError) as err:
        read_document(path)
    message = str(err.value)
    assert "没有文字层" in message and "no text layer" in message and "OCR" in message and str(path) in message


def test_an_encrypted_pdf_is_refused(pdfs, tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(str(pdfs["city-plan"])))
    writer.encrypt(user_password="secret", owner_password="owner")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(TableError) as err:
        read_document(path)
    message = str(err.value)
    assert "已加密" in message and "encrypted" in message and "unprotected PDF" in message


def test_a_pdf_with_text_but_no_ruled_table_is_refused(browser, tmp_path):
    page = browser.new_page()
    page.set_content('<!doctype html><meta charset="utf-8"><p>关于推进养老服务发展的通知</p><p>各市人民政府：现将有关事项通知如下。</p>')
    path = tmp_path / "notice.pdf"
    page.pdf(path=str(path), format="A4")
    page.close()
    with pytest.raises(TableError, match="没有找到带框线的表格.*no ruled table found"):
        read_document(path)


def test_docx_and_pdf_of_a_plan_agree_with_each_other(pdfs, tmp_path):
    docx_path = write_docx(blocks_of(PLANS[0]), tmp_path / "liaoning-plan.docx")
    assert build_model([docx_path]).targets == build_model([pdfs["liaoning-plan"]]).targets
