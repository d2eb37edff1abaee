"""Page -> narration script: every block kind, announcement and cue, with its exact words, pause and kind.
The listener hears these words and these silences; the kinds drive the transcripts and the phone's cuts."""

import json

import pytest

from audioguide.guide import load_guide
from audioguide.narration.lexicon import lexicon_problems
from audioguide.narration.pipeline import MemoNormalizer, rules_fingerprint
from audioguide.narration.script import ScriptWriter
from audioguide.narration.written import MAX_SEGMENT_CHARS, split_sentences

from conftest import DATA

EXPECTED = {
    "intro": [
        ('Introduction.', 800, 'announce'),  # one page titled as its chapter: said once
        ('Bonjour, le D.M.P. coûte deux euros.', 500, 'sentence'),
        ('Voilà.', 1100, 'paragraph'),
        ("Fin de l'introduction.", 600, 'cue'),
    ],
    "p1": [
        ('Partie un, Droits.', 500, 'announce'),  # the full position on a chapter's first page, a sentence a clip
        ('Sujet un : Vos données.', 500, 'announce'),
        ("Page un sur deux : qu'est-ce que c'est ?", 800, 'announce'),
        ('Le principe.', 700, 'heading'),
        ('Premier point; second point.', 850, 'paragraph'),
        ('un.', 700, 'item'),
        ('deux.', 700, 'item'),
        ('trois.', 900, 'last-item'),
        ('Le site ameli : ameli point f r.', 850, 'link'),  # the host only, without www and path
        ('Attention :', 400, 'callout'),
        ('Appelez le quinze.', 850, 'paragraph'),
        ('jour.', 700, 'item'),
        ('nuit.', 1100, 'last-item'),
    ],
    "p2": [
        ('Page deux : pour qui ?', 800, 'announce'),  # later pages: their number and title only
        ('Premier paragraphe dit.', 850, 'paragraph'),  # narration: replaces the blocks, paragraph by paragraph
        ('Second paragraphe !', 1100, 'paragraph'),
        ('Fin du sujet.', 600, 'cue'),
    ],
    "q": [
        ('Partie deux, Aides.', 500, 'announce'),
        ('Sujet un : Vos aides.', 500, 'announce'),
        ('En bref', 800, 'announce'),
        ('Bon à savoir :', 400, 'callout'),
        ("C'est gratuit.", 1100, 'paragraph'),
        ('Fin du sujet.', 500, 'cue'),  # the end cue, one clip a sentence
        ("C'est la fin du guide Guide test.", 500, 'cue'),
        ('Merci de votre écoute.', 600, 'cue'),
    ],
}


@pytest.fixture(scope="module")
def guide():
    return load_guide(DATA / "script")


def test_every_block_kind_is_said_with_its_pause(guide):
    w = ScriptWriter(guide)
    got = {}
    for ch in guide.chapters:
        for p in w.chapter(ch):
            # One line a sentence: the frame's clips are read as one line, a sentence cut into clips too.
            frame = [s.text for s in p.segments if s.kind == "announce"]
            assert p.transcript.startswith(" ".join(frame) + "\n")
            assert p.transcript.replace("\n", " ") == " ".join(s.text for s in p.segments)
            got[p.page.id] = [(s.text, s.pause_ms, s.kind) for s in p.segments]
    assert got == EXPECTED


def test_pages_are_numbered_from_one(guide):
    pages = ScriptWriter(guide).chapter(guide.chapter("c"))
    assert [(p.index, p.page.id, p.chapter.id) for p in pages] == [(1, "p1", "c"), (2, "p2", "c")]


def test_a_prompt_is_narrated_like_the_guide(guide):
    segs = ScriptWriter(guide).prompt("Pour le DMP, tapez 2. Sinon, patientez")
    assert [(s.text, s.pause_ms, s.kind) for s in segs] == [
        ("Pour le D.M.P., tapez deux.", 500, "sentence"), ("Sinon, patientez.", 850, "paragraph")]


def test_split_sentences_at_ends_then_commas_then_spaces():
    assert split_sentences("Un. Deux ! Trois ? « Quatre »… Cinq") == ["Un.", "Deux !", "Trois ?", "« Quatre »…", "Cinq"]
    assert split_sentences("le 3. mai") == ["le 3. mai"]  # a lowercase word after a dot: same sentence
    exact = "a" * MAX_SEGMENT_CHARS
    assert split_sentences(exact) == [exact]  # the limit itself fits
    spaced = "a" * 300 + " " + "b" * (MAX_SEGMENT_CHARS - 301)
    assert split_sentences(spaced) == [spaced]  # even where it could be cut
    clause = "mot " * 60  # 240 characters
    long = clause.strip() + ", " + clause.strip() + ", " + clause.strip()
    parts = split_sentences(long)
    assert parts == [clause.strip() + ", " + clause.strip() + ",", clause.strip()]  # cut at the last comma
    early = "x, " + "mot " * 200  # a comma too early to be a good cut: cut at a space instead
    parts = split_sentences(early.strip())
    assert len(parts[0]) > MAX_SEGMENT_CHARS // 3 and parts[0].endswith("mot") and " ".join(parts) == early.strip()
    blob = "y" * (2 * MAX_SEGMENT_CHARS + 5)  # no space at all: hard cuts, nothing lost
    assert [len(p) for p in split_sentences(blob)] == [MAX_SEGMENT_CHARS + 1, MAX_SEGMENT_CHARS + 1, 3]
    assert "".join(split_sentences(blob)) == blob


