"""A kept report as a document: its figures as (section, item, value) rows, the one source of
both the Excel workbook and the printable page, in Chinese."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html import escape
from typing import Any

from services.api.reports.schemas import Statistics
from services.api.reports.xlsx_stream import row_xml, xlsx_stream
from services.domain.reports.periods import REPORT_KIND_LABELS, ReportKind

HEADINGS = ["类别", "项目", "数值"]


def title_of(kind: ReportKind, figures: Statistics) -> str:
    period = f"{figures.from_date:%Y年%m月%d日}至{figures.as_of:%Y年%m月%d日}"
    return f"{figures.area_name}防止返贫动态监测和帮扶工作{REPORT_KIND_LABELS[kind]}（{period}）"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def report_rows(figures: Statistics) -> list[tuple[str, str, Any]]:
    h, t, c, s, v = (
        figures.households,
        figures.identification_time,
        figures.open_cases,
        figures.self_reports,
        figures.visits,
    )
    rows: list[tuple[str, str, Any]] = [("监测对象", "合计（户）", h.total)]
    rows += [("监测对象", f"风险状态：{x.label}", x.count) for x in h.by_status]
    rows += [("监测对象", f"类别：{x.label}", x.count) for x in h.by_category if x.count]
    rows += [("监测对象", f"风险类型：{x.label}", x.count) for x in h.by_risk_type if x.count]
    for month in figures.months:
        rows += [("新识别与风险消除", f"{month.month} 新识别（户）", month.identified)]
        rows += [("新识别与风险消除", f"{month.month} 风险消除（户）", month.exited)]
    rows += [
        ("识别时限", "期内认定（件）", t.identified),
        ("识别时限", "用时中位数（天）", t.median_days if t.median_days is not None else "—"),
        ("识别时限", "15天内完成（件）", t.within_limit),
        ("识别时限", "15天内完成比例", _share(t.within_limit_share)),
    ]
    rows += [("识别时限", f"超时：{x.household_code}", f"{x.days}天") for x in t.late]
    rows += [("在办案件", "在办合计（件）", c.open), ("在办案件", "逾期（件）", c.overdue)]
    rows += [("在办案件", f"{x.label}", f"{x.open}（逾期{x.overdue}）") for x in c.by_step if x.open]
    rows += [
        ("农户自主申报", "申报（件）", s.submitted),
        ("农户自主申报", "已受理（件）", s.accepted),
        ("农户自主申报", "2天内受理比例", _share(s.within_limit_share)),
        ("农户自主申报", "待处理（件）", s.pending),
        ("走访", "应走访（户次）", v.owed),
        ("走访", "已走访（户次）", v.visited),
        ("走访", "逾期未走访（户次）", v.overdue),
        ("走访", "覆盖率", _share(v.coverage)),
    ]
    rows += [
        ("帮扶措施", x.label, f"计划{x.planned}，已落实{x.delivered}，期内落实{x.delivered_in_period}")
        for x in figures.measures
        if x.planned
    ]
    rows += [("行业部门预警", x.label, x.count) for x in figures.early_warnings if x.count]
    return rows


async def report_workbook(kind: ReportKind, figures: Statistics) -> AsyncIterator[bytes]:
    async def batches() -> AsyncIterator[list[str]]:
        yield [row_xml([title_of(kind, figures)]), *(row_xml(row) for row in report_rows(figures))]

    async for chunk in xlsx_stream(REPORT_KIND_LABELS[kind], HEADINGS, batches()):
        yield chunk


def report_page(kind: ReportKind, figures: Statistics) -> str:
    """A printable A4 page."""
    title = escape(title_of(kind, figures))
    body = "\n".join(
        f"<tr><td>{escape(section)}</td><td>{escape(item)}</td><td>{escape(str(value))}</td></tr>"
        for section, item, value in report_rows(figures)
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>
  @page {{ size: A4; margin: 18mm; }}
  body {{ font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; color: #000; }}
  h1 {{ text-align: center; font-size: 18pt; }}
  table {{ width: 100%; border-collapse: collapse; font-size: 11pt; }}
  th, td {{ border: 1px solid #000; padding: 4pt 6pt; }}
  td:last-child {{ text-align: right; }}
</style></head>
<body>
<h1>{title}</h1>
<p>数据截至{figures.as_of:%Y年%m月%d日}24时，按系统记录计算。</p>
<table>
<thead><tr>{"".join(f"<th>{h}</th>" for h in HEADINGS)}</tr></thead>
<tbody>
{body}
</tbody></table>
</body></html>
"""
