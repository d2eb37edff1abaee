"""The e-santé guide's own words about its levels match its frame (issue 23): the voice, the phone and the
kiosk say "partie", "sujet" and "page" (the guide's `levels:`), so the introduction says so too."""

import re

from audioguide.guide import load_guide

from conftest import ESANTE


def test_how_to_listen_names_the_levels_as_the_frame_does():
    guide = load_guide(ESANTE)
    page = next(p for p in guide.intro.pages if p.id == "comment-ecouter")
    text = " ".join(b.text for b in page.blocks if b.text).lower()
    levels = guide.levels
    assert f"quatre {levels.part.noun}s" in text and len(guide.parts) == 4
    assert f"chaque {levels.part.noun} contient plusieurs {levels.chapter.noun}s" in text
    assert f"chaque {levels.chapter.noun} plusieurs {levels.page.noun}s" in text
    # A level is never given another level's name ("chaque chapitre", "nouvelle partie" for a page).
    assert not re.search(r"\bchaque chapitre\b|\bquatre chapitres\b", text)
    assert f"nouvelle {levels.page.noun}" in text and f"chaque {levels.page.noun}, une voix" in text
