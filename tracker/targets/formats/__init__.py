"""Reading a plan document's tables as grids of cell text, whatever the file format.

A format is recognised from the file's first bytes, not its name: a .doc that is really a web
page, or a .pdf that is really a Word file, is read (or refused) for what it is. Each reader
gives the same thing back, a `Source`: the document's text and its tables in reading order,
every table a `Grid` of rows of cell text with merged cells filled in and page breaks undone.
What a grid means (a task table, a main-indicator table) is decided by `documents`, the same
way for every format.

Formats read: UTF-8/GBK text in the two published layouts (`text`), Word .docx (`docx`,
python-docx), PDF with a text layer (`pdf`, pdfplumber). Everything else is refused with what
was found and what to do, in Chinese then English.
"""

import zipfile
from pathlib import Path

from tracker.targets.formats.grid import Source, TableError, decode_text

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
IMAGES = {b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"II*\x00": "TIFF", b"MM\x00*": "TIFF"}
ACCEPTED = "接受的格式：.docx、带文字层的 PDF、UTF-8/GBK 文本 / accepted: .docx, PDF with a text layer, UTF-8 or GBK text"


def detect(path: str | Path) -> str:
    """'text', 'docx' or 'pdf', from the file's first bytes; anything else is refused here,
    before a reader tries it, with what the file is and how to get a readable one."""
    p = Path(path)
    source = str(path)
    with p.open("rb") as fh:
        head = fh.read(4096)
    suffix = p.suffix.lower()

    def refuse(zh: str, en: str) -> TableError:
        return TableError(source, 0, f"{zh} / {en}", where="0")

    if not head.strip():
        raise refuse("文件是空的，没有可读的内容", "the file is empty")
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(p, refuse)
    if head.startswith(OLE2):
        if suffix == ".wps":
            raise refuse("这是 WPS 文字的旧格式（.wps），无法直接读取：请在 WPS 中“另存为” Word 文档（.docx）后再提取",
                         "this is an old WPS Writer file (.wps); open it in WPS and save it as a Word document "
                         "(.docx), then extract that")
        if suffix in (".docx", ".xlsx"):
            raise refuse("这是加密（设有打开密码）的 Office 文件：请用密码打开后另存为不加密的 .docx",
                         "this is a password-protected (encrypted) Office file; open it with the password and "
                         "save it as a .docx without a password")
        if suffix in (".xls", ".et"):
            raise refuse("这是旧版电子表格（.xls/.et），不是任务表文档：请另存为 .docx 表格",
                         "this is an old spreadsheet (.xls/.et), not a plan document; copy the table into a "
                         "Word document saved as .docx")
        raise refuse("这是旧版 Word 格式（.doc，或 WPS 的 .wps），无法直接读取：请在 Word 或 WPS 中“另存为” .docx 后再提取",
                     "this is an old binary Word file (.doc, or WPS .wps); open it in Word or WPS and save it "
                     "as .docx (文件 → 另存为 → Word 文档), then extract that")
    if head.startswith(b"{\\rtf"):
        raise refuse("这是 RTF 文档：请在 Word 或 WPS 中另存为 .docx", "this is an RTF document; save it as .docx")
    for magic, kind in IMAGES.items():
        if head.startswith(magic):
            raise refuse(f"这是一张 {kind} 图片，没有可读的文字：请取得文件的 .docx 或 PDF 版本，或先做文字识别（OCR）",
                         f"this is a {kind} image with no text to read; get the .docx or PDF version, or run OCR "
                         "on it first")
    lowered = head[:1024].lower()
    if b"<html" in lowered or b"<!doctype html" in lowered or lowered.startswith(b"mime-version:"):
        raise refuse("这是网页（HTML/MHT）文件，只是扩展名像文档：请在 Word 中打开后另存为 .docx",
                     "this is a web page (HTML/MHT) with a document's name; open it in Word and save it as .docx")
    if decode_text(head + b"\n", partial=True) is not None:
        return "text"
    raise refuse(f"无法识别的文件格式（开头字节 {head[:8].hex(' ')}）。{ACCEPTED.split(' / ')[0]}",
                 f"unknown file format (first bytes {head[:8].hex(' ')}); {ACCEPTED.split(' / ')[1]}")


def _zip_kind(p: Path, refuse) -> str:
    try:
        with zipfile.ZipFile(p) as z:
            names = set(z.namelist())
            mimetype = z.read("mimetype").decode("ascii", "replace") if "mimetype" in names else ""
    except zipfile.BadZipFile as exc:
        raise refuse("文件像 .docx 但已损坏（不是完整的压缩包）：请重新下载或另存", "the file looks like a .docx "
                     "but is damaged (not a complete zip archive); download or save it again") from exc
    if "word/document.xml" in names:
        return "docx"
    if any(n.startswith("xl/") for n in names):
        raise refuse("这是 Excel 工作簿，不是规划文档：数值请用 tracker import 导入；任务表请另存为 .docx",
                     "this is an Excel workbook, not a plan document; import reported values with "
                     "`tracker import`, or save the task table as .docx")
    if "opendocument.text" in mimetype:
        raise refuse("这是 OpenDocument 文本（.odt）：请另存为 .docx", "this is an OpenDocument text (.odt); save it as .docx")
    raise refuse("这是一个压缩包，不是 Word 文档", "this is a zip archive, not a Word document (.docx)")


def read_source(path: str | Path) -> Source:
    """The document's text and tables, in reading order; refuses what cannot be read."""
    kind = detect(path)
    if kind == "docx":
        from tracker.targets.formats.docx import read_docx

        return read_docx(path)
    if kind == "pdf":
        from tracker.targets.formats.pdf import read_pdf

        return read_pdf(path)
    from tracker.targets.formats.text import read_text

    return read_text(path)
