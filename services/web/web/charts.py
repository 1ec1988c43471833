"""Charts drawn on the server as inline SVG: no script, no image request, readable at a glance."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 12, 14, 30


def _nice_ceiling(value: int) -> int:
    """The top of the scale: four equal whole steps of 1, 2 or 5 times a power of ten."""
    needed = max(1, -(-value // 4))  # ceil(value / 4)
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if factor * magnitude >= needed:
                return factor * magnitude * 4
        magnitude *= 10


def total_downloads(records: list[dict]) -> int:
    return sum(int(d.get("count", 0)) for r in records for d in r.get("downloads", []))


def downloads_chart(records: list[dict]) -> Markup:
    """Bars of downloads per day from catalog's ``time_range_downloads`` records."""
    days = [(r.get("date", ""), sum(int(d.get("count", 0)) for d in r.get("downloads", []))) for r in records]
    total = sum(count for _, count in days)
    first = days[0][0] if days else ""
    last = days[-1][0] if days else ""
    label = f"Downloads per day from {first} to {last}: {total} in all"
    top = _nice_ceiling(max((count for _, count in days), default=0))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
             f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(label)}</title>"]
    for i in range(5):  # grid lines and their values
        value = top * i / 4
        y = PAD_TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{y:.1f}" '
                     f'stroke="#d9dee5" stroke-width="1"/>')
        parts.append(f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="#4a5563">{int(value)}</text>')
    if days:
        slot = plot_w / len(days)
        bar = max(1.0, slot * 0.7)
        for i, (day, count) in enumerate(days):
            h = plot_h * count / top if top else 0
            x = PAD_LEFT + i * slot + (slot - bar) / 2
            parts.append(f'<rect x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="#2f6fdf"><title>{escape(day)}: {count}</title></rect>')
        for i in sorted({0, len(days) // 2, len(days) - 1}):
            x = PAD_LEFT + i * slot + slot / 2
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="middle" font-size="11" '
                         f'fill="#4a5563">{escape(days[i][0][5:])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
