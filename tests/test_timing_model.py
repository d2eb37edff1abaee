"""The typed timing model (timing.py) and its one rule for "the page without its end cue"."""

import pytest

from audioguide.phone.simulator import load_menu
from audioguide.publishers.book import Book
from audioguide.publishers.phone import page_cues, phone_cues
from audioguide.timing import Cue, end_cue_at, end_cue_start, without_end_cue


def cue(kind: str, start: float, end: float, text: str = "x") -> Cue:
    return Cue(start=start, end=end, text=text, written=text, kind=kind, cont=False, block=None)  # type: ignore[typeddict-item]


@pytest.mark.parametrize("kinds, at", [
    ([], 0),
    (["announce"], 1),
    (["announce", "sentence"], 2),
    (["announce", "sentence", "cue"], 2),
    (["announce", "sentence", "cue", "cue"], 2),   # an end cue of two sentences is two clips
    (["announce", "cue", "sentence"], 3),          # only a trailing run is the end cue
    (["cue", "cue"], 1),                            # the first clip is never taken for the end cue
    (["cue"], 1),
])
def test_end_cue_at(kinds, at):
    assert end_cue_at(kinds) == at


def test_the_phone_and_the_talking_books_split_a_page_at_the_same_clip():
    """The phone plays the page up to the end cue; the talking books (EPUB, DAISY, kiosk) give the rest a clip of
    its own. Before the one rule they disagreed on a page of end cues only: the phone kept one, the book saw
    none."""
    pages = [{"id": "p", "title": "P", "start": 0.0, "end": 3.0,
              "cues": [cue("cue", 0.0, 1.0, "Fin."), cue("cue", 1.2, 2.0, "Merci.")]}]
    kept = phone_cues(pages, 0)
    assert kept == pages[0]["cues"][:1]
    assert without_end_cue(pages[0]["cues"]) == kept
    assert end_cue_start(pages[0]["cues"]) == len(kept)


def test_every_reader_of_a_build_leaves_out_the_same_end_cue(mini_build):
    """Phone pages, the book's end-cue clip and the text simulator agree, on a real build."""
    manifest = mini_build.manifest
    guide = mini_build.guide
    book = Book.from_manifest(guide, manifest)
    phone = page_cues(manifest)
    text_menu, _ = load_menu(guide.path)
    built_menu, _ = load_menu(mini_build.out_dir)
    for ch, bch in zip(manifest["chapters"], book.chapters):
        last = ch["pages"][-1]
        kept = phone[(ch["id"], last["id"])]
        assert kept and kept[-1]["kind"] != "cue"
        end = last["cues"][len(kept):]
        assert end and all(c["kind"] == "cue" for c in end)
        assert bch.end is not None and bch.end.text == " ".join(c["written"] or c["text"] for c in end)
        assert bch.end.clip.start == kept[-1]["end"]
    # The guide run as text cuts its pages into the same segments as the built bundle.
    assert {k: [len(p) for p in n.pages] for k, n in text_menu.nodes.items()} == \
        {k: [len(p) for p in n.pages] for k, n in built_menu.nodes.items()}