def test_memo_normalizer_keeps_results_across_runs(tmp_path):
    memo = MemoNormalizer(tmp_path)
    assert memo("Le DMP, 2 €.") == "Le D.M.P., deux euros."  # the comma after a spelled acronym is kept
    assert memo.dirty and memo.path.name == f"narration-{rules_fingerprint(None)}.json"
    memo.save()
    assert json.loads(memo.path.read_text("utf-8")) == {"Le DMP, 2 €.": "Le D.M.P., deux euros."}
    assert not memo.dirty
    again = MemoNormalizer(tmp_path)
    again.memo["Le DMP, 2 €."] = "from the memo"  # proves the second run reads the file, not the rules
    assert again("Le DMP, 2 €.") == "from the memo" and not again.dirty and again._inner is None
    memo.path.write_text("{broken", "utf-8")
    assert MemoNormalizer(tmp_path).memo == {}  # a damaged memo is ignored, not fatal


def test_the_memo_file_is_the_same_whatever_the_order(tmp_path):
    a, b = MemoNormalizer(tmp_path / "a"), MemoNormalizer(tmp_path / "b")
    for memo, texts in ((a, ["Un.", "Deux."]), (b, ["Deux.", "Un."])):
        for t in texts:
            memo(t)
        memo.save()
    assert a.path.read_bytes() == b.path.read_bytes()
    assert rules_fingerprint({"A": "a", "B": "b"}) == rules_fingerprint({"B": "b", "A": "a"})


def test_the_fingerprint_covers_the_code_and_the_data_tables(tmp_path, monkeypatch):
    from audioguide.narration import pipeline

    (tmp_path / "data").mkdir()
    (tmp_path / "fr.py").write_text("x = 1")
    (tmp_path / "data" / "units.yaml").write_text("mg: [a, b, m]")
    monkeypatch.setattr(pipeline, "__file__", str(tmp_path / "pipeline.py"))
    first = rules_fingerprint()
    (tmp_path / "data" / "units.yaml").write_text("mg: [a, c, m]")
    second = rules_fingerprint()
    (tmp_path / "fr.py").write_text("x = 2")
    assert len({first, second, rules_fingerprint()}) == 3


def test_the_memo_is_per_lexicon(tmp_path):
    assert rules_fingerprint({"DMP": "Dossier"}) != rules_fingerprint(None) == rules_fingerprint({})
    assert rules_fingerprint({"DMP": "Dossier"}) == rules_fingerprint({"DMP": "Dossier"})
    memo = MemoNormalizer(tmp_path, {"DMP": "Dossier"})
    assert memo("le DMP") == "le Dossier"
    memo.save()
    assert MemoNormalizer(tmp_path)("le DMP") == "le D.M.P."  # another lexicon, another memo file
    assert len(list(tmp_path.glob("narration-*.json"))) == 1


@pytest.mark.parametrize("lexicon,problems", [
    ({"ABC": "XYZ", "XYZ": "ABC"}, [("ABC", "this entry loops: ABC -> XYZ -> ABC"),
                                     ("XYZ", "this entry loops: XYZ -> ABC -> XYZ")]),
    ({"AB": "le AB de la CD", "CD": "spell"}, [("AB", "this entry loops: AB -> AB")]),
    ({"AB": "AB"}, []),  # said as written: fine
    ({"AB": "CD", "CD": "EF", "EF": "AB"}, [("AB", "this entry loops: AB -> CD -> EF -> AB"),
                                            ("CD", "this entry loops: CD -> EF -> AB -> CD"),
                                            ("EF", "this entry loops: EF -> AB -> CD -> EF")]),
    ({"AB": "CD EF", "CD": "GH", "EF": "GH", "GH": "fin"}, []),  # two ways to the same word: no loop
    ({"AB": "CD", "CD": "EF", "EF": "CD"}, [("CD", "this entry loops: CD -> EF -> CD"),  # AB leads into a loop
                                            ("EF", "this entry loops: EF -> CD -> EF")]),  # but is not in it
])
def test_lexicon_loops_are_found_with_their_path(lexicon, problems):
    assert lexicon_problems(lexicon) == problems
