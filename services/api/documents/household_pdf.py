"""一户一档 as a PDF: the household file (services/api/registry/household_file_routes.py) laid out
for print, with the household's QR code (一户一码). It renders the file exactly as the reader
was given it, so personal data is masked for readers who may not see it, as in the JSON.

Chinese text uses reportlab's built-in CID font STSong-Light: the PDF names the font and
Adobe's CJK encoding rather than embedding glyphs, so it needs no font file on the server and
opens in every PDF reader (they all carry the Adobe-GB1 fallback), and its text can be
extracted again (the tests read it back)."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Image, Paragraph, SimpleDocTemplate, Table, TableStyle

from services.api.registry.schemas import HouseholdFile, MemberView
from services.domain.documents.household_qr import qr_png
from services.domain.months import local_date
from services.domain.vocabulary import CATEGORY_LABELS, Category

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

_TEXT = ParagraphStyle("text", fontName=FONT, fontSize=9.5, leading=13, wordWrap="CJK")
_TITLE = ParagraphStyle("title", parent=_TEXT, fontSize=18, leading=24, alignment=1)
_HEADING = ParagraphStyle("heading", parent=_TEXT, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4)
_GRID = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), FONT, 9),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)
_SEX = {"male": "男", "female": "女"}
_LABOUR = {"full": "有劳动能力", "partial": "弱劳动能力", "none": "无劳动能力"}
_NONE = "无"


def household_file_pdf(file: HouseholdFile, village_name: str, link: str, printed_on: date) -> bytes:
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"一户一档 {file.household.code}",
        author="防止返贫动态监测和帮扶",
    )
    doc.build(_story(file, village_name, link, printed_on))
    return out.getvalue()


def _story(file: HouseholdFile, village_name: str, link: str, printed_on: date) -> list[Flowable]:
    household = file.household
    qr = Image(io.BytesIO(qr_png(link, scale=4)), width=32 * mm, height=32 * mm)
    title = Paragraph("防止返贫动态监测和帮扶<br/>一户一档", _TITLE)
    heading = Table([[title, qr]], colWidths=[140 * mm, 40 * mm])
    heading.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story: list[Flowable] = [
        heading,
        _p(f"户编码：{household.code}　　打印日期：{printed_on:%Y年%m月%d日}　　扫描二维码查看电子档案（需登录）"),
        _h("一、基本情况"),
        _grid(_basics(file, village_name), widths=[30, 150], header=False),
        _h("二、家庭成员"),
        _grid(
            [["姓名", "关系", "性别", "身份证号", "出生日期", "劳动能力", "健康状况", "在校情况"]]
            + [_member(m) for m in household.members],
            widths=[22, 14, 12, 40, 22, 22, 26, 22],
        ),
    ]
    if household.former_members:
        story += [
            _h("已离开成员"),
            _grid(
                [["姓名", "与户主关系", "身份证号", "离开日期", "离开方式"]]
                + [
                    [m.name, m.relation, m.id_number, _day(m.ended_on), m.ended_by or ""]
                    for m in household.former_members
                ],
                widths=[25, 25, 50, 40, 40],
            ),
        ]
    if household.changes:
        story += [
            _h("户籍变动"),
            _grid(
                [["日期", "变动", "原因", "登记人"]]
                + [[_day(c.occurred_on), c.kind_label, c.reason, c.recorded_by] for c in household.changes],
                widths=[25, 25, 100, 30],
            ),
        ]
    story += [_h("三、识别认定"), *_cases(file)]
    story += [_h("四、监测帮扶"), *_periods(file)]
    return story


def _basics(file: HouseholdFile, village_name: str) -> list[list[Any]]:
    household = file.household
    flags = household.flags
    marks = [
        f"脱贫户（{flags.poverty_exit_year}年脱贫）" if flags.formerly_poor else "",
        "低保户" if flags.minimum_living_allowance else "",
        "特困供养户" if flags.extreme_poverty_support else "",
        "有残疾人" if flags.disabled_member else "",
    ]
    category = CATEGORY_LABELS[Category(household.category)] if household.category else _NONE
    return [
        ["户主", household.head_name],
        ["所在村", village_name],
        ["家庭住址", household.address],
        ["联系电话", household.phone or _NONE],
        ["家庭人口", f"{len(household.members)}人"],
        ["监测状态", household.status_label],
        ["监测对象类别", category],
        ["户的标识", "、".join(m for m in marks if m) or _NONE],
    ]


def _member(member: MemberView) -> list[str]:
    return [
        member.name,
        member.relation,
        _SEX.get(member.sex, member.sex),
        member.id_number,
        _day(member.birth_date),
        _LABOUR.get(member.labour_capacity, member.labour_capacity),
        "、".join(v for v in (member.health, member.disability) if v) or "",
        member.schooling or "",
    ]


def _cases(file: HouseholdFile) -> list[Flowable]:
    if not file.cases:
        return [_p("无识别案件记录。")]
    rows = [["发起日期", "发现渠道", "当前环节", "办理结果", "拟认定类别", "办结日期"]]
    for case in file.cases:
        proposed = (case.verification or {}).get("proposed_category")
        rows.append(
            [
                _day(case.opened_at),
                case.channel_label,
                case.step_label,
                case.outcome_label or "办理中",
                CATEGORY_LABELS[Category(proposed)] if proposed else "",
                _day(case.closed_at),
            ]
        )
    return [_grid(rows, widths=[25, 30, 30, 40, 30, 25])]


def _periods(file: HouseholdFile) -> list[Flowable]:
    if not file.monitoring_periods:
        return [_p("未纳入监测。")]
    story: list[Flowable] = []
    for number, period in enumerate(file.monitoring_periods, start=1):
        people = "、".join(p.display_name for p in period.support_people) or "未指定"
        story += [
            _p(
                f"第{number}次纳入监测：{_day(period.since)}起，{period.status_label}；"
                f"风险类型：{'、'.join(period.risk_type_labels) or _NONE}；帮扶责任人：{people}。"
            )
        ]
        measures = [m for plan in period.plans for m in plan.get("measures", [])]
        if measures:
            story.append(
                _grid(
                    [["措施类别", "措施内容", "责任单位", "开始日期", "状态"]]
                    + [
                        [m["kind_label"], m["content"], m["owner"], m["starts_on"], m["status_label"]] for m in measures
                    ],
                    widths=[22, 78, 35, 25, 20],
                )
            )
        if period.visits:
            story.append(
                _grid(
                    [["走访日期", "走访人员", "走访情况", "人均纯收入（元）"]]
                    + [
                        [_day(v.visited_on), "、".join(v.visitors), v.findings, f"{v.per_capita_net_income:,.0f}"]
                        for v in period.visits
                    ],
                    widths=[25, 35, 90, 30],
                )
            )
        for exit_ in period.exits:
            outcome = exit_.get("outcome_label") or exit_.get("step_label")
            story.append(_p(f"风险消除程序（第{exit_['exit_no']}次）：{outcome}。"))
        if period.risk_eliminated_at:
            story.append(_p(f"风险消除日期：{_day(period.risk_eliminated_at)}。"))
    return story


def _grid(rows: list[list[Any]], widths: list[float], header: bool = True) -> Table:
    cells = [[_p(str(cell)) for cell in row] for row in rows]
    table = Table(cells, colWidths=[w * mm for w in widths], repeatRows=1 if header else 0)
    table.setStyle(_GRID)
    if not header:
        table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.white)]))
    return table


def _p(text: str) -> Paragraph:
    return Paragraph(escape(text), _TEXT)


def _h(text: str) -> Paragraph:
    return Paragraph(escape(text), _HEADING)


def _day(value: Any) -> str:
    """A date as the county writes it: moments in Beijing time."""
    if isinstance(value, datetime):
        value = local_date(value)
    return "" if value is None else f"{value:%Y-%m-%d}" if isinstance(value, date) else str(value)[:10]
