"""What the browser tests look at on every page, measured in Chromium: the page fits the window
(no horizontal scroll, no table that needs one), every label's box is level with its value's
box, and the page's words are in its own language. Screenshots go into the test's tmp_path
(and into $TRACKER_SCREENSHOTS when set), listed in screenshots.txt there.
"""

import os
import re
import shutil
from pathlib import Path
from typing import Any

WIDTHS = (390, 1280)

# Every label/value pair a page shows: a definition list's term and its description, a stacked table cell (its
# column's name beside the value, shown on a phone; hidden on a wide screen, where the header
# says it), and an inline pair (a count beside its label).
GEOMETRY = """
() => {
  const box = e => e.getBoundingClientRect();
  const shown = r => r.width > 0 && r.height > 0;
  const pairs = [];
  document.querySelectorAll('dl dt').forEach(dt => pairs.push([dt, dt.nextElementSibling, 'dt']));
  document.querySelectorAll('table.stack td').forEach(td => pairs.push([td.querySelector(':scope > .k'), td.querySelector(':scope > .v'), 'cell']));
  document.querySelectorAll('.pair').forEach(p => pairs.push([p.querySelector('.k'), p.querySelector('.v'), 'pair']));
  const bad = [];
  let checked = 0;
  for (const [k, v, kind] of pairs) {
    if (!k || !v) { bad.push({kind, why: 'label or value missing', html: (k || v || {}).outerHTML}); continue; }
    const a = box(k), b = box(v);
    if (!shown(a)) continue;  // a stacked table's label on a wide screen: the header says it
    checked += 1;
    const text = (k.innerText + ' | ' + v.innerText).slice(0, 80);
    if (!shown(b)) bad.push({kind, text, why: 'value has no box'});
    else if (Math.abs(a.top - b.top) > 4) bad.push({kind, text, why: `label ${Math.round(a.top)}, value ${Math.round(b.top)}`});
    else if (a.right > b.left + 1) bad.push({kind, text, why: 'label runs into its value'});
  }
  const wide = [...document.querySelectorAll('.scroll, table')].filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => (e.id || e.className || e.tagName) + ' ' + e.scrollWidth + '>' + e.clientWidth);
  return {overflow: document.documentElement.scrollWidth - window.innerWidth, checked, bad, wide};
}
"""

# The page's text without what is quoted from documents or typed by people (class quote, src).
TEXT = """
(drop) => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll(drop).forEach(e => e.remove());
  copy.querySelectorAll('title, style, script').forEach(e => e.remove());
  document.body.appendChild(copy);
  copy.style.position = 'absolute'; copy.style.left = '-99999px';
  const text = copy.innerText;
  copy.remove();
  return text;
}
"""

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")


def check_layout(page: Any, where: str) -> int:
    """Assert the page fits its window and pairs every label with its value; returns how many
    pairs were measured."""
    found = page.evaluate(GEOMETRY)
    width = page.viewport_size["width"]
    assert found["overflow"] <= 0, f"{where}: the page is {found['overflow']}px wider than the {width}px window"
    assert found["wide"] == [], f"{where}: needs horizontal scrolling at {width}px: {found['wide']}"
    assert found["bad"] == [], f"{where}: labels not level with their values at {width}px: {found['bad'][:5]}"
    return found["checked"]


def page_text(page: Any, drop: str = ".quote, .src") -> str:
    return page.evaluate(TEXT, drop)


def chinese_runs(text: str) -> list[str]:
    """Runs of Chinese characters, with any “…” quotations taken out first."""
    return CJK.findall(re.sub(r"“[^”]*”", "", text))


class Shots:
    """Screenshots of one test, in its tmp_path (and $TRACKER_SCREENSHOTS), listed in order."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.paths: list[Path] = []

    def take(self, page: Any, name: str, max_height: int = 8000) -> Path:
        """The whole page, or its top `max_height` px when longer (encoding a 40,000 px PNG takes
        seconds; the checks above measured all of it)."""
        path = self.directory / f"{name}-{page.viewport_size['width']}.png"
        height = page.evaluate("document.documentElement.scrollHeight")
        if height > max_height:
            page.screenshot(path=str(path), full_page=True,
                            clip={"x": 0, "y": 0, "width": page.viewport_size["width"], "height": max_height})
        else:
            page.screenshot(path=str(path), full_page=True)
        self.paths.append(path)
        extra = os.environ.get("TRACKER_SCREENSHOTS")
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(extra) / path.name)
        (self.directory / "screenshots.txt").write_text("\n".join(map(str, self.paths)) + "\n", encoding="utf-8")
        return path
