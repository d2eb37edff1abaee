"""Hostile and random input: the only exception a user can see is the tool's own, with a message."""

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audioguide.exceptions import AudioguideError
from audioguide.guide import load_guide
from audioguide.narration import normalize
from audioguide.narration.script import MAX_SEGMENT_CHARS, ScriptWriter
from conftest import DATA

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])
VALID = (DATA / "mini" / "guide.yaml").read_text("utf-8")


def load_or_explain(tmp_path, data: bytes) -> None:
    f = tmp_path / "guide.yaml"
    f.write_bytes(data)
    try:
        guide = load_guide(f)
    except AudioguideError as exc:
        assert str(exc).strip()
        return
    # Whatever loads must also narrate without error.
    writer = ScriptWriter(guide)
    for ch in guide.chapters:
        for page in writer.chapter(ch):
            assert all(seg.text.strip() for seg in page.segments)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(tmp_path, data):
    load_or_explain(tmp_path, data)


@FUZZ
@given(st.text(max_size=400))
def test_random_text(tmp_path, text):
    load_or_explain(tmp_path, text.encode("utf-8"))


@FUZZ
@given(st.integers(0, len(VALID) - 1), st.integers(0, 40), st.text(max_size=12))
def test_edits_of_a_valid_guide(tmp_path, at, cut, insert):
    """A volunteer's typo anywhere in a real guide: delete some characters, type others."""
    load_or_explain(tmp_path, (VALID[:at] + insert + VALID[at + cut:]).encode("utf-8"))


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
                    st.dates())
KEYS = st.sampled_from(["id", "title", "publisher", "description", "date", "intro", "parts", "chapters", "pages",
                        "blocks", "p", "list", "link", "url", "label", "lexicon", "narration", "attention",
                        "menu_label", "base_url", "titel"]) | st.text(max_size=8)
TREES = st.recursive(SCALARS, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(KEYS, kids, max_size=6),
                     max_leaves=30)


@FUZZ
@given(st.dictionaries(KEYS, TREES, max_size=10))
def test_random_yaml_structures(tmp_path, tree):
    load_or_explain(tmp_path, yaml.safe_dump(tree, allow_unicode=True).encode("utf-8"))


@FUZZ
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_normaliser_never_raises_on_any_character(text):
    out = normalize(text)
    assert isinstance(out, str)


def test_long_unpunctuated_page_is_split_for_the_engines(tmp_path):
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = " ".join(f"mot{letters[i // 26 % 26]}{letters[i % 26]}" for i in range(2500))  # 15 000 characters
    guide = VALID.replace("Bienvenue dans ce guide d'essai. Il dure moins d'une minute.", words)
    (tmp_path / "guide.yaml").write_text(guide, "utf-8")
    g = load_guide(tmp_path / "guide.yaml")
    page = ScriptWriter(g).chapter(g.intro)[0]
    body = [s.text for s in page.segments if s.kind not in ("announce", "cue")]
    assert len(body) > 20 and all(len(t) <= MAX_SEGMENT_CHARS for t in body)
    assert " ".join(body).rstrip(".").split() == words.split()  # nothing lost, nothing doubled


def test_a_page_too_long_to_navigate_is_refused_with_its_place(tmp_path):
    from audioguide.exceptions import GuideError
    from audioguide.guide import MAX_PAGE_CHARS

    words = "mot " * (MAX_PAGE_CHARS // 4 + 10)
    (tmp_path / "guide.yaml").write_text(VALID.replace(
        "Bienvenue dans ce guide d'essai. Il dure moins d'une minute.", words.strip()), "utf-8")
    try:
        load_guide(tmp_path / "guide.yaml")
    except GuideError as exc:
        text = str(exc)
    else:
        raise AssertionError("a 20 000-character page was accepted")
    assert "guide.yaml:15:" in text and "intro.pages[0]" in text and "split it into several pages" in text
