"""一户一码: the household's QR code. It carries only the link to the household file in the
service, never personal data, so the code may be printed and posted; whoever follows it
still signs in, and sees the file only inside their own area."""

from __future__ import annotations

import io

import segno


def household_file_link(public_base_url: str, household_code: str) -> str:
    return f"{public_base_url.rstrip('/')}/api/v1/households/{household_code}/file"


def _code(link: str) -> segno.QRCode:
    # Level M survives a smudged or folded print (15% of the code lost) and keeps the code small.
    return segno.make_qr(link, error="m")


def qr_png(link: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    _code(link).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(link: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    _code(link).save(out, kind="svg", scale=scale, border=4, xmldecl=True, title="一户一码")
    return out.getvalue()
