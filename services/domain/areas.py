"""Statistical area codes (统计用区划代码): 12 digits, county → township → village.

610824000000 is a county (靖边县), 610824100000 a township in it, 610824100201 a
village in that township. Containment is a prefix test on the significant digits.
"""

from __future__ import annotations

from enum import StrEnum


class AreaLevel(StrEnum):
    county = "county"
    township = "township"
    village = "village"


def area_level(code: str) -> AreaLevel:
    if code[6:] == "000000":
        return AreaLevel.county
    if code[9:] == "000":
        return AreaLevel.township
    return AreaLevel.village


def area_prefix(code: str) -> str:
    """The digits that every area inside `code` shares with it."""
    return {AreaLevel.county: code[:6], AreaLevel.township: code[:9], AreaLevel.village: code}[area_level(code)]


def area_contains(outer: str, inner: str) -> bool:
    return inner.startswith(area_prefix(outer))


def township_of(village_code: str) -> str:
    return village_code[:9] + "000"


def county_of(code: str) -> str:
    return code[:6] + "000000"


def is_area_code(code: str) -> bool:
    return len(code) == 12 and code.isdigit()
