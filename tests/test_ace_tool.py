"""The Ace by DAISY test tool (tests/ace.py) on a small EPUB 3 with a media overlay that the test writes itself:
0 violations on the valid book, and the expected ones on a broken copy, so a regression in the tool shows."""

import subprocess
import time
import zipfile
from pathlib import Path

import pytest

import ace
from ace import AceError, ace_report, format_violations
from conftest import needs_tools

pytestmark = [pytest.mark.e2e, needs_tools]

CLIP_S = 1.5  # each of the two sentences' clips in the MP3

CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="EPUB/package.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>
"""

A11Y_METADATA = """
    <meta property="schema:accessMode">textual</meta>
    <meta property="schema:accessMode">auditory</meta>
    <meta property="schema:accessModeSufficient">textual</meta>
    <meta property="schema:accessModeSufficient">auditory</meta>
    <meta property="schema:accessibilityFeature">synchronizedAudioText</meta>
    <meta property="schema:accessibilityFeature">structuralNavigation</meta>
    <meta property="schema:accessibilityFeature">tableOfContents</meta>
    <meta property="schema:accessibilityHazard">none</meta>
    <meta property="schema:accessibilitySummary">Livre audio synchronisé : chaque phrase est lue à voix haute.</meta>
    <meta property="dcterms:conformsTo">EPUB Accessibility 1.1 - WCAG 2.1 Level AA</meta>"""

OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid" xml:lang="fr">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="uid">urn:uuid:6f1b2c1e-2d7a-4c55-9d39-0c4a7e0d1a13</dc:identifier>
    <dc:title>Guide d'essai</dc:title>
    <dc:language>fr</dc:language>
    <meta property="dcterms:modified">2026-01-01T00:00:00Z</meta>
    <meta property="media:duration" refines="#chapter-overlay">0:00:03.000</meta>
    <meta property="media:duration">0:00:03.000</meta>
    <meta property="media:active-class">-epub-media-overlay-active</meta>{a11y}
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="chapter" href="chapter.xhtml" media-type="application/xhtml+xml" media-overlay="chapter-overlay"/>
    <item id="chapter-overlay" href="chapter.smil" media-type="application/smil+xml"/>
    <item id="audio" href="audio/chapter.mp3" media-type="audio/mpeg"/>{extra_items}
  </manifest>
  <spine><itemref idref="chapter"/></spine>
</package>
"""

NAV = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="fr" xml:lang="fr">
<head><title>Sommaire</title></head>
<body>
  <nav epub:type="toc" role="doc-toc" id="toc"><h1>Sommaire</h1>
    <ol><li><a href="chapter.xhtml#c1">Mon espace santé</a></li></ol>
  </nav>
</body>
</html>
"""

CHAPTER = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"{lang}>
<head>
  <title>Mon espace santé</title>
  <style>.-epub-media-overlay-active {{ background-color: #ffeb3b; color: #000; }}</style>
</head>
<body>
  <section id="c1" aria-labelledby="h1">
    <h1 id="h1"><span id="s1">Mon espace santé</span></h1>
    <p><span id="s2">Le carnet de santé numérique garde vos documents médicaux.</span></p>{extra_body}
  </section>
</body>
</html>
"""

SMIL = f"""<?xml version="1.0" encoding="UTF-8"?>
<smil xmlns="http://www.w3.org/ns/SMIL" xmlns:epub="http://www.idpf.org/2007/ops" version="3.0">
  <body>
    <seq id="seq1" epub:textref="chapter.xhtml#c1">
      <par id="p1"><text src="chapter.xhtml#s1"/>
        <audio src="audio/chapter.mp3" clipBegin="0s" clipEnd="{CLIP_S}s"/></par>
      <par id="p2"><text src="chapter.xhtml#s2"/>
        <audio src="audio/chapter.mp3" clipBegin="{CLIP_S}s" clipEnd="{2 * CLIP_S}s"/></par>
    </seq>
  </body>
</smil>
"""

# A 1×1 grey PNG, for the broken copy's image without a text alternative.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010800000000"
                    "3a7e9b550000000a49444154789c63680000008200816c5b8d7a0000000049454e44ae426082")


