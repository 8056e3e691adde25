"""一户一码: the household's QR code. It carries only the link to the household's page in the
workbench, never personal data, so the code may be printed and posted; a phone that scans it
lands on the page, which asks to sign in and shows the file only inside the reader's own area."""

from __future__ import annotations

import io

import segno
from markupsafe import Markup


def household_file_link(public_base_url: str, household_code: str) -> str:
    return f"{public_base_url.rstrip('/')}/households/{household_code}"


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


def qr_inline_svg(link: str, scale: int = 3) -> Markup:
    """The code as an `<svg>` element to put in a page (segno escapes what it writes)."""
    return Markup(_code(link).svg_inline(scale=scale, omitsize=False))
