"""Review and approval in the web app, through Starlette's TestClient: a reporter submits and
sees a return's reason, the city works its queue (return with a note, approve in bulk), the
supervisor accepts, unlocks with a reason and previews; every refusal; entry and upload into
a period under review or locked refused with nothing written."""

from typing import Any

import pytest
from test_web import NOW, PASSWORD, Clock, _filled_template, entry, make_site, post_form, upload

from tracker.web import auth

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

APPROVAL = {"approval": {"required": True, "supervisors": ["省发展改革委"]}}
MORE_USERS = {"xy": "秀英区", "lh": "龙华区", "hn": "海南省"}


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def site(db_url, engine, tmp_path, small_model) -> Any:
    clock = Clock(NOW)
    site = make_site(db_url, engine, tmp_path, small_model, clock, raw=APPROVAL)
    for name, region in MORE_USERS.items():
        auth.add_user(engine, name, PASSWORD, "reporter", region=region, model=small_model, now=clock())
    return site


def submit(client: Any, period: str = "2025") -> Any:
    return post_form(client, "/approvals", "/approvals/submit", {"period": period})


def decide(client: Any, action: str, *keys: str, reason: str = "") -> Any:
    data = {"action": action, "reason": reason, **{f"pick.{k}": "1" for k in keys}}
    return post_form(client, "/approvals", "/approvals/decide", data)


def enter(client: Any, region: str, value: str, **extra: str) -> Any:
    return entry(client, region, value__senior_universities=value, period__senior_universities="2025", **extra)


def test_a_district_submits_the_city_returns_with_a_note_and_approves_the_correction(site):
    xy, hk = site.client("xy"), site.client("hk")
    assert enter(xy, "460105", "20").status_code == 200
    page = xy.get("/approvals").text
    assert "本单位报送：秀英区" in page and 'id="submit-2025"' in page and "填报中" in page
    r = submit(xy)
    assert r.status_code == 200 and "已提交：秀英区 2025，等待海口市审核。" in r.text
    locked = enter(xy, "460105", "21", reason__senior_universities="更正")
    assert locked.status_code == 400 and "已提交，正在审核，不能修改" in locked.text
    queue = hk.get("/approvals").text
    assert "待我审核（1）" in queue and "期间 2025（1 份）" in queue and 'name="pick.460105|2025"' in queue
    r = decide(hk, "return", "460105|2025")
    assert r.status_code == 400 and "退回须说明原因" in r.text
    r = decide(hk, "return", "460105|2025", reason="老年大学数多填了一个0，请核对")
    assert r.status_code == 200 and "已退回：秀英区 2025" in r.text
    mine = xy.get("/approvals").text
    assert "2025 的数据已被退回，请修改后重新提交。退回原因：老年大学数多填了一个0，请核对" in mine
    assert enter(xy, "460105", "2", reason__senior_universities="多填了0").status_code == 200
    assert submit(xy).status_code == 200
    r = decide(hk, "approve", "460105|2025")
    assert r.status_code == 200 and "已审核通过：秀英区 2025" in r.text
    assert "目前没有等待您审核的数据" in r.text
    assert sorted(v[3] for v in site.values() if v[1] == "460105") == [2.0, 20.0]
    actions = [(a["action"], a["outcome"]) for a in auth.list_audit(site.engine) if a["action"].startswith("approval_")]
    assert actions[::-1] == [("approval_submit", "ok"), ("approval_return", "refused"), ("approval_return", "ok"),
                             ("approval_submit", "ok"), ("approval_approve", "ok")]


