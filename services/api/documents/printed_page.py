"""A printable A4 page for a list a village posts (the identification notice, the exit notice,
the result announcement): a title, a paragraph, a table, and who posts it on which day. Every
value is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape


def printed_page(
    title: str, text: str, headings: Sequence[str], rows: Sequence[Sequence[object]], signed_by: str, on: date
) -> str:
    body = (
        "\n".join(
            "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in (index, *row)) + "</tr>"
            for index, row in enumerate(rows, start=1)
        )
        or f'<tr><td colspan="{len(headings) + 1}">本期无公示对象</td></tr>'
    )
    head = "".join(f"<th>{escape(h)}</th>" for h in ("序号", *headings))
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>
  @page {{ size: A4; margin: 20mm; }}
  body {{ font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; color: #000; }}
  h1 {{ text-align: center; font-size: 22pt; letter-spacing: 2pt; }}
  p {{ font-size: 12pt; line-height: 1.8; text-indent: 2em; }}
  table {{ width: 100%; border-collapse: collapse; font-size: 12pt; }}
  th, td {{ border: 1px solid #000; padding: 6pt; text-align: center; }}
  .sign {{ text-align: right; margin-top: 24pt; text-indent: 0; }}
</style></head>
<body>
<h1>{escape(title)}</h1>
<p>{escape(text)}</p>
<table>
<thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody></table>
<p class="sign">{escape(signed_by)}<br>{on:%Y年%m月%d日}</p>
</body></html>
"""
