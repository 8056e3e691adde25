"""Personal data rules: ID number validation (GB 11643) and masking."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, TypeVar, cast

from pydantic import AfterValidator, Field

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_PHONE_SHAPE = re.compile(r"^1[3-9]\d{9}$")


def id_check_char(first17: str) -> str:
    return _CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=False)) % 11]


def id_number_problem(value: str) -> str | None:
    """Why `value` is not a valid resident ID number, in words a cadre reads; None if valid."""
    if not _ID_SHAPE.match(value):
        return "身份证号应为18位，前17位为数字，最后一位为数字或大写X"
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "身份证号中的出生日期无效"
    if id_check_char(value[:17]) != value[17]:
        return "身份证号校验位不正确，请核对后重新填写"
    return None


def birth_date_of(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def phone_problem(value: str) -> str | None:
    return None if _PHONE_SHAPE.match(value) else "手机号应为11位数字，以1开头"


def _checked_id_number(value: str) -> str:
    value = value.strip().upper()
    if problem := id_number_problem(value):
        raise ValueError(problem)
    return value


def _checked_phone(value: str) -> str:
    value = value.strip()
    if problem := phone_problem(value):
        raise ValueError(problem)
    return value


# Form fields: a resident ID number (GB 11643) and a mobile number, checked with messages people read.
IdNumber = Annotated[str, Field(max_length=30, description="身份证号（18位）"), AfterValidator(_checked_id_number)]
MobilePhone = Annotated[str, Field(max_length=20, description="手机号"), AfterValidator(_checked_phone)]


def mask_id_number(value: str) -> str:
    """610824199001011234 → 610824********1234."""
    return value[:6] + "*" * 8 + value[-4:] if len(value) == 18 else "*" * len(value)


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) == 11 else "*" * len(value)


_MASKERS = {"id_number": mask_id_number, "phone": mask_phone}


JsonT = TypeVar("JsonT")


def masked_copy(value: JsonT) -> JsonT:
    """A deep copy of JSON-like data with every `id_number` and `phone` value masked."""
    if isinstance(value, dict):
        masked = {
            k: _MASKERS[k](v) if k in _MASKERS and isinstance(v, str) else masked_copy(v) for k, v in value.items()
        }
        return cast(JsonT, masked)
    if isinstance(value, list):
        return cast(JsonT, [masked_copy(v) for v in value])
    return value


# Runs of digits that look like a resident ID number (18, last may be X) or a mobile number (11).
_PERSONAL_NUMBERS = re.compile(r"(?<![0-9])(?:\d{17}[\dXx]|1[3-9]\d{9})(?![0-9Xx])")


def redact_personal_numbers(text: str) -> str:
    """Free text (a reason typed by an official) with ID and phone numbers masked, for notices."""

    def mask(found: re.Match[str]) -> str:
        value = found.group()
        return mask_id_number(value.upper()) if len(value) == 18 else mask_phone(value)

    return _PERSONAL_NUMBERS.sub(mask, text)
