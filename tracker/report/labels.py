"""The report's words in Chinese and English: headings, labels and notes (the figures' own
wording comes from tracker.domain.format and tracker.status.reasons)."""

UI: dict[str, dict[str, str]] = {
    "zh": {
        "title": "“一老一小”目标任务推进情况月度报告",
        "as_of": "截至", "generated": "生成时间", "late_run": "本报告为补发（定时任务延迟运行）",
        "sample": "本报告含示例数据（SAMPLE），仅供演示，不代表真实情况。",
        "lights_red": "逾期", "lights_yellow": "需关注", "lights_grey": "缺数据", "lights_green": "正常/完成",
        "sec_overdue": "一、逾期未完成", "sec_attention": "二、进度滞后与临期", "sec_rest": "三、其他目标与任务",
        "none": "无", "latest": "最新值", "target": "目标", "gap": "差距", "reason": "判断依据",
        "quote": "原文", "task": "任务", "lead": "牵头单位", "participating": "参加单位",
        "joint": "按职责分工负责", "local": "地方负责", "deadline": "期限", "coverage": "覆盖",
        "failing_regions": "未达标地区", "by_unit": "四、按责任单位", "unit": "单位",
        "leads": "牵头", "joint_items": "按职责负责", "participates": "参加", "overdue_items": "逾期事项",
        "by_region": "五、按地区（每个市县（区）目标）", "region": "地区", "omitted_rows": "另有 {n} 个地区全部达标，未列出",
        "completeness": "六、数据报送情况", "indicator": "指标", "expected_period": "应报期",
        "reported": "已报", "missing": "未报地区", "all_reported": "均已报送",
        "missing_by_region": "各地区未报指标", "changes": "七、与上期报告相比", "previous": "上期报告",
        "first_report": "首份报告，无上期可比。", "status_changes": "状态变化", "from": "原状态", "to": "现状态",
        "new_values": "新报送数值", "period": "期别", "value": "数值", "note": "备注", "evidence": "佐证", "milestone": "里程碑任务", "status": "状态", "revision": "修订",
        "more": "另有 {n} 条未列出", "index_title": "月度报告目录", "report": "报告", "total": "合计",
        "contents": "目录", "no_chart": "暂无可绘制的数据", "chart_legend": "实线：报送值；虚线：进度轨迹；点：期限目标",
        "worse": "变差", "better": "好转",
    },
    "en": {
        "title": "Elderly care and childcare (一老一小) plan: monthly status report",
        "as_of": "As of", "generated": "Generated", "late_run": "Late run: the scheduled job ran after its time",
        "sample": "This report contains SAMPLE data (示例数据) for demonstration only.",
        "lights_red": "overdue", "lights_yellow": "attention", "lights_grey": "no data", "lights_green": "on track / done",
        "sec_overdue": "1. Overdue", "sec_attention": "2. Lagging and due soon", "sec_rest": "3. All other targets and milestones",
        "none": "none", "latest": "Latest", "target": "Target", "gap": "Gap", "reason": "Why",
        "quote": "Source", "task": "Task", "lead": "Lead", "participating": "Participating",
        "joint": "Jointly responsible", "local": "Local governments", "deadline": "Deadline", "coverage": "Coverage",
        "failing_regions": "Regions not meeting it", "by_unit": "4. By responsible unit", "unit": "Unit",
        "leads": "leads", "joint_items": "joint", "participates": "participates", "overdue_items": "Overdue items",
        "by_region": "5. By region (per-region targets)", "region": "Region", "omitted_rows": "{n} more regions meet every target and are not listed",
        "completeness": "6. Data completeness", "indicator": "Indicator", "expected_period": "Expected period",
        "reported": "Reported", "missing": "Missing regions", "all_reported": "all reported",
        "missing_by_region": "Missing indicators by region", "changes": "7. Changes since the previous report", "previous": "Previous report",
        "first_report": "First report: nothing to compare with.", "status_changes": "Status changes", "from": "From", "to": "To",
        "new_values": "New values", "period": "Period", "value": "Value", "note": "Note", "evidence": "Evidence", "milestone": "Milestone", "status": "Status", "revision": "revision",
        "more": "{n} more not listed", "index_title": "Monthly reports", "report": "Report", "total": "Total",
        "contents": "Contents", "no_chart": "no data to chart", "chart_legend": "solid: reported; dashed: trajectory; dot: target at the deadline",
        "worse": "worse", "better": "better",
    },
}


# Values that arrived after their submission deadline (tracker/templates/_late.html).
UI["zh"].update({"late_values": "迟报数值", "late_due": "报送期限", "late_entered": "报送日期", "late_days": "迟报天数",
                 "late_values_note": "上期报告之后收到、晚于报送期限（期别结束后次月{day}日）的数值：上期报告未能包含。"})
UI["en"].update({"late_values": "Values reported late", "late_due": "Due", "late_entered": "Reported",
                 "late_days": "Days late",
                 "late_values_note": "Values received since the previous report after their deadline (day {day} of "
                                     "the month after their period): the previous report could not include them."})
