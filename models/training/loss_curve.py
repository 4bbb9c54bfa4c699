"""A loss curve as a PNG, drawn with Pillow (matplotlib is not a Debian dependency here)."""

import math

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 800, 480
MARGIN = dict(left=70, right=20, top=40, bottom=50)
SERIES_RGB = [(40, 90, 220), (220, 60, 40)]


def nice_ticks(lo, hi, count=5):
    """Round tick values covering [lo, hi]."""
    span = hi - lo if hi > lo else 1.0
    raw = span / count
    step = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * step:
            step *= m
            break
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def draw_loss_curve(path, series, title, x_label="step", y_label="cross-entropy (log scale)"):
    """`series`: [(label, [(x, y), ...])], y > 0, drawn on a log y axis."""
    points = [p for _, pts in series for p in pts if p[1] > 0]
    if not points:
        raise ValueError("no positive loss values to draw")
    x_lo, x_hi = min(p[0] for p in points), max(p[0] for p in points)
    if x_hi == x_lo:
        x_hi = x_lo + 1
    y_lo, y_hi = (math.log10(min(p[1] for p in points)), math.log10(max(p[1] for p in points)))
    if y_hi - y_lo < 1e-6:
        y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
    left, top = MARGIN["left"], MARGIN["top"]
    right, bottom = WIDTH - MARGIN["right"], HEIGHT - MARGIN["bottom"]

    def at(x, y):
        px = left + (x - x_lo) / (x_hi - x_lo) * (right - left)
        py = bottom - (math.log10(y) - y_lo) / (y_hi - y_lo) * (bottom - top)
        return px, py

    img = Image.new("RGB", (WIDTH, HEIGHT), "white")
    d = ImageDraw.Draw(img)
    d.rectangle([left, top, right, bottom], outline=(0, 0, 0))
    for x in nice_ticks(x_lo, x_hi):
        px, _ = at(x, 10 ** y_lo)
        d.line([px, bottom, px, bottom + 5], fill=(0, 0, 0))
        d.text((px - 12, bottom + 8), f"{x:g}", fill=(0, 0, 0))
    for v in nice_ticks(10 ** y_lo, 10 ** y_hi, 6):
        if v > 0 and y_lo <= math.log10(v) <= y_hi:
            _, py = at(x_lo, v)
            d.line([left, py, right, py], fill=(225, 225, 225))
            d.text((8, py - 6), f"{v:g}", fill=(0, 0, 0))
    for i, (label, pts) in enumerate(series):
        rgb = SERIES_RGB[i % len(SERIES_RGB)]
        xy = [at(x, y) for x, y in pts if y > 0]
        if len(xy) > 1:
            d.line(xy, fill=rgb, width=2)
        for px, py in xy if len(xy) < 50 else []:
            d.ellipse([px - 3, py - 3, px + 3, py + 3], fill=rgb)
        d.text((right - 200, top + 8 + 16 * i), f"- {label}", fill=rgb)
    d.text((left, 12), title, fill=(0, 0, 0))
    d.text(((left + right) // 2 - 15, HEIGHT - 20), x_label, fill=(0, 0, 0))
    d.text((left + 5, top + 5), y_label, fill=(90, 90, 90))
    img.save(path, format="PNG")
