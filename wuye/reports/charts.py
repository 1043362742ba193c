"""Charts as plain SVG, drawn on the server (no CDN, no JavaScript): they print, they go into
the PDF (as drawings, `documents.py`), and every bar links to the drill-down behind it."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#0d6efd", "#adb5bd", "#198754", "#fd7e14", "#dc3545", "#6f42c1"]


@dataclass
class Bar:
    label: str
    value: Decimal | float | None
    href: str = ""
    title: str = ""


def _num(v) -> float:
    return float(v or 0)


def _link(svg: str, href: str, title: str) -> str:
    inner = f"<title>{escape(title)}</title>{svg}" if title else svg
    if not href:
        return f"<g>{inner}</g>"
    return f'<a href="{escape(href)}">{inner}</a>'


def hbars(bars: list[Bar], *, width: int = 520, unit: str = "", color: str = PALETTE[0]):
    """Horizontal bars with labels at the left and values at the right."""
    row, label_w, value_w = 26, 150, 110
    height = max(row * len(bars) + 8, 30)
    top = max((_num(b.value) for b in bars), default=0) or 1
    span = width - label_w - value_w
    parts = []
    for i, b in enumerate(bars):
        y = 4 + i * row
        w = max(span * _num(b.value) / top, 0)
        text = f"{b.value}{unit}" if b.value is not None else "—"
        parts.append(
            _link(
                f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{escape(b.label)}</text>'
                f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" '
                f'fill="{color}" rx="2"/>'
                f'<text x="{label_w + w + 6:.1f}" y="{y + 16}">{escape(text)}</text>',
                b.href,
                b.title or f"{b.label}: {text}",
            )
        )
    return _svg(width, height, "".join(parts))


def columns(
    months: list[str],
    series: list[tuple[str, list[Decimal | None], list[str]]],
    *,
    width: int = 620,
    height: int = 220,
    percent: bool = True,
):
    """Grouped columns per month; `series` = [(name, values 0..1, hrefs)]."""
    left, bottom, top_pad = 40, 36, 24
    plot_h = height - bottom - top_pad
    n, k = max(len(months), 1), max(len(series), 1)
    slot = (width - left - 8) / n
    bar_w = max(slot / (k + 1), 2)
    parts = []
    for tick in (0, 0.25, 0.5, 0.75, 1):
        y = top_pad + plot_h * (1 - tick)
        parts.append(
            f'<line x1="{left}" x2="{width - 4}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dee2e6"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">'
            f"{int(tick * 100)}%</text>"
        )
    for i, month in enumerate(months):
        x0 = left + i * slot + bar_w / 2
        parts.append(
            f'<text x="{x0 + bar_w * k / 2:.1f}" y="{height - bottom + 14}" '
            f'text-anchor="middle" font-size="10">{escape(month[5:])}</text>'
        )
        for j, (name, values, hrefs) in enumerate(series):
            v = values[i] if i < len(values) else None
            h = plot_h * min(_num(v), 1.2) / 1.0 if v is not None else 0
            h = min(h, plot_h)
            x, y = x0 + j * bar_w, top_pad + plot_h - h
            label = "—" if v is None else f"{Decimal(v) * 100:.2f}%"
            parts.append(
                _link(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" '
                    f'fill="{PALETTE[j % len(PALETTE)]}"/>',
                    hrefs[i] if i < len(hrefs) else "",
                    f"{name} {month}: {label}",
                )
            )
    legend = "".join(
        f'<rect x="{left + j * 130}" y="4" width="10" height="10" '
        f'fill="{PALETTE[j % len(PALETTE)]}"/>'
        f'<text x="{left + j * 130 + 14}" y="13" font-size="11">{escape(name)}</text>'
        for j, (name, _v, _h) in enumerate(series)
    )
    return _svg(width, height, legend + "".join(parts))


def _svg(width: int, height: int, body: str) -> SafeString:
    return mark_safe(  # noqa: S308 - every text above went through escape()  # escaped above  # nosec B308 B703
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" role="img" font-family="sans-serif" '
        f'font-size="12">{body}</svg>'
    )
