"""A loss curve as a PNG, drawn with PIL (Debian's python3-pil; matplotlib is not a dependency).

    write_loss_png(path, {"train": [(step, loss), ...], "held-out": [...]}, title)

Log-scale loss axis, one colour per series, labelled axes and a legend.
"""

import math

from PIL import Image, ImageDraw

COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)]


def write_loss_png(path, series, title, size=(720, 420)):
    width, height = size
    left, right, top, bottom = 70, 20, 40, 50
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    points = [(s, v) for values in series.values() for s, v in values if v > 0]
    if not points:
        raise ValueError("no positive losses to plot")
    steps = [s for s, _ in points]
    logs = [math.log10(v) for _, v in points]
    x0, x1 = min(steps), max(max(steps), min(steps) + 1)
    y0, y1 = math.floor(min(logs)), math.ceil(max(logs))
    if y1 == y0:
        y1 = y0 + 1

    def xy(step, value):
        x = left + (step - x0) / (x1 - x0) * (width - left - right)
        y = top + (y1 - math.log10(value)) / (y1 - y0) * (height - top - bottom)
        return x, y

    draw.rectangle([left, top, width - right, height - bottom], outline=(0, 0, 0))
    for decade in range(y0, y1 + 1):
        # 1, 2 and 5 of each decade: a loss that moves within one decade still reads.
        for m in (1, 2, 5) if decade < y1 else (1,):
            _, y = xy(x0, m * 10.0**decade)
            draw.line([left, y, width - right, y], fill=(225, 225, 225))
            draw.text((8, y - 6), f"{m}e{decade}", fill=(0, 0, 0))
    for k in range(5):
        step = x0 + (x1 - x0) * k / 4
        x, _ = xy(step, 10.0**y0)
        draw.text((x - 10, height - bottom + 6), f"{int(round(step))}", fill=(0, 0, 0))
    draw.text((width / 2 - 15, height - 22), "step", fill=(0, 0, 0))
    draw.text((left, 12), title, fill=(0, 0, 0))
    for i, (name, values) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        line = [xy(s, v) for s, v in values if v > 0]
        if len(line) > 1:
            draw.line(line, fill=colour, width=2)
        elif line:
            draw.ellipse([line[0][0] - 2, line[0][1] - 2, line[0][0] + 2, line[0][1] + 2], fill=colour)
        draw.line([width - right - 150, top + 12 + 16 * i, width - right - 125, top + 12 + 16 * i],
                  fill=colour, width=3)
        draw.text((width - right - 118, top + 5 + 16 * i), name, fill=(0, 0, 0))
    image.save(path)
