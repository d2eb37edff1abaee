"""The manifest names the chapters by their current ids, even where the whole-guide file is reused from the last
build. Silent engine: what is checked is the bookkeeping; ffmpeg still encodes real MP3s."""

import json
import shutil

from audioguide.build import STATE_FILE, build

from conftest import DATA, needs_tools, settings_for

pytestmark = [needs_tools]


def test_renaming_a_chapter_id_renames_it_in_the_whole_guide_entry_without_remaking_the_file(tmp_path):
    guide = tmp_path / "mini"
    shutil.copytree(DATA / "mini", guide)
    s = settings_for(tmp_path, engine="silence")
    first = build(guide, s).manifest
    g = guide / "guide.yaml"
    g.write_text(g.read_text("utf-8").replace("- id: dmp", "- id: dossier"), "utf-8")
    again = build(guide, s)
    m = again.manifest
    ids = [c["id"] for c in m["chapters"]]
    assert ids == ["introduction", "dossier"]
    assert [c["id"] for c in m["whole"]["chapters"]] == ids
    # The chapter's file carries its id in its tags and is made again; the whole-guide file, only its audio
    # frames and the chapters' numbers and titles, is the same bytes and kept.
    assert again.encoded == 1
    assert (m["whole"]["mp3"], m["whole"]["sha256"]) == (first["whole"]["mp3"], first["whole"]["sha256"])
    assert [(c["start"], c["end"]) for c in m["whole"]["chapters"]] == \
        [(c["start"], c["end"]) for c in first["whole"]["chapters"]]
    on_disk = json.loads((s.out_dir / "manifest.json").read_text("utf-8"))
    assert [c["id"] for c in on_disk["whole"]["chapters"]] == ids
    state = json.loads((s.out_dir / STATE_FILE).read_text("utf-8"))
    assert [c["id"] for c in state["whole"]["chapters"]] == ids

    # What a fresh build of the renamed guide writes: the reuse above changed nothing a listener gets.
    clean = build(guide, settings_for(tmp_path / "clean", engine="silence")).manifest
    assert clean["whole"] == m["whole"]
