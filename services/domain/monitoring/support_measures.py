"""Measures the service proposes for a household's risks (DOMAIN.md, "Support").

A single risk gets the one measure that matches it; a composite risk gets those
plus a development package (industry, employment, microcredit and insurance); a
household where no one can work gets social protection (兜底) and no measure that
needs work. These are proposals: the support person edits them into the plan.
"""

from __future__ import annotations

from datetime import date

from services.domain.monitoring.forms import MeasureDraft
from services.domain.monitoring.vocabulary import MeasureKind
from services.domain.vocabulary import LabourCapacity, RiskType

# risk → (kind, content, usual owner)
_MATCHING: dict[RiskType, tuple[MeasureKind, str, str]] = {
    RiskType.illness: (
        MeasureKind.social_security,
        "落实基本医保、大病保险、医疗救助三重保障，办理慢性病门诊",
        "县医保局",
    ),
    RiskType.disability: (
        MeasureKind.social_security,
        "落实困难残疾人生活补贴和重度残疾人护理补贴，提供康复服务",
        "县残联",
    ),
    RiskType.schooling: (
        MeasureKind.motivation_and_skills,
        "落实教育资助（助学金、雨露计划），防止因学辍学",
        "县教育局",
    ),
    RiskType.disaster: (
        MeasureKind.social_security,
        "落实受灾救助和农业保险理赔，修复受损生产生活设施",
        "县应急管理局",
    ),
    RiskType.accident: (MeasureKind.social_security, "落实临时救助和意外保险理赔", "镇民政办"),
    RiskType.business_failure: (MeasureKind.industry, "提供产业技术指导和产业奖补，帮助恢复生产", "镇农业综合服务站"),
    RiskType.unstable_employment: (MeasureKind.employment, "推荐就业岗位、组织技能培训，或安置公益性岗位", "县人社局"),
    RiskType.lack_of_labour: (MeasureKind.employment, "安排力所能及的公益性岗位，发展庭院经济", "镇人民政府"),
    RiskType.housing: (MeasureKind.social_security, "实施农村危房改造，保障住房安全", "县住建局"),
    RiskType.water: (MeasureKind.social_security, "实施农村饮水安全工程，解决安全饮水", "县水利局"),
    RiskType.other: (MeasureKind.social_assistance, "动员帮扶单位和社会力量结对帮扶，按实际困难细化", "帮扶责任人"),
}

# For a composite risk, where someone can work.
_DEVELOPMENT_PACKAGE: list[tuple[MeasureKind, str, str]] = [
    (MeasureKind.industry, "发展特色种养等产业，落实产业奖补", "镇农业综合服务站"),
    (MeasureKind.employment, "提供就业信息和技能培训，支持稳定务工", "县人社局"),
    (MeasureKind.finance, "申请脱贫人口小额信贷，参加防返贫保险", "县乡村振兴局"),
]

_SOCIAL_PROTECTION = (MeasureKind.social_security, "纳入低保或特困供养，兜底保障基本生活", "镇民政办")

# Measures that need someone able to work.
_NEEDS_WORK = {MeasureKind.industry, MeasureKind.employment, MeasureKind.finance}


def propose_measures(risks: list[RiskType], labour: LabourCapacity | None, starts_on: date) -> list[MeasureDraft]:
    no_labour = labour == LabourCapacity.none
    chosen: list[tuple[MeasureKind, str, str]] = [_SOCIAL_PROTECTION] if no_labour else []
    chosen += [_MATCHING[risk] for risk in risks]
    if len(risks) > 1 and not no_labour:
        chosen += _DEVELOPMENT_PACKAGE
    if no_labour:
        chosen = [m for m in chosen if m[0] not in _NEEDS_WORK]
    unique = list(dict.fromkeys(chosen))
    return [
        MeasureDraft(kind=kind, content=content, owner=owner, starts_on=starts_on) for kind, content, owner in unique
    ]


def lacks_social_protection(measures: list[MeasureDraft]) -> bool:
    """A plan for a household without labour must hold a social-security measure (兜底)."""
    return not any(m.kind == MeasureKind.social_security for m in measures)
