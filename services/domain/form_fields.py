"""Field types every request model uses, so that what the edge accepts a later layer can hold.

- Text: PostgreSQL refuses NUL in text and JSONB, and asyncpg cannot encode a lone surrogate;
  no one types a control character on purpose. Every text field refuses both (line breaks
  and tabs only in free text, where a cadre may start a new line).
- Numbers: finite, and within what their column and their meaning allow.
- Dates: inside the years the service can be in use. Whether a date lies after today is for
  the workflow to say, by its own clock (`future_dates`): a time-skipping server runs months
  ahead of the machine that takes the request.

Messages are read by cadres and villagers: Chinese, without the field's name (the error
answer puts the name in front).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, BaseModel, Field, SecretStr, StringConstraints

# C0 and C1 controls and DEL (line breaks and tabs are sorted out separately), lone surrogates
# (a JSON escape such as "\ud800" decodes to one), and the two noncharacters encoders trip on.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BROKEN = re.compile(r"[\ud800-\udfff\ufffe\uffff]")
_LINE_BREAK = re.compile(r"[\t\n\r]")
# Every character the three above look for: most values hold none, and are passed by one search.
_ANY_PROBLEM = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

CONTROL_CHARACTER = "含有无法保存的控制字符"
BROKEN_CHARACTER = "含有无法识别的字符（编码错误）"
LINE_BREAK = "不能含有换行符或制表符"


def text_problem(value: str, lines: bool = False) -> str | None:
    """Why `value` cannot be kept as typed; None if it can. `lines`: free text, where line
    breaks and tabs are fine."""
    if not _ANY_PROBLEM.search(value):
        return None
    if _CONTROL.search(value):
        return CONTROL_CHARACTER
    if _BROKEN.search(value):
        return BROKEN_CHARACTER
    if not lines and _LINE_BREAK.search(value):
        return LINE_BREAK
    return None


def _single_line(value: str) -> str:
    if problem := text_problem(value):
        raise ValueError(problem)
    return value


def _free_text(value: str) -> str:
    if problem := text_problem(value, lines=True):
        raise ValueError(problem)
    return value


def _secret(value: SecretStr) -> SecretStr:
    _single_line(value.get_secret_value())
    return value


@dataclass(frozen=True)
class Text(GroupedMetadata):
    """A text field's rules, for `Annotated[str, Text(...)]`: at most `max_length` characters,
    after stripping surrounding blanks (unless `strip` is False); `lines` for free text that may
    hold line breaks and tabs."""

    max_length: int
    min_length: int = 0
    lines: bool = False
    strip: bool = True

    def __iter__(self) -> Iterator[object]:
        yield StringConstraints(strip_whitespace=self.strip, min_length=self.min_length, max_length=self.max_length)
        yield AfterValidator(_free_text if self.lines else _single_line)


ShortText = Annotated[str, Text(50, min_length=1)]  # a name, a signer, a username
LongText = Annotated[str, Text(2000, lines=True)]  # notes and opinions; may be empty
RequiredText = Annotated[str, Text(2000, min_length=1, lines=True)]  # findings, reasons, contents
Secret = Annotated[SecretStr, Field(min_length=1, max_length=200), AfterValidator(_secret)]


def printable(value: str, limit: int = 200) -> str:
    """`value` safe to store or answer: every character `text_problem` refuses becomes U+FFFD,
    and at most `limit` characters are kept. For echoing what someone sent (a field name, the id
    of a rejected warning), never for what they meant to record."""
    return _BROKEN.sub("\ufffd", _CONTROL.sub("\ufffd", value[:limit]))


def storable_json(value: Any) -> Any:
    """JSON-like data as PostgreSQL's JSONB can hold it: refused characters replaced (keys too),
    non-finite numbers as text. For keeping a rejected input for the record."""
    if isinstance(value, str):
        return printable(value, len(value))
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {storable_json(str(k)): storable_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable_json(v) for v in value]
    return value


# -- numbers -------------------------------------------------------------------------

INT4_MAX = 2**31 - 1  # PostgreSQL `integer`


def Number(ge: float | None = None, le: float | None = None, *, gt: float | None = None) -> Any:
    """A number's rules, for `Annotated[float, Number(...)]`: finite (Python's JSON parser lets
    NaN and Infinity through) and within its bounds."""
    return Field(ge=ge, gt=gt, le=le, allow_inf_nan=False)


Yuan = Annotated[float, Number(0, 100_000_000)]


# -- dates ---------------------------------------------------------------------------

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
_OUT_OF_RANGE = f"日期应在{FIRST_DAY.year}年至{LAST_DAY.year}年之间"


def _in_service_years(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(_OUT_OF_RANGE)
    return day


def _moment_in_service_years(moment: datetime) -> datetime:
    _in_service_years(moment.date())  # its own calendar day: near enough for a range no clock leaves
    return moment


class _NotAfterToday:
    """Marks a date a person writes down after the fact: the workflow refuses one after its today."""

    def __repr__(self) -> str:
        return "NOT_AFTER_TODAY"


NOT_AFTER_TODAY = _NotAfterToday()
FormDate = Annotated[date, AfterValidator(_in_service_years)]  # e.g. when a measure starts
PastDate = Annotated[date, AfterValidator(_in_service_years), NOT_AFTER_TODAY]  # when something happened
FormDateTime = Annotated[datetime, AfterValidator(_moment_in_service_years)]


def _month_in_service_years(value: str) -> str:
    if not (_MONTH.fullmatch(value) and FIRST_DAY.year <= int(value[:4]) <= LAST_DAY.year):
        raise ValueError(f"应为年月，如 2026-11（{FIRST_DAY.year}年至{LAST_DAY.year}年之间）")
    return value


_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])", re.ASCII)
FormMonth = Annotated[str, AfterValidator(_month_in_service_years)]  # "YYYY-MM", e.g. a visit period


def future_dates(form: BaseModel, today: date, prefix: str = "") -> list[tuple[str, str]]:
    """(field path, label) of every `PastDate` in `form`, nested forms included, that lies after `today`."""
    found: list[tuple[str, str]] = []
    for name, info in type(form).model_fields.items():
        value, path = getattr(form, name), f"{prefix}{name}"
        if NOT_AFTER_TODAY in info.metadata and isinstance(value, date) and value > today:
            found.append((path, info.description or name))
        elif isinstance(value, BaseModel):
            found += future_dates(value, today, f"{path}.")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found += future_dates(item, today, f"{path}[{index}].")
    return found
