"""The cover keeps every line of text inside its frame, whatever the title: measured with the real font."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from audioguide.publishers.cover import SIZE, font_file, layout, make_cover

FRAME = 56  # the yellow frame's outer edge is at 40 px from the border, its inner edge at 56 px

LONG = [
    ("A" * 120, "Un sous-titre", "Association Test"),
    ("Bien vivre avec une maladie chronique au quotidien", "Le guide des patients, des aidants et des proches, "
     "rédigé avec eux, relu par des soignants, pour toutes les étapes du parcours", "Association Test"),
    ("W" * 60, "", "Association Test"),
    ("\ua64c" * 200, "", "P"),  # a glyph wider than the letters the first guess of a line's length uses
    ("Vaccination", "", "Association nationale des usagers du système de santé de Bourgogne-Franche-Comté"),
    ("Voir https://www.ameli.fr/assure/remboursements/rembourse/medicaments-vaccins", "x", "y"),
    ("Santé", "Pneumonoultramicroscopicsilicovolcanoconiose" * 3, "W" * 90),
    ("MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM "
     "MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM", "", "P"),
]


@pytest.mark.skipif(font_file(True) is None, reason="needs the DejaVu fonts that script/bootstrap installs")
@pytest.mark.parametrize("title, subtitle, publisher", LONG)
def test_long_unbreakable_text_stays_inside_the_cover(title, subtitle, publisher):
    d = ImageDraw.Draw(Image.new("RGB", (SIZE, SIZE)))
    placed = layout(d, title, subtitle, publisher)
    boxes = [d.textbbox((x, y), text, font=font) for x, y, text, font, _ in placed]
    for (left, _top, right, bottom), (_, _, text, _, _) in zip(boxes, placed):
        assert FRAME <= left and right <= SIZE - FRAME and bottom <= SIZE - FRAME, (text, left, right, bottom)
    assert all(bottom < boxes[-1][1] for _, _, _, bottom in boxes[:-1])  # above the publisher's line
    # Nothing of the title is lost but a tail marked as cut.
    shown = "".join(t for _, _, t, _, fill in placed if fill == (255, 214, 0)).replace(" ", "")
    assert title.upper().replace(" ", "").startswith(shown.rstrip("…"))
    # And on the image itself: nothing drawn between the frame and the edge.
    img = Image.open(io.BytesIO(make_cover(title, subtitle, publisher))).convert("L")
    outside = [img.getpixel((x, y)) for y in range(60, SIZE - 60, 4) for x in (*range(0, 30), *range(SIZE - 30, SIZE))]
    assert max(outside) < 60


# --- what a low-vision reader sees: read from the JPEG's pixels --------------------------------------------

def _cover(title, subtitle="", publisher="Association Test") -> Image.Image:
    return Image.open(io.BytesIO(make_cover(title, subtitle, publisher))).convert("RGB")


def _luminance(rgb) -> float:
    """WCAG 2 relative luminance."""
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a, b) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _rows_with_ink(img, top, bottom, ink) -> list[int]:
    """The rows between top and bottom (inside the frame) where some pixel is of the given ink."""
    xs = range(FRAME + 4, SIZE - FRAME - 4, 2)
    return [y for y in range(top, bottom) if any(ink(img.getpixel((x, y))) for x in xs)]


def _yellow(p) -> bool:
    return p[0] > 160 and p[1] > 130 and p[2] < 90


def _white(p) -> bool:
    return min(p) > 160


@pytest.mark.skipif(font_file(True) is None, reason="needs the DejaVu fonts that script/bootstrap installs")
def test_the_cover_s_text_is_large_centred_and_in_high_contrast():
    """Yellow title, white subtitle and publisher on black, each line centred, the title larger than the
    subtitle, the lines going down the cover in reading order below the speaker mark: what a low-vision reader
    sees on a library shelf or a phone's player."""
    img = _cover("Vaccination", "Le guide des patients", "Association Test")
    background = img.getpixel((SIZE // 2, 380))
    assert max(background) < 30
    title_rows = _rows_with_ink(img, 345, 1150, _yellow)
    white_rows = _rows_with_ink(img, 345, 1150, _white)
    publisher_rows = _rows_with_ink(img, 1150, SIZE - FRAME - 4, _white)
    assert title_rows and white_rows and publisher_rows
    # Reading order: the title, then the subtitle under it, the publisher at the foot.
    assert max(title_rows) < min(white_rows) and max(white_rows) < min(publisher_rows)
    # The title's type is larger than the subtitle's, and large: over 80 px from its capitals' top to its base.
    title_height, subtitle_height = max(title_rows) - min(title_rows), max(white_rows) - min(white_rows)
    assert title_height > 80 and title_height > 1.5 * subtitle_height
    for rows, ink in ((title_rows, _yellow), (white_rows, _white), (publisher_rows, _white)):
        y = (min(rows) + max(rows)) // 2
        xs = [x for x in range(FRAME + 4, SIZE - FRAME - 4) if ink(img.getpixel((x, y)))]
        assert abs((min(xs) + max(xs)) / 2 - SIZE / 2) < 12, (ink.__name__, min(xs), max(xs))  # centred
        colours = [img.getpixel((x, y)) for x in xs]
        text = tuple(sorted(c[i] for c in colours)[len(colours) // 2] for i in range(3))  # the median ink
        assert _contrast(text, background) >= 4.5, (text, background)


@pytest.mark.skipif(font_file(True) is None, reason="needs the DejaVu fonts that script/bootstrap installs")
@pytest.mark.parametrize("title, subtitle", [("Bien vivre avec une maladie chronique au quotidien, le guide complet",
                                              "Pour les patients, les aidants et les proches, rédigé avec eux"),
                                             ("\ua64c" * 200, ""), (LONG[-1][0], "")])
def test_long_titles_go_down_the_cover_in_bold_lines_cut_as_late_as_possible(title, subtitle):
    """Each line below the one before, none over another or over the speaker mark; the title in bold even when
    cut inside a word; a title too long for the cover loses only the tail that cannot fit, marked « … »."""
    d = ImageDraw.Draw(Image.new("RGB", (SIZE, SIZE)))
    placed = layout(d, title, subtitle, "Association Test")
    boxes = [d.textbbox((x, y), text, font=font) for x, y, text, font, _ in placed]
    assert boxes[0][1] > 345  # under the speaker mark (its waves reach y = 250 + 120 / 2 + 9)
    for above, below in zip(boxes, boxes[1:]):
        assert below[1] >= above[3] - 2, (above, below)
    title_lines = [(text, font) for _, _, text, font, fill in placed if fill == (255, 214, 0)]
    assert all(font.getname()[1] == "Bold" for _, font in title_lines)
    last, font = title_lines[-1]
    if " " not in title:  # one word longer than the cover holds: cut inside it, as late as fits
        assert last.endswith("…")
        shown = "".join(t for t, _ in title_lines).replace(" ", "").rstrip("…")
        upper = title.upper().replace(" ", "")
        longer = last[:-1] + upper[len(shown)] + "…"
        assert d.textlength(longer, font=font) > SIZE - 2 * 110  # one more letter would not fit


@pytest.mark.skipif(font_file(True) is None, reason="needs the DejaVu fonts that script/bootstrap installs")
def test_the_speaker_mark_is_whole_and_its_waves_are_thick():
    """The mark that says « audio » without words: a loudspeaker and two waves, symmetric about its axis, the
    waves drawn as strokes a low-vision reader sees (not hairlines)."""
    img = _cover("Vaccination")
    cx, cy = SIZE // 2, 250
    asymmetric = sum(_yellow(img.getpixel((x, cy - dy))) != _yellow(img.getpixel((x, cy + dy)))
                     for dy in range(160) for x in range(cx - 160, cx + 180))
    assert asymmetric < 45  # a few pixels of JPEG noise at the edges
    runs, inside = [], False
    for x in range(cx + 21, cx + 180):
        if _yellow(img.getpixel((x, cy))) and not inside:
            runs.append([x, x])
        if _yellow(img.getpixel((x, cy))):
            runs[-1][1] = x
        inside = _yellow(img.getpixel((x, cy)))
    assert len(runs) == 2 and all(b - a >= 12 for a, b in runs), runs


def test_without_the_dejavu_fonts_the_title_is_still_large(monkeypatch):
    """On a system without DejaVu, Pillow's own font draws the text, at the size the layout chose."""
    from audioguide.publishers import cover

    monkeypatch.setattr(cover, "FONT_DIRS", [])
    assert cover.font_file(True) is None
    img = _cover("Vaccination")
    rows = _rows_with_ink(img, 345, 1150, _yellow)
    assert rows and max(rows) - min(rows) > 60


def test_the_cover_is_an_optimised_jpeg():
    """The cover is embedded in every chapter MP3 and both books: its JPEG has optimised Huffman tables, the
    smallest file for the same picture."""
    data = make_cover("Vaccination", "Le guide des patients", "Association Test")
    again = io.BytesIO()
    Image.open(io.BytesIO(data)).save(again, format="JPEG", quality=90, optimize=True)  # the picture, saved again
    assert len(data) <= len(again.getvalue())  # without optimised tables: about a quarter larger


@pytest.mark.skipif(font_file(True) is None, reason="needs the DejaVu fonts that script/bootstrap installs")
def test_a_title_of_a_few_words_is_drawn_large_on_several_lines():
    """Shrinking the type is the last resort: a title that fits on three lines at 96 px is not drawn on one at
    36 px, and a long subtitle never goes below the smallest size the cover allows."""
    from audioguide.publishers.cover import MIN_SIZE

    d = ImageDraw.Draw(Image.new("RGB", (SIZE, SIZE)))
    placed = layout(d, "Mon espace santé : le carnet de santé numérique", "Ce qu'il faut savoir", "France Assos Santé")
    title = [(text, font.size) for _, _, text, font, fill in placed if fill == (255, 214, 0)]
    assert len(title) >= 2 and min(size for _, size in title) >= 90, title
    placed = layout(d, "Bien vivre avec une maladie chronique au quotidien, le guide complet",
                    "Pour les patients, les aidants et les proches, rédigé avec eux", "A")
    assert min(font.size for *_, font, _ in placed) >= MIN_SIZE
