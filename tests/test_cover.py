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