def test_the_city_approves_several_at_once_and_the_supervisor_accepts_and_unlocks(site):
    for user, code in (("xy", "460105"), ("lh", "460106")):
        client = site.client(user)
        enter(client, code, "1")
        submit(client)
    hk = site.client("hk")
    r = decide(hk, "approve", "460105|2025", "460106|2025")
    assert r.status_code == 200 and "已审核通过：秀英区 2025" in r.text and "已审核通过：龙华区 2025" in r.text
    boss = site.client("boss")
    assert "待我审核（2）" in boss.get("/approvals").text
    r = decide(boss, "approve", "460105|2025", "460106|2025")
    assert r.status_code == 200 and r.text.count("已上报确认") == 2
    assert 'id="locked-460105-2025"' in r.text
    locked = enter(site.client("xy"), "460105", "3", reason__senior_universities="更正")
    assert locked.status_code == 400 and "已上报并锁定" in locked.text
    r = post_form(boss, "/approvals", "/approvals/unlock", {"unit": "460105", "period": "2025", "reason": ""})
    assert r.status_code == 400 and "解锁须说明原因" in r.text
    r = post_form(boss, "/approvals", "/approvals/unlock", {"unit": "460105", "period": "2025", "reason": "统计局更正"})
    assert r.status_code == 200 and "已解锁：秀英区 2025" in r.text
    assert enter(site.client("xy"), "460105", "3", reason__senior_universities="统计局更正").status_code == 200
    detail = boss.get("/approvals/view", params={"unit": "460105", "period": "2025"}).text
    assert "报送明细：秀英区 2025" in detail and "统计局更正" in detail and "上报确认" in detail


def test_refusals_are_forbidden_told_and_audited(site):
    xy = site.client("xy")
    enter(xy, "460105", "1")
    submit(xy)
    r = decide(site.client("sy"), "approve", "460105|2025")
    assert r.status_code == 403 and "由上级审核，您无权审核" in r.text
    r = decide(xy, "approve", "460105|2025")
    assert r.status_code == 403 and "不能审核本单位的数据" in r.text
    assert auth.list_audit(site.engine, outcome="refused")[0]["action"] == "approval_approve"
    assert site.client("reader").get("/approvals").status_code == 403
    assert site.client("hk").get("/approvals/preview").status_code == 403
    assert post_form(site.client("boss"), "/approvals", "/approvals/submit", {"period": "2025"}).status_code == 403
    r = post_form(site.client("hk"), "/approvals", "/approvals/unlock", {"unit": "460105", "period": "2025",
                                                                         "reason": "x"})
    assert r.status_code == 403
    empty = submit(site.client("lh"))
    assert empty.status_code == 400 and "没有可提交的数值" in empty.text
    assert decide(site.client("hk"), "approve").status_code == 400  # nothing ticked


def test_an_upload_into_a_period_under_review_writes_nothing(site):
    mca = site.client("mca")
    content = mca.get("/template", params={"unit": "省民政厅", "period": "2025"}).content
    assert upload(mca, _filled_template(content, {("海口市", "elderly_care_beds"): 5000})).status_code == 200
    assert post_form(mca, "/approvals", "/approvals/submit", {"period": "2025"}).status_code == 200
    before = site.values()
    r = upload(mca, _filled_template(content, {("海口市", "elderly_care_beds"): 5100,
                                              ("三亚市", "elderly_care_beds"): 4000}), correct="1", reason="更正")
    assert r.status_code == 400 and "省民政厅 2025 的数据已提交，正在审核，不能修改" in r.text
    assert site.values() == before


def test_the_supervisor_previews_statuses_with_the_submitted_figures(site):
    mca, health = site.client("mca"), site.client("health")
    assert entry(mca, "460000", value__elderly_care_beds="33000", period__elderly_care_beds="2025").status_code == 200
    assert entry(health, "460000", value__elderly_population="1000000",
                 period__elderly_population="2025").status_code == 200
    for client in (mca, health):
        assert post_form(client, "/approvals", "/approvals/submit", {"period": "2025"}).status_code == 200
    page = site.client("boss").get("/approvals/preview").text

    def row(item: str) -> str:
        found = page[page.index(f'id="preview-{item}"'):]
        return found[:found.index("</tr>")]

    beds = row("beds_ratio_2025")
    assert '<td data-label="已审核口径">逾期未完成</td>' in beds  # nothing approved: no figure
    assert '<td data-label="含已提交">已完成</td>' in beds  # 33000 beds per 1,000,000 elderly: 33 ≥ 30
    assert "1 个：海南省" in beds
    assert "<td data-label=\"未审核地区\">—</td>" in row("universities_each")
