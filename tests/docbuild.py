"""The same document as .docx (python-docx) and PDF (HTML printed by Chromium), built from a
text fixture, as officials receive them: a header row repeated on every page, section rows
merged across the table, and runs of equal 属性 / 单位 / 责任单位 cells merged down the column.

The tests build these in tmp_path; no generated binary is committed.
"""

import html
from pathlib import Path
from typing import Any

from tracker.targets.formats.text import read_text

MERGED_COLUMNS = ("属性", "单位", "责任单位")  # a run of equal cells here becomes one merged cell


def blocks_of(path: Path) -> list[str | list[list[str]]]:
    """The fixture's text lines and tables (rows of cells), in order."""
    return [b if isinstance(b, str) else [r.cells for r in b.rows] for b in read_text(path).blocks]


def _spans(rows: list[list[str]]) -> dict[tuple[int, int], int]:
    """(row, column) -> how many rows the cell covers; 0 for a cell covered by the one above."""
    header = rows[0]
    width = len(header)
    spans: dict[tuple[int, int], int] = {}
    for c, heading in enumerate(header):
        if not any(word in heading for word in MERGED_COLUMNS):
            continue
        r = 1
        while r < len(rows):
            if len(rows[r]) != width:
                r += 1
                continue
            end = r + 1
            while end < len(rows) and len(rows[end]) == width and rows[end][c] == rows[r][c] and rows[r][c]:
                end += 1
            if end - r > 1:
                spans[(r, c)] = end - r
                for k in range(r + 1, end):
                    spans[(k, c)] = 0
            r = end
    return spans


def write_docx(blocks: list[str | list[list[str]]], path: Path) -> Path:
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    for block in blocks:
        if isinstance(block, str):
            document.add_paragraph(block)
            continue
        width = len(block[0])
        table = document.add_table(rows=len(block), cols=width)
        table.style = "Table Grid"
        header_props = table.rows[0]._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        header_props.append(repeat)  # Word repeats it at the top of each page
        spans = _spans(block)
        for r, cells in enumerate(block):
            if len(cells) == 1:  # a section row across the table
                merged = table.cell(r, 0).merge(table.cell(r, width - 1))
                merged.text = cells[0]
                continue
            for c, text in enumerate(cells):
                span = spans.get((r, c), 1)
                if span == 0:
                    continue
                cell = table.cell(r, c)
                if span > 1:
                    cell = cell.merge(table.cell(r + span - 1, c))
                cell.text = text
    document.save(str(path))
    return path


def html_of(blocks: list[str | list[list[str]]], font_size: str = "12pt") -> str:
    parts = []
    for block in blocks:
        if isinstance(block, str):
            parts.append(f"<p>{html.escape(block)}</p>")
            continue
        width = len(block[0])
        spans = _spans(block)
        head = "".join(f"<th>{html.escape(c)}</th>" for c in block[0])
        body = []
        for r, cells in enumerate(block[1:], start=1):
            if len(cells) == 1:
                body.append(f'<tr><td colspan="{width}">{html.escape(cells[0])}</td></tr>')
                continue
            tds = []
            for c, text in enumerate(cells):
                span = spans.get((r, c), 1)
                if span == 0:
                    continue
                attr = f' rowspan="{span}"' if span > 1 else ""
                tds.append(f"<td{attr}>{html.escape(text)}</td>")
            body.append(f"<tr>{''.join(tds)}</tr>")
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
    return f"""<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><style>
body {{ font-family: 'WenQuanYi Micro Hei', sans-serif; font-size: {font_size}; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #000; padding: 4px; vertical-align: top; orphans: 1; widows: 1; }}
thead {{ display: table-header-group; }}
</style></head><body>{''.join(parts)}</body></html>"""


def write_pdf(browser: Any, blocks: list[str | list[list[str]]], path: Path, font_size: str = "12pt") -> Path:
    page = browser.new_page()
    try:
        page.set_content(html_of(blocks, font_size))
        page.pdf(path=str(path), format="A4", margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
    finally:
        page.close()
    return path


def pdf_pages(path: Path) -> int:
    import pdfplumber

    with pdfplumber.open(str(path)) as pdf:
        return len(pdf.pages)
