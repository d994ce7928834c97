"""PDF documents with a text layer, through pdfplumber: ruled tables and the text around them.

A table printed over several pages comes back as one grid: the header row a PDF repeats at the
top of each page is dropped, and a row cut by the page break (its 序号 cell empty at the top of
the next page) is joined to its first part. Merged cells (rowspan/colspan) are filled in from
the cell that covers them, as python-docx does for Word. Page numbers ("— 3 —") are not text.
"""

import logging
import re
from pathlib import Path
from typing import Any

from tracker.targets.formats.grid import Grid, Row, Source, TableError, join_lines

PAGE_NUMBER = re.compile(r"^[\s\-—–－]*(?:第\s*)?\d+\s*(?:页)?(?:\s*/\s*\d+|\s*共\s*\d+\s*页)?[\s\-—–－]*$")


def read_pdf(path: str | Path) -> Source:
    import pdfplumber  # imported here so that `tracker --help` stays fast

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # font warnings are not the user's problem
    source = str(path)
    try:
        pdf = pdfplumber.open(source)
        pages = pdf.pages
    except Exception as exc:  # pdfminer raises several unrelated types for these
        if _encrypted(exc):
            raise TableError(source, 0, "PDF 已加密（需要密码才能打开）：请用密码打开后“打印”为不加密的 PDF，或向发文单位索取 .docx 版本 / "
                             "the PDF is encrypted (it needs a password to open); open it with the password and "
                             "print it to an unprotected PDF, or get the .docx version from the issuer",
                             where="0") from exc
        raise TableError(source, 0, f"PDF 文件已损坏，无法读取（{type(exc).__name__}）：请重新下载或另存 / "
                         f"the PDF is damaged and cannot be read ({type(exc).__name__}); download or save it "
                         "again", where="0") from exc
    with pdf:
        if not any(page.chars for page in pages):
            raise TableError(source, 0, f"PDF 没有文字层（{len(pages)} 页都是图片，像是扫描件）：请向发文单位索取 .docx 或可复制文字的 PDF，"
                             "或先做文字识别（如 ocrmypdf）/ the PDF has no text layer (its "
                             f"{len(pages)} page(s) are images, as a scan is); get the .docx or a PDF with "
                             "selectable text from the issuer, or run OCR on it first (e.g. ocrmypdf)", where="0")
        blocks: list[str | Grid] = []
        for number, page in enumerate(pages, start=1):
            _read_page(page, number, blocks)
    return Source(source, "pdf", blocks)


def _encrypted(exc: BaseException) -> bool:
    """pdfplumber wraps pdfminer's PDFPasswordIncorrect / PDFEncryptionError in its own exception."""
    causes = [exc, *exc.args, exc.__cause__, exc.__context__]
    return any(isinstance(c, BaseException) and ("Password" in type(c).__name__ or "Encrypt" in type(c).__name__)
               for c in causes)


def _text(page: Any, top: float, bottom: float) -> list[str]:
    """The text lines between two heights, a paragraph wrapped over several lines joined back
    (a line that runs to the right margin continues on the next)."""
    if bottom - top < 1:
        return []
    region = page.crop((0, max(0, top), page.width, min(page.height, bottom)), strict=False)
    lines = [ln for ln in region.extract_text_lines() if ln["text"].strip() and not PAGE_NUMBER.match(ln["text"])]
    if not lines:
        return []
    right = max(ln["x1"] for ln in page.extract_text_lines()) if page.chars else page.width
    size = max((c["size"] for c in page.chars), default=10)
    out: list[str] = []
    full = False
    for ln in lines:
        text = ln["text"].strip()
        if full and out:
            out[-1] = join_lines([out[-1], text])
        else:
            out.append(text)
        full = ln["x1"] >= right - 1.5 * size
    return out


def _tables(page: Any) -> list[Any]:
    """The page's ruled tables. A row cut by the page break has no bottom (or top) rule on this
    page; closing the table where its vertical rules end keeps that part of the row in it."""
    verticals = [e for e in page.edges if e["orientation"] == "v"]
    closing = sorted({round(min(e["top"] for e in verticals), 2), round(max(e["bottom"] for e in verticals), 2)}) \
        if verticals else []
    return sorted(page.find_tables({"explicit_horizontal_lines": closing}), key=lambda t: t.bbox[1])


def _read_page(page: Any, number: int, blocks: list[str | Grid]) -> None:
    y = 0.0
    for table in _tables(page):
        above = _text(page, y, table.bbox[1])
        blocks.extend(above)
        rows = _rows(table, number)
        previous = blocks[-1] if blocks else None
        if not above and isinstance(previous, Grid) and rows and len(rows[0].cells) == len(previous.rows[0].cells):
            _continue(previous, rows)
        elif rows:
            count = len([b for b in blocks if isinstance(b, Grid)]) + 1
            blocks.append(Grid(rows, count, f"第{number}页 page {number}"))
        y = table.bbox[3]
    blocks.extend(_text(page, y, page.height))


def _same(a: Row, b: Row) -> bool:
    return [re.sub(r"\s", "", c) for c in a.cells] == [re.sub(r"\s", "", c) for c in b.cells]


def _continue(grid: Grid, rows: list[Row]) -> None:
    """The same table on the next page: drop its repeated header, join a row the page cut."""
    header = grid.rows[0]
    while rows and _same(rows[0], header):
        rows = rows[1:]
    if rows and not rows[0].cells[0].strip() and not rows[0].heading:
        last, cut = grid.rows[-1], rows.pop(0)
        last.cells = [join_lines([a, b]) for a, b in zip(last.cells, cut.cells)]
    base = len(grid.rows)
    for i, row in enumerate(rows, start=1):
        row.line = base + i
    grid.rows.extend(rows)


def _rows(table: Any, page: int) -> list[Row]:
    data = table.extract()
    boxes = [row.cells for row in table.rows]
    width = max((len(r) for r in boxes), default=0)
    centres = []
    for c in range(width):
        spans = [r[c] for r in boxes if c < len(r) and r[c] is not None]
        narrowest = min(spans, key=lambda b: b[2] - b[0]) if spans else None
        centres.append((narrowest[0] + narrowest[2]) / 2 if narrowest else None)
    rows: list[Row] = []
    for r, cells in enumerate(boxes):
        texts, merged = [], []
        top = table.rows[r].bbox[1]
        bottom = min((b[3] for b in cells if b is not None), default=table.rows[r].bbox[3])  # not a merged cell's
        for c in range(width):
            box = cells[c] if c < len(cells) else None
            if box is not None:
                texts.append(join_lines((data[r][c] or "").split("\n")))
                merged.append(False)
                continue
            r0, c0 = _covering(boxes, centres[c], (top + bottom) / 2, r, c)
            texts.append(join_lines((data[r0][c0] or "").split("\n")) if r0 is not None else "")
            merged.append(r0 is not None and r0 < r)
        rows.append(Row(texts, r + 1, f"第{page}页表格第{r + 1}行 page {page} row {r + 1}", merged))
    return rows


def _covering(boxes: list, x: float | None, y: float, r: int, c: int) -> tuple[int | None, int]:
    """The row and column of the cell whose box covers (x, y): the merged cell a None stands for."""
    if x is None:
        return None, 0
    for r0 in range(r, -1, -1):
        for c0, box in enumerate(boxes[r0]):
            if box is not None and box[0] - 1 <= x <= box[2] + 1 and box[1] - 1 <= y <= box[3] + 1:
                return r0, c0
    return None, 0
