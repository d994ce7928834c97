"""Word .docx documents, through python-docx: paragraphs and tables in the body's order.

python-docx already repeats a merged cell's text in every grid position it covers (a 属性 cell
spanning five rows reads 约束性 in each); a cell that is the vertical continuation of the one
above is flagged, so a task whose 序号 and text span two rows of units stays one task. A table
of one column is a boxed paragraph (专栏), read as text.
"""

from pathlib import Path

from tracker.targets.formats.grid import Grid, Row, Source, TableError, join_lines


def read_docx(path: str | Path) -> Source:
    import docx  # python-docx, imported here so that `tracker --help` stays fast
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise TableError(str(path), 0, f"Word 文档无法打开（{exc}）：请在 Word 或 WPS 中打开后重新另存为 .docx / "
                         f"the Word document cannot be opened ({exc}); open it in Word or WPS and save it "
                         "again as .docx", where="0") from exc
    blocks: list[str | Grid] = []
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = Paragraph(element, document).text.strip()
            if text:
                blocks.append(text)
        elif tag == "tbl":
            table = Table(element, document)
            rows = _rows(table, len([b for b in blocks if isinstance(b, Grid)]) + 1)
            if rows and _one_column(table):
                blocks.extend(cell for r in rows for cell in r.cells[:1] if cell)  # a boxed paragraph
            elif rows:
                number = len([b for b in blocks if isinstance(b, Grid)]) + 1
                blocks.append(Grid(rows, number, f"表{number} table {number}"))
    return Source(str(path), "docx", blocks)


def _one_column(table) -> bool:
    return all(len({id(c._tc) for c in row.cells}) <= 1 for row in table.rows)


def _rows(table, number: int) -> list[Row]:
    rows: list[Row] = []
    above: list = []
    for r, row in enumerate(table.rows, start=1):
        cells = list(row.cells)
        texts = [join_lines(c.text.split("\n")) for c in cells]
        merged = [i < len(above) and cells[i]._tc is above[i]._tc for i in range(len(cells))]
        rows.append(Row(texts, r, f"表{number}第{r}行 table {number} row {r}", merged))
        above = cells
    width = max((len(r.cells) for r in rows), default=0)
    for row in rows:  # rows with gridBefore/gridAfter have fewer cells
        row.cells += [""] * (width - len(row.cells))
        row.merged_above += [False] * (width - len(row.merged_above))
    return rows
