"""Small real files of each kind evidence comes in, and one that only pretends."""

from __future__ import annotations

import io

from PIL import Image


def photo(kind: str = "JPEG", colour: str = "green") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format=kind)
    return out.getvalue()


def scanned_pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 110), "white").save(out, format="PDF")
    return out.getvalue()


# A page with a script, named and declared as a photo: refused by its content.
DISGUISED_PAGE = b"<html><script>alert(document.cookie)</script></html>"
