"""The service-record certificate (志愿服务记录证明) as a PDF.

reportlab's built-in CID font STSong-Light draws the Chinese with no font file to ship:
every PDF reader carries the Adobe-GB1 fonts it names.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
STARS = ["未达星级", "一星级", "二星级", "三星级", "四星级", "五星级"]


@dataclass(frozen=True)
class CertificateText:
    name: str
    verified_hours: float
    star_level: int
    period_from: str
    period_to: str
    issued_on: str
    center: str
    code: str
    verify_url: str
    years: list[tuple[str, float]]


def render_certificate(c: CertificateText) -> bytes:
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4)
    pdf.setTitle("志愿服务记录证明")
    width, height = A4
    pdf.setFont(FONT, 26)
    pdf.drawCentredString(width / 2, height - 40 * mm, "志愿服务记录证明")
    pdf.setFont(FONT, 14)
    lines = [
        f"兹证明 {c.name} 同志于 {c.period_from} 至 {c.period_to} 期间",
        f"参加志愿服务，经中心回访核实，累计服务时长 {c.verified_hours:g} 小时，",
        f"星级：{STARS[c.star_level]}（依《志愿服务记录办法》）。",
        "",
        "各年度核实服务时长：",
        *(f"    {year} 年：{hours:g} 小时" for year, hours in c.years),
        "",
        "特此证明。",
    ]
    y = height - 65 * mm
    for line in lines:
        pdf.drawString(25 * mm, y, line)
        y -= 10 * mm
    pdf.drawRightString(width - 25 * mm, y - 10 * mm, c.center)
    pdf.drawRightString(width - 25 * mm, y - 20 * mm, c.issued_on)
    pdf.setFont(FONT, 10)
    pdf.drawString(25 * mm, 35 * mm, f"验证码：{c.code}")
    pdf.drawString(25 * mm, 28 * mm, f"查验地址：{c.verify_url}")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
