"""Write the SAMPLE (示例数据) values for the Hainan plan: examples/hainan-sample-values.csv
and examples/hainan-sample-progress.csv.

Made-up figures, deterministic (fixed seed), in the long CSV shape `tracker import` reads
(indicator, region, period, value, unit, note). Every row's note says 示例数据 SAMPLE, and a
report built on them says so at the top. They are shaped to show every part of the report:
targets met late or missed, two regions without a senior university, one county whose
childcare figures for the last quarter are missing, milestones in progress and done.

    python examples/make_hainan_sample.py
"""

import csv
import random
from pathlib import Path

from tracker.domain.regions import load_regions

NOTE = "示例数据 SAMPLE"
HERE = Path(__file__).resolve().parent
QUARTERS = [f"{y}Q{q}" for y in range(2022, 2027) for q in range(1, 5)][:19]  # 2022Q1–2026Q3
MONTHS = [f"{y}-{m:02d}" for y in range(2021, 2027) for m in range(1, 13)][:69]  # 2021-01 to 2026-09
SILENT = "469024"  # 临高县 has not sent its childcare figures for 2026Q3
NO_UNIVERSITY = {"460108", "469027"}  # 美兰区, 乐东黎族自治县


def main() -> None:
    rng = random.Random(2021)
    regions = load_regions()
    counties = regions.counties()
    judged = regions.judged_regions()
    rows: list[tuple[str, str, str, float, str]] = []

    def add(ind: str, code: str, period: str, value: float, unit: str) -> None:
        if code == SILENT and period == "2026Q3" and ("child" in ind or ind in ("resident_population", "childcare_places")):
            return
        rows.append((ind, code, period, round(value, 1) if unit == "%" else round(value), unit))

    weights = {r.code: rng.uniform(0.4, 2.5) for r in counties}
    weights["460100"], weights["460200"] = 6.0, 3.5  # Haikou and Sanya are the big ones
    for r in counties:
        w = weights[r.code]
        for i, q in enumerate(QUARTERS):
            t = i / (len(QUARTERS) - 1)
            elderly = 60_000 * w * (1 + 0.03 * t)
            add("elderly_population", r.code, q, elderly, "人")
            add("elderly_care_beds", r.code, q, elderly / 1000 * (26.5 + 6.5 * t + rng.uniform(-0.6, 0.6)), "张")
            inst = elderly / 1000 * 20
            add("institutional_elderly_care_beds", r.code, q, inst, "张")
            add("nursing_beds", r.code, q, inst * (0.45 + 0.17 * t), "张")
            under3 = 9_000 * w * (1 - 0.04 * t)
            add("children_under_3", r.code, q, under3, "人")
            enrolled = under3 * (0.14 + 0.18 * t)
            add("children_in_public_inclusive_childcare", r.code, q, enrolled, "人")
            add("children_in_childcare", r.code, q, enrolled * 1.3, "人")
            add("children_in_public_childcare", r.code, q, enrolled * 1.3 * (0.06 + 0.05 * t), "人")
            residents = 250_000 * w
            add("resident_population", r.code, q, residents, "人")
            add("childcare_places", r.code, q, residents / 1000 * (1.6 + 1.1 * t), "个托位")
            towns = max(3, round(8 * w))
            add("townships", r.code, q, towns, "个乡镇")
            add("townships_with_elderly_care_institution", r.code, q, round(towns * (0.35 + 0.3 * t)), "个乡镇")
        for m in MONTHS:
            add("elderly_care_worker_trainings", r.code, m, 13 * w * rng.uniform(0.7, 1.3), "人次")
        for y in ("2022", "2023", "2024", "2025"):
            old = 40_000 * w
            add("elderly_population_65", r.code, y, old, "人")
            add("elderly_in_health_management", r.code, y, old * (0.62 + 0.025 * (int(y) - 2022)), "人")
    for r in judged:
        for i, q in enumerate(QUARTERS):
            add("senior_universities", r.code, q, 0 if r.code in NO_UNIVERSITY else (1 if i >= 2 else 0), "所")
            add("county_care_homes", r.code, q, 1 if i >= 1 else 0, "所")
            add("regional_elderly_care_centres", r.code, q, 1, "所")
    with (HERE / "hainan-sample-values.csv").open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["indicator", "region", "period", "value", "unit", "note"])
        for ind, code, period, value, unit in rows:
            out.writerow([ind, code, period, value, unit, NOTE])
    with (HERE / "hainan-sample-progress.csv").open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["里程碑", "状态", "报告单位", "报告日期", "备注", "佐证"])
        out.writerow(["hainan-19-m", "in_progress", "省民政厅", "2026-09-30", f"居家探访制度已在15个市县建立；{NOTE}", "示例文号"])
        out.writerow(["hainan-19-m", "done", "省卫生健康委", "2026-06-30", NOTE, "示例文号"])
        out.writerow(["hainan-1-m", "done", "省民政厅", "2026-03-31", f"基本养老服务清单已印发；{NOTE}", "示例文号"])
    print(f"{len(rows)} values")


if __name__ == "__main__":
    main()
