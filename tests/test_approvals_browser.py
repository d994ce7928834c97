"""Review and approval in a real browser (Debian's Chromium through Playwright, the app under
uvicorn on the test database): a district (秀英区) submits its figures, the city (海口市)
returns them with a note, the district corrects and submits again, and the city approves.
The approver's queue and the reporter's page are photographed at 390 px and 1,280 px (into
$TRACKER_SCREENSHOTS when set) and checked for horizontal overflow.

Set TRACKER_SKIP_BROWSER=1 to skip on a machine without a browser.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_web import NOW, PASSWORD, Clock, make_site

from tracker.store import approvals as db
from tracker.web import auth


from test_web_browser import Watch, serving  # after the skip: that module skips itself too

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

WIDTHS = (390, 1280)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Fast argon2id parameters (test_auth checks the real ones)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def served(db_url, engine, tmp_path, small_model) -> Iterator[tuple[str, Any]]:
    """(base URL, site): the app requiring approval, with a district's reporter, served."""
    clock = Clock(NOW)
    site = make_site(db_url, engine, tmp_path, small_model, clock,
                     raw={"approval": {"required": True, "supervisors": ["省发展改革委"]}})
    auth.add_user(engine, "xy", PASSWORD, "reporter", region="秀英区", display_name="秀英区填报员",
                  model=small_model, now=clock())
    with serving(site.app) as base:
        yield base, site


def photograph(page: Any, name: str, out: Path) -> None:
    """Screenshots at each width; the page never wider than the window."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} at {width}px is {overflow}px wider than the window"
        page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_district_submits_the_city_returns_it_with_a_note_and_approves_the_correction(browser, served, tmp_path):
    base, site = served
    out = Path(os.environ.get("TRACKER_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)

    district = Watch(browser, base)
    district.sign_in("xy")
    page = district.page
    page.click("nav >> text=数据填报")
    assert page.locator("h1").inner_text() == "数据填报：秀英区"
    page.fill("input[name='value.senior_universities']", "20")
    page.click("button:has-text('保存')")
    assert "已保存 1 项" in page.locator("#entry-message").inner_text()
    page.click("nav >> text=数据审核")
    assert "填报中" in page.locator("#mine-2025").inner_text()
    page.click("#submit-2025")
    assert "已提交：秀英区 2025，等待海口市审核。" in page.locator("[role=status]").inner_text()

    city = Watch(browser, base)
    city.sign_in("hk")
    queue = city.page
    queue.click("nav >> text=数据审核")
    row = queue.locator("#queue-460105-2025")
    assert "秀英区" in row.inner_text() and "已提交" in row.inner_text() and "1 项" in row.inner_text()
    photograph(queue, "approver-queue", out)
    queue.check("#pick-460105-2025")
    queue.fill("#reason", "老年大学数与教育局统计不符，请核对后重报")
    queue.click("#return-selected")
    assert "已退回：秀英区 2025" in queue.locator("[role=status]").inner_text()

    page.goto(f"{base}/approvals")
    returned = page.locator("#returned-2025").inner_text()
    assert "退回原因：老年大学数与教育局统计不符，请核对后重报" in returned
    assert "退回原因" in page.locator("#mine-2025").inner_text()
    photograph(page, "reporter-returned", out)
    page.click("nav >> text=数据填报")
    page.fill("input[name='value.senior_universities']", "2")
    page.fill("input[name='reason.senior_universities']", "多填了一个0")
    page.click("button:has-text('保存')")
    assert "其中更正 1 项" in page.locator("#entry-message").inner_text()
    page.click("nav >> text=数据审核")
    page.click("#submit-2025")
    assert "已提交" in page.locator("#mine-2025").inner_text()

    queue.goto(f"{base}/approvals")
    queue.check("#pick-460105-2025")
    queue.click("#approve-selected")
    assert "已审核通过：秀英区 2025" in queue.locator("[role=status]").inner_text()
    assert "目前没有等待您审核的数据" in queue.locator("#queue").inner_text()
    page.goto(f"{base}/approvals")
    assert "已审核" in page.locator("#mine-2025").inner_text()
    photograph(page, "reporter-approved", out)

    assert db.approval_row(site.engine, "460105", "hainan", "2025").state == "approved"
    assert [e.action for e in db.approval_events(site.engine, "460105", "hainan", "2025")] == [
        "submit", "return", "submit", "approve"]
    assert district.clean() == [] and city.clean() == []
    district.close()
    city.close()
