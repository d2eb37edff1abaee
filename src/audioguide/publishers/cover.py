"""Cover art generated from the guide's title: high contrast, very large type, square, RGB JPEG."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

SIZE = 1400
MIN_SIZE = 36  # the smallest type the title and subtitle may shrink to
FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF"]


def font_file(bold: bool) -> Path | None:
    """The system font the cover is drawn with; None draws with Pillow's own."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return next((Path(d) / name for d in FONT_DIRS if (Path(d) / name).exists()), None)


def _font(bold: bool, size: int):
    from PIL import ImageFont  # here, not above: a rebuild with nothing to do asks font_file() only

    p = font_file(bold)
    return ImageFont.truetype(str(p), size) if p else ImageFont.load_default(size=size)


def _fit(draw, text: str, bold: bool, max_size: int, width: int, max_lines: int):
    for size in range(max_size, 30, -6):
        font = _font(bold, size)
        avg = draw.textlength("abcdefghij", font=font) / 10
        lines = textwrap.wrap(text, width=max(4, int(width / avg)))
        if len(lines) <= max_lines and all(draw.textlength(line, font=font) <= width for line in lines):
            return font, lines
    # Words longer than a line ("RENDEZ-VOUS.AMELI.FR/…"): wrapped by measure, cut inside the word.
    font = _font(bold, MIN_SIZE)
    for size in range(max_size, MIN_SIZE - 1, -6):
        font = _font(bold, size)
        lines = _wrap(draw, text, font, width)
        if len(lines) <= max_lines:
            return font, lines
    lines = _wrap(draw, text, font, width)[:max_lines]
    while lines[-1] and draw.textlength(lines[-1] + "…", font=font) > width:
        lines[-1] = lines[-1][:-1]
    lines[-1] += "…"  # the full title is in the book and the feed; the cover says it was cut
    return font, lines


def _wrap(draw, text: str, font, width: int) -> list[str]:
    """Lines no wider than `width` as drawn with `font`: cut between words, and inside a word too long."""
    lines, line = [], ""
    for word in text.split(" "):
        joined = f"{line} {word}" if line else word
        if draw.textlength(joined, font=font) <= width:
            line = joined
            continue
        if line:
            lines.append(line)
        while len(word) > 1 and draw.textlength(word, font=font) > width:
            lo, hi = 1, len(word) - 1  # the longest piece that fits, by bisection
            while lo < hi:
                mid = (lo + hi + 1) // 2
                lo, hi = (mid, hi) if draw.textlength(word[:mid], font=font) <= width else (lo, mid - 1)
            lines.append(word[:lo])
            word = word[lo:]
        line = word
    return lines + ([line] if line else [])


def layout(draw, title: str, subtitle: str, publisher: str) -> list[tuple[float, float, str, Any, tuple]]:
    """Each line of text as drawn: (x, y, text, font, colour). Every line fits inside the frame."""
    margin = 110
    width = SIZE - 2 * margin
    for top in range(150, MIN_SIZE - 1, -6):  # a long title and subtitle shrink to leave the publisher room
        placed: list[tuple[float, float, str, Any, tuple]] = []
        font, lines = _fit(draw, title.upper(), True, top, width, 4)
        y = 430
        for line in lines:
            w = draw.textlength(line, font=font)
            placed.append(((SIZE - w) / 2, y, line, font, (255, 214, 0)))
            y += int(font.size * 1.15)
        if subtitle:
            sfont, slines = _fit(draw, subtitle, False, min(64, top), width, 3)
            y += 30
            for line in slines:
                w = draw.textlength(line, font=sfont)
                placed.append(((SIZE - w) / 2, y, line, sfont, (255, 255, 255)))
                y += int(sfont.size * 1.2)
        if y <= SIZE - 215:
            break
    pfont = _font(True, 60)
    if draw.textlength(publisher, font=pfont) > width:  # one line, as large as fits
        pfont, plines = _fit(draw, publisher, True, 60, width, 1)
        publisher = plines[0]
    w = draw.textlength(publisher, font=pfont)
    placed.append(((SIZE - w) / 2, SIZE - 200, publisher, pfont, (255, 255, 255)))
    return placed


def make_cover(title: str, subtitle: str, publisher: str) -> bytes:
    """Yellow on black (contrast 15:1), title as large as fits; JPEG, no alpha, no metadata."""
    from PIL import Image, ImageDraw

    # Pillow refuses multi-line text here and its layout engine fails on U+2029 and some controls:
    # every run of whitespace or line breaks becomes one space.
    title, subtitle, publisher = (" ".join(t.split()) for t in (title, subtitle, publisher))
    img = Image.new("RGB", (SIZE, SIZE), (0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rectangle([40, 40, SIZE - 40, SIZE - 40], outline=(255, 214, 0), width=16)
    # A simple speaker-wave mark says "audio" without words.
    cx, cy = SIZE // 2, 250
    d.polygon([(cx - 90, cy - 40), (cx - 40, cy - 40), (cx + 20, cy - 95), (cx + 20, cy + 95), (cx - 40, cy + 40),
               (cx - 90, cy + 40)], fill=(255, 214, 0))
    for r in (70, 120):
        d.arc([cx + 20 - r, cy - r, cx + 20 + r, cy + r], start=-45, end=45, fill=(255, 214, 0), width=18)
    for x, y, line, font, fill in layout(d, title, subtitle, publisher):
        d.text((x, y), line, font=font, fill=fill)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90, optimize=True)
    return buf.getvalue()
