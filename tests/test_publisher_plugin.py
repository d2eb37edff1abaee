"""A new output format is one module plus one entry point: a throwaway publisher, installed the way a real
distribution is (a dist-info with entry_points.txt on sys.path), runs in a real build beside the others."""

import hashlib
import json
import textwrap

import pytest

from audioguide.build import build
from audioguide.files import OWNERSHIP_NAME
from audioguide.publishers import publisher_classes, run_order

from conftest import needs_tools, settings_for

pytestmark = needs_tools

PLUGIN = '''
from audioguide.files import update_bytes
from audioguide.publishers import Published, Publisher


class CountPublisher(Publisher):
    """Writes counts.txt: each chapter's cues, and the words of its transcript (so it runs after transcripts)."""

    name = "counts"
    after = ("transcripts",)
    state_file = ".build-counts.json"

    def entries(self, guide):
        return {"counts": "counts.txt"}

    def publish(self, ctx):
        runs = ctx.previous().get("runs", 0) + 1
        lines = []
        for ch in ctx.manifest["chapters"]:
            words = len((ctx.out_dir / ch["transcript"]["txt"]).read_text("utf-8").split())
            cues = sum(len(p["cues"]) for p in ctx.timing[ch["id"]])
            lines.append(f"{ch['id']} {cues} {words}")
        path = ctx.out_dir / "counts.txt"
        update_bytes(path, ("\\n".join(lines) + "\\n").encode())
        ctx.remember({"runs": runs})
        return Published([path], {"counts_runs": runs})
'''


def install(site, monkeypatch):
    site.mkdir()
    (site / "counts_plugin.py").write_text(textwrap.dedent(PLUGIN), "utf-8")
    info = site / "counts_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: counts-plugin\nVersion: 0.1\n", "utf-8")
    (info / "entry_points.txt").write_text("[audioguide.publishers]\ncounts = counts_plugin:CountPublisher\n",
                                           "utf-8")
    monkeypatch.syspath_prepend(str(site))
    publisher_classes.cache_clear()


def tree(out):
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file() and p.name not in (OWNERSHIP_NAME, ".lock")}


def test_a_publisher_installed_through_an_entry_point_builds_beside_the_others(mini_guide, tmp_path, monkeypatch):
    plain = build(mini_guide, settings_for(tmp_path / "a", engine="silence")).out_dir
    install(tmp_path / "site", monkeypatch)
    try:
        assert "counts" in publisher_classes()
        order = list(publisher_classes())
        assert order.index("counts") > order.index("transcripts")
        result = build(mini_guide, settings_for(tmp_path / "b", engine="silence"))
        again = build(mini_guide, settings_for(tmp_path / "b", engine="silence"))  # stops early: nothing changed
    finally:
        monkeypatch.undo()  # the plug-in leaves sys.path, and the next build finds the built-in ones only
        publisher_classes.cache_clear()
    out = result.out_dir
    lines = (out / "counts.txt").read_text("utf-8").splitlines()
    assert [line.split()[0] for line in lines] == ["introduction", "dmp"]
    assert all(int(line.split()[1]) > 0 and int(line.split()[2]) > 0 for line in lines)
    assert json.loads((out / ".build-counts.json").read_text())["runs"] == 1
    assert again.synthesized == 0 and again.encoded == 0
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["counts"] == "counts.txt" and manifest["counts_runs"] == 1
    # Every other output is the same bytes as without the plug-in; the manifest differs by its two entries only.
    before, after = tree(plain), tree(out)
    for name in ("counts.txt", ".build-counts.json", "manifest.json", ".build-state.json"):
        after.pop(name, None)
        before.pop(name, None)
    assert after == before
    old = json.loads((plain / "manifest.json").read_text("utf-8"))
    assert {k: v for k, v in manifest.items() if not k.startswith("counts")} == old
    assert "counts" not in publisher_classes()


@pytest.mark.parametrize("after, order", [
    ({"podcast": ("transcripts", "fulltext", "epub", "daisy"), "transcripts": (), "fulltext": (), "epub": (),
      "daisy": (), "kiosk": ("epub", "daisy"), "phone": ()},
     ["daisy", "epub", "fulltext", "kiosk", "phone", "transcripts", "podcast"]),
    ({"b": ("a", "not-installed"), "a": ()}, ["a", "b"]),
])
def test_publishers_run_after_the_ones_they_name(after, order):
    assert run_order(after) == order


def test_publishers_waiting_for_each_other_are_refused():
    with pytest.raises(ValueError, match="wait for each other"):
        run_order({"a": ("b",), "b": ("a",)})


def test_the_feed_is_written_after_the_transcript_it_links_to():
    order = list(publisher_classes())
    assert order.index("podcast") > max(order.index(n) for n in ("transcripts", "fulltext", "epub", "daisy"))
    assert order.index("kiosk") > max(order.index(n) for n in ("epub", "daisy"))


def test_a_build_result_is_plain_data():
    """Publishers get a BuildContext; the result holds no builder for them to drive."""
    from dataclasses import fields

    from audioguide.build import BuildResult

    assert {f.name for f in fields(BuildResult)} == {"guide", "settings", "out_dir", "manifest", "synthesized",
                                                     "encoded", "phone_encoded", "files"}