def write_epub(path: Path, mp3: Path, *, broken: bool = False) -> Path:
    """A small EPUB 3 with one chapter, its SMIL overlay and MP3. `broken`: the chapter loses its language,
    gains an image with no alt text, and the package loses its accessibility summary."""
    a11y = A11Y_METADATA
    if broken:
        a11y = "\n".join(line for line in a11y.splitlines() if "accessibilitySummary" not in line)
    files = {
        "META-INF/container.xml": CONTAINER,
        "EPUB/package.opf": OPF.format(
            a11y=a11y,
            extra_items='\n    <item id="img" href="pixel.png" media-type="image/png"/>' if broken else ""),
        "EPUB/nav.xhtml": NAV,
        "EPUB/chapter.xhtml": CHAPTER.format(
            lang="" if broken else ' lang="fr" xml:lang="fr"',
            extra_body='\n    <p><img src="pixel.png"/></p>' if broken else ""),
        "EPUB/chapter.smil": SMIL,
    }
    with zipfile.ZipFile(path, "w") as z:
        # The mimetype entry comes first and uncompressed (OCF), so readers can sniff it at a fixed offset.
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        for name, text in files.items():
            z.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)
        z.write(mp3, "EPUB/audio/chapter.mp3", compress_type=zipfile.ZIP_STORED)
        if broken:
            z.writestr("EPUB/pixel.png", PNG, compress_type=zipfile.ZIP_STORED)
    return path


@pytest.fixture(scope="module")
def mp3(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ace-audio") / "chapter.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    f"sine=frequency=440:duration={2 * CLIP_S}", "-c:a", "libmp3lame", "-b:a", "32k", "-ac", "1",
                    str(out)], check=True)
    return out


def test_ace_reports_no_violation_on_a_valid_epub_with_a_media_overlay(tmp_path, mp3):
    epub = write_epub(tmp_path / "ok.epub", mp3)
    start = time.monotonic()
    report = ace_report(epub, tmp_path / "ace")
    print(f"Ace ran in {time.monotonic() - start:.1f} s")
    assert report["violations"] == [], format_violations(report["violations"])
    assert report["outcome"] == "pass"
    # Ace read the metadata we wrote: nothing it looks for is missing but the certifier's (a human's) details.
    assert all(name.startswith("a11y:certifie") for name in report["missing_metadata"]), report["missing_metadata"]
    assert (tmp_path / "ace" / "report.html").is_file()


def test_ace_reports_the_violations_of_a_broken_copy(tmp_path, mp3):
    epub = write_epub(tmp_path / "broken.epub", mp3, broken=True)
    report = ace_report(epub, tmp_path / "ace")
    found = report["violations"]
    assert report["outcome"] == "fail"
    assert {"html-has-lang", "image-alt", "metadata-accessibilitysummary"} <= {v["rule"] for v in found}, \
        format_violations(found)
    alt = next(v for v in found if v["rule"] == "image-alt")
    assert alt["location"] == "chapter.xhtml img" and alt["impact"] == "critical", alt
    assert "schema:accessibilitySummary" in report["missing_metadata"]


def test_ace_failing_to_run_is_a_clear_error_not_a_pass(tmp_path):
    bad = tmp_path / "not-a-zip.epub"
    bad.write_text("not an EPUB")
    out = tmp_path / "ace"
    out.mkdir()
    (out / "report.json").write_text('{"earl:result": {"earl:outcome": "pass"}}')  # a stale report
    with pytest.raises(AceError, match=r"(?s)Ace failed on .*not-a-zip\.epub.*ZIP archive"):
        ace_report(bad, out)


def test_ace_missing_says_how_to_install_it(tmp_path, monkeypatch, mp3):
    monkeypatch.setattr(ace, "ACE", tmp_path / "nowhere" / "ace-puppeteer")
    with pytest.raises(AceError, match="script/bootstrap --test"):
        ace_report(write_epub(tmp_path / "ok.epub", mp3), tmp_path / "ace")
