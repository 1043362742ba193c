"""PDF building blocks shared by notices, receipts and statements.

Every PDF embeds a subset of a CJK TrueType font (WenQuanYi Zen Hei, Debian package
`fonts-wqy-zenhei`), so it prints the same on every viewer and printer. Reportlab's built-in
CID fonts (STSong-Light) are not embedded and show as empty boxes where the viewer lacks them,
so they are never used here (DESIGN.md §8).

    from wuye.core import pdf
    styles = pdf.styles()
    data = pdf.build([pdf.Paragraph("收费公示", styles["title"]), ...], title="收费公示")
"""

import io
import os
import threading
from collections.abc import Callable, Sequence

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

__all__ = [
    "FONT_NAME",
    "FONT_PATH",
    "FontMissing",
    "Paragraph",
    "Spacer",
    "build",
    "register_font",
    "styles",
    "table",
    "text",
    "mm",
]

FONT_NAME = "WQY"
FONT_PATH = os.environ.get("WUYE_CJK_FONT", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
FONT_PACKAGE = "fonts-wqy-zenhei"

_lock = threading.Lock()


class FontMissing(RuntimeError):
    """The CJK font file is not installed."""


def register_font() -> str:
    """Register the embedded CJK font once per process and return its name."""
    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    with _lock:
        if FONT_NAME in pdfmetrics.getRegisteredFontNames():
            return FONT_NAME
        if not os.path.exists(FONT_PATH):
            raise FontMissing(
                f"CJK font not found at {FONT_PATH}: install the Debian package {FONT_PACKAGE} "
                f"(apt-get install {FONT_PACKAGE}) or set WUYE_CJK_FONT to a TrueType font"
            )
        pdfmetrics.registerFont(TTFont(FONT_NAME, FONT_PATH, subfontIndex=0))
    return FONT_NAME


def styles(base_size: float = 10.5) -> dict[str, ParagraphStyle]:
    """Paragraph styles in the CJK font: title, heading, body, small, right, center."""
    font = register_font()
    body = ParagraphStyle(
        "body",
        fontName=font,
        fontSize=base_size,
        leading=base_size * 1.5,
        wordWrap="CJK",
    )
    return {
        "title": ParagraphStyle(
            "title",
            parent=body,
            fontSize=base_size * 1.8,
            leading=base_size * 2.4,
            alignment=TA_CENTER,
            spaceAfter=base_size,
        ),
        "heading": ParagraphStyle(
            "heading",
            parent=body,
            fontSize=base_size * 1.2,
            leading=base_size * 1.8,
            spaceBefore=base_size * 0.6,
            spaceAfter=base_size * 0.3,
        ),
        "body": body,
        "small": ParagraphStyle(
            "small", parent=body, fontSize=base_size * 0.8, leading=base_size * 1.2
        ),
        "right": ParagraphStyle("right", parent=body, alignment=TA_RIGHT),
        "center": ParagraphStyle("center", parent=body, alignment=TA_CENTER),
    }


def table(
    rows: Sequence[Sequence[str]],
    *,
    col_widths: Sequence[float] | None = None,
    header: bool = True,
    font_size: float = 9.5,
    padding: float = 3,
) -> Table:
    """A ruled table of text cells (wrapped as paragraphs, so long Chinese text wraps);
    `padding` (points above and below a cell's text) is smaller where a page must hold more."""
    font = register_font()
    cell = ParagraphStyle(
        "cell", fontName=font, fontSize=font_size, leading=font_size * 1.35, wordWrap="CJK"
    )
    data = [[Paragraph(_escape(str(value)), cell) for value in row] for row in rows]
    result = Table(data, colWidths=col_widths, repeatRows=1 if header else 0)
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), padding),
        ("BOTTOMPADDING", (0, 0), (-1, -1), padding),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
    result.setStyle(TableStyle(commands))
    return result


def _escape(text: str) -> str:
    """Paragraph text is a tiny markup language: escape &, < and >."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text(value: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (markup characters escaped, newlines kept)."""
    return Paragraph(_escape(value).replace("\n", "<br/>"), style)


def build(
    flowables: list,
    *,
    title: str,
    author: str = "",
    pagesize=A4,
    margin: float = 18 * mm,
    footer: Callable[[int], str] | None = None,
) -> bytes:
    """Lay out `flowables` on pages and return the PDF bytes.

    `footer(page_number)` returns text printed centred at the foot of every page."""
    font = register_font()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
        author=author,
        creator="wuye",
    )

    def draw_footer(canvas, document):
        if footer is None:
            return
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(pagesize[0] / 2, margin / 2, footer(document.page))
        canvas.restoreState()

    doc.build(flowables, onFirstPage=draw_footer, onLaterPages=draw_footer)
    return buffer.getvalue()
