"""Cover art generated from the guide's title: high contrast, very large type, square, RGB JPEG."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

SIZE = 1400
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
    return _font(bold, 30), textwrap.wrap(text, 40)[:max_lines]


def make_cover(title: str, subtitle: str, publisher: str) -> bytes:
    """Yellow on black (contrast 15:1), title as large as fits; JPEG, no alpha, no metadata."""
    from PIL import Image, ImageDraw

    # Pillow refuses multi-line text here and its layout engine fails on U+2029 and some controls:
    # every run of whitespace or line breaks becomes one space.
    title, subtitle, publisher = (" ".join(t.split()) for t in (title, subtitle, publisher))
    img = Image.new("RGB", (SIZE, SIZE), (0, 0, 0))
    d = ImageDraw.Draw(img)
    margin = 110
    width = SIZE - 2 * margin
    d.rectangle([40, 40, SIZE - 40, SIZE - 40], outline=(255, 214, 0), width=16)
    # A simple speaker-wave mark says "audio" without words.
    cx, cy = SIZE // 2, 250
    d.polygon([(cx - 90, cy - 40), (cx - 40, cy - 40), (cx + 20, cy - 95), (cx + 20, cy + 95), (cx - 40, cy + 40),
               (cx - 90, cy + 40)], fill=(255, 214, 0))
    for r in (70, 120):
        d.arc([cx + 20 - r, cy - r, cx + 20 + r, cy + r], start=-45, end=45, fill=(255, 214, 0), width=18)
    font, lines = _fit(d, title.upper(), True, 150, width, 4)
    y = 430
    for line in lines:
        w = d.textlength(line, font=font)
        d.text(((SIZE - w) / 2, y), line, font=font, fill=(255, 214, 0))
        y += int(font.size * 1.15)
    if subtitle:
        sfont, slines = _fit(d, subtitle, False, 64, width, 3)
        y += 30
        for line in slines:
            w = d.textlength(line, font=sfont)
            d.text(((SIZE - w) / 2, y), line, font=sfont, fill=(255, 255, 255))
            y += int(sfont.size * 1.2)
    pfont = _font(True, 60)
    w = d.textlength(publisher, font=pfont)
    d.text(((SIZE - w) / 2, SIZE - 200), publisher, font=pfont, fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90, optimize=True)
    return buf.getvalue()
