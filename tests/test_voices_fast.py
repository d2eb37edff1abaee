"""Piper voices and espeak-ng, quickly: a small voice served by a local stand-in for the repository, and a
stand-in espeak-ng program, so each case runs in a fraction of a second. What a volunteer reads, in French:
which file or address is wrong, why, and what to do; and what is left on disk after a refusal."""

import hashlib
import json
import logging
import os
import struct
import subprocess
import sys
import threading
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from audioguide.cli import cli
from audioguide.config import BuildSettings
from audioguide.exceptions import EngineError
from audioguide.tts import espeak, voices
from audioguide.tts.base import RATE

pytestmark = pytest.mark.french

NAME = "fr_FR-essai-low"
REMOTE = "fr/fr_FR/essai/low/"
MODEL = bytes(range(256)) * 40  # 10 240 bytes: a "model" is only bytes to the download code
CONFIG = b'{"audio": {"sample_rate": 16000}}'
FILES = {f"{NAME}.onnx": MODEL, f"{NAME}.onnx.json": CONFIG}


def _entry(**over) -> dict:
    files = {REMOTE + n: {"size_bytes": len(b), "md5_digest": hashlib.md5(b).hexdigest()} for n, b in FILES.items()}
    return {"language": {"code": "fr_FR"}, "quality": "low", "num_speakers": 1, "files": files, **over}


class Repo:
    """The voices repository: serves FILES, honours Range, or misbehaves as a test asks."""

    def __init__(self):
        self.catalogue: object = {NAME: _entry()}
        self.raw_catalogue: bytes | None = None  # served as is (a captive portal's page)
        self.cut = 0  # cut this many transfers of the model halfway
        self.ignore_range = False  # answer a Range request with the whole file (200)
        self.refuse_range = 0  # answer this many Range requests with 416
        self.trickle = False  # the model a byte at a time, slowly, until the test ends
        self.trickle_catalogue = False  # the same for the catalogue
        self.stall = False  # the model's first bytes, then nothing for 3 s, then the connection closed
        self.requests: list[tuple[str, str | None]] = []
        self.stop = threading.Event()
        repo = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                repo.requests.append((self.path, rng))
                if self.path == "/voices.json":
                    body = repo.raw_catalogue or json.dumps(repo.catalogue).encode()
                elif self.path.startswith("/" + REMOTE) and self.path.rsplit("/", 1)[1] in FILES:
                    body = FILES[self.path.rsplit("/", 1)[1]]
                else:
                    self.send_error(404)
                    return
                if rng and repo.refuse_range:
                    repo.refuse_range -= 1
                    self.send_error(416)
                    return
                if self.path.endswith(".onnx") and repo.stall:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[:100])
                    self.wfile.flush()
                    repo.stop.wait(3)
                    self.close_connection = True
                    return
                if (self.path.endswith(".onnx") and repo.trickle) or (self.path == "/voices.json"
                                                                       and repo.trickle_catalogue):
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    for i in range(len(body)):
                        if repo.stop.wait(0.01):
                            break
                        try:
                            self.wfile.write(body[i:i + 1])
                            self.wfile.flush()
                        except OSError:
                            break
                    self.close_connection = True
                    return
                start = int(rng.split("=")[1].split("-")[0]) if rng and not repo.ignore_range else 0
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if self.path.endswith(".onnx") and repo.cut:
                    repo.cut -= 1
                    self.wfile.write(body[start:start + (len(body) - start) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    r = Repo()
    monkeypatch.setenv("AUDIOGUIDE_VOICES_URL", r.url)
    monkeypatch.setenv("AUDIOGUIDE_VOICES_DIR", str(tmp_path / "voices"))
    monkeypatch.setenv("AUDIOGUIDE_RETRY_SCALE", "0")
    yield r
    r.stop.set()
    r.server.shutdown()
    r.server.server_close()


def _run(*args):
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert "Traceback" not in res.output
    return res


def _left(tmp_path) -> list[str]:
    folder = tmp_path / "voices"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- the catalogue ------------------------------------------------------------------------------------

def test_a_voice_listed_under_its_catalogue_language_with_one_speaker_when_the_count_is_missing(repo, tmp_path,
                                                                                               monkeypatch):
    """The language comes from the catalogue entry, not from the start of the name; a missing speaker count is
    one speaker; the voices folder is made with its parents."""
    monkeypatch.setenv("AUDIOGUIDE_VOICES_DIR", str(tmp_path / "a" / "b" / "voices"))
    entry = _entry()
    del entry["num_speakers"]
    repo.catalogue = {"essai-francais": entry}
    res = _run("voices")
    assert res.exit_code == 0, res.output
    line = next(row for row in res.output.splitlines() if row.startswith("essai-francais"))
    assert line.split()[:4] == ["essai-francais", "low", "1", "voix"]


def test_a_catalogue_with_a_malformed_checksum_is_refused_and_not_saved(repo, tmp_path):
    entry = _entry()
    next(iter(entry["files"].values()))["md5_digest"] = "pas-un-md5"
    repo.catalogue = {NAME: entry}
    res = _run("voices")
    assert res.exit_code == 3
    assert f"Le catalogue des voix à l'adresse {repo.url}voices.json n'est pas un catalogue de voix Piper : " \
           f"voice {NAME!r}: the checksum of {REMOTE}{NAME}.onnx is not an MD5." in res.output
    assert "Solution : vérifiez AUDIOGUIDE_VOICES_URL, ou réessayez plus tard" in res.output
    assert _left(tmp_path) == []


def test_a_catalogue_with_a_quality_that_is_not_text_is_refused(repo):
    repo.catalogue = {NAME: _entry(quality=3)}
    res = _run("voices")
    assert res.exit_code == 3 and f"voice {NAME!r}: `quality` is not text." in res.output


def test_a_captive_portal_page_instead_of_the_catalogue_is_explained(repo, tmp_path):
    repo.raw_catalogue = b"<html>Connectez-vous au Wi-Fi</html>"
    res = _run("voices")
    assert res.exit_code == 3
    assert f"Le catalogue des voix à l'adresse {repo.url}voices.json n'est pas du JSON valide (ou dépasse 16 Mo)." \
        in res.output
    assert "Cause probable : un proxy ou un portail captif a répondu à la place du dépôt" in res.output
    assert _left(tmp_path) == []


def test_a_damaged_saved_catalogue_is_removed_and_the_fix_said(repo, tmp_path):
    (tmp_path / "voices").mkdir()
    (tmp_path / "voices" / "voices.json").write_text("{pas du json")
    res = _run("voices")
    assert res.exit_code == 3
    assert f"Le catalogue des voix enregistré {tmp_path / 'voices' / 'voices.json'} est abîmé." in res.output
    assert "voices` : il en télécharge un nouveau" in res.output
    assert _left(tmp_path) == []


def test_offline_the_catalogue_names_the_address_and_the_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOGUIDE_VOICES_URL", "http://127.0.0.1:9/miroir")  # nothing listens on port 9
    monkeypatch.setenv("AUDIOGUIDE_VOICES_DIR", str(tmp_path / "voices"))
    res = _run("voices")
    assert res.exit_code == 3
    assert "Impossible de joindre le dépôt des voix (http://127.0.0.1:9/miroir/voices.json)." in res.output
    assert "Cause probable : pas de connexion au réseau ([Errno 111] Connection refused)" in res.output


def test_a_missing_catalogue_names_the_address_and_what_to_check(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOGUIDE_VOICES_URL", repo.url + "ailleurs")
    res = _run("voices")
    assert res.exit_code == 3
    assert f"Le dépôt des voix a répondu 404 pour {repo.url}ailleurs/voices.json." in res.output
    assert "Solution : vérifiez le nom avec `" in res.output
    assert "voices --all` ; sur un ordinateur connecté à internet" in res.output


def test_a_catalogue_that_trickles_is_given_up_at_the_deadline(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOGUIDE_DOWNLOAD_DEADLINE", "0.3")
    repo.trickle_catalogue = True
    res = _run("voices")
    assert res.exit_code == 3
    assert f"Impossible de joindre le dépôt des voix ({repo.url}voices.json)." in res.output
    # the reason: our deadline, or the socket's wait cut to the time left ("timed out"), whichever comes first
    reason = res.output.split("Cause probable : pas de connexion au réseau (")[1].split(")")[0]
    assert reason in ("deadline", "timed out")
    assert _left(tmp_path) == []


def test_offline_a_saved_catalogue_is_used_and_the_volunteer_told(repo, tmp_path, monkeypatch, caplog):
    assert _run("voices").exit_code == 0
    monkeypatch.setenv("AUDIOGUIDE_VOICES_URL", "http://127.0.0.1:9/")
    with caplog.at_level(logging.WARNING):
        res = _run("voices", "--refresh")
    assert res.exit_code == 0 and NAME in res.output
    assert "Impossible de mettre à jour le catalogue des voix (<urlopen error [Errno 111] Connection refused>) ; " \
           "la copie enregistrée est utilisée." in caplog.text


def test_a_misspelt_name_gets_the_close_names(repo):
    repo.catalogue = {NAME: _entry(), "fr_FR-essai-medium": _entry(quality="medium")}
    res = _run("voices", "install", "fr_FR-essai-lo")
    assert res.exit_code == 3
    assert "Aucune voix Piper ne s'appelle 'fr_FR-essai-lo'." in res.output
    assert f"Cause probable : vouliez-vous dire {NAME}, fr_FR-essai-medium ?" in res.output


def test_an_entry_without_checksums_is_refused_with_the_reason_and_another_choice(repo, tmp_path):
    entry = _entry()
    for meta in entry["files"].values():
        del meta["md5_digest"]
    repo.catalogue = {NAME: entry}
    res = _run("voices", "install", NAME)
    assert res.exit_code == 3
    assert "Cause probable : sans elles, un fichier abîmé ou remplacé ne pourrait pas être distingué de la vraie " \
           "voix" in res.output
    assert "Solution : choisissez une autre voix (`" in res.output
    assert "audioguide voices`), ou utilisez un autre miroir" in res.output
    assert _left(tmp_path) == ["voices.json"]


# --- downloads ----------------------------------------------------------------------------------------

def test_a_mirror_that_ignores_the_range_still_gives_the_whole_voice(repo, tmp_path):
    repo.cut, repo.ignore_range = 1, True
    res = _run("voices", "install", NAME)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "voices" / f"{NAME}.onnx").read_bytes() == MODEL
    assert _left(tmp_path) == sorted([f"{NAME}.onnx", f"{NAME}.onnx.json", "voices.json"])


def test_a_refused_range_starts_the_file_again(repo, tmp_path):
    repo.cut, repo.refuse_range = 1, 1
    res = _run("voices", "install", NAME)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "voices" / f"{NAME}.onnx").read_bytes() == MODEL
    onnx = [rng for path, rng in repo.requests if path.endswith(".onnx")]
    assert onnx[0] is None and onnx[1].startswith("bytes=") and onnx[2] is None


def test_each_retry_is_said_with_the_address_and_waits_longer(repo, tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("AUDIOGUIDE_RETRY_SCALE")
    waits = []
    monkeypatch.setattr(voices.time, "sleep", waits.append)
    repo.cut = 99
    with caplog.at_level(logging.WARNING):
        res = _run("voices", "install", NAME)
    assert res.exit_code == 3
    assert waits == [1, 2, 4]
    url = f"{repo.url}{REMOTE}{NAME}.onnx"
    assert f"{url} : la connexion s'est fermée trop tôt ; reprise (essai 1 sur 3)." in caplog.text
    assert f"Impossible de télécharger {url} en entier après 3 essais." in res.output
    assert "Solution : relancez la même commande : elle reprend où elle en était" in res.output
    assert (tmp_path / "voices" / f"{NAME}.onnx.part").stat().st_size < len(MODEL)  # kept, to resume
    assert not (tmp_path / "voices" / f"{NAME}.onnx").exists()


def test_a_network_error_is_retried_with_the_address_said(repo, tmp_path, monkeypatch, caplog):
    """The mirror goes away after the catalogue: each attempt is reported with the file's address."""
    assert _run("voices").exit_code == 0
    monkeypatch.setenv("AUDIOGUIDE_VOICES_URL", "http://127.0.0.1:9/")
    with caplog.at_level(logging.WARNING):
        res = _run("voices", "install", NAME)
    assert res.exit_code == 3
    url = f"http://127.0.0.1:9/{REMOTE}{NAME}.onnx"
    assert f"{url} : <urlopen error [Errno 111] Connection refused> ; nouvel essai (essai 1 sur 3)." in caplog.text
    assert f"Impossible de joindre le dépôt des voix ({url})." in res.output
    assert not (tmp_path / "voices" / f"{NAME}.onnx").exists()


def test_a_larger_file_than_the_catalogue_says_is_refused_and_removed(repo, tmp_path):
    entry = _entry()
    entry["files"][REMOTE + f"{NAME}.onnx"]["size_bytes"] = len(MODEL) - 10
    repo.catalogue = {NAME: entry}
    res = _run("voices", "install", NAME)
    assert res.exit_code == 3
    assert f"{repo.url}{REMOTE}{NAME}.onnx est plus gros que ce qu'annonce le catalogue ({len(MODEL) - 10} octets)." \
        in res.output
    assert "Cause probable : le miroir sert un autre fichier sous ce nom" in res.output
    assert _left(tmp_path) == ["voices.json"]


def test_a_slow_mirror_is_given_up_at_a_deadline_set_by_the_file_size(repo, tmp_path, monkeypatch):
    """Without AUDIOGUIDE_DOWNLOAD_DEADLINE the deadline is a fixed part plus the file's time at 50 kB/s: here
    a fixed part of 0.2 s and 0.2 s for 10 kB, while the mirror needs 100 s."""
    monkeypatch.delenv("AUDIOGUIDE_DOWNLOAD_DEADLINE", raising=False)
    monkeypatch.setattr(voices, "DEADLINE_BASE_S", 0.2)
    repo.trickle = True
    res = _run("voices", "install", NAME)
    assert res.exit_code == 3
    url = f"{repo.url}{REMOTE}{NAME}.onnx"
    assert f"Le téléchargement de {url} est trop long (" in res.output
    assert f"octets sur {len(MODEL)} pour l'instant)." in res.output
    assert "relancez la même commande plus tard : elle reprend là où elle s'est arrêtée" in res.output
    assert not (tmp_path / "voices" / f"{NAME}.onnx").exists()


def test_a_mirror_that_stops_sending_is_given_up_at_the_deadline_not_when_it_hangs_up(repo, tmp_path,
                                                                                    monkeypatch, caplog):
    """Each read waits no longer than the time left: the download ends at its deadline, not when the mirror
    closes the connection (a stalled read would otherwise wait the 30 s socket timeout)."""
    monkeypatch.setenv("AUDIOGUIDE_DOWNLOAD_DEADLINE", "0.3")
    repo.stall = True
    with caplog.at_level(logging.WARNING):
        res = _run("voices", "install", NAME)
    assert res.exit_code == 3
    assert f"Le téléchargement de {repo.url}{REMOTE}{NAME}.onnx est trop long (100 octets sur {len(MODEL)}" \
        in res.output
    assert "fermée trop tôt" not in caplog.text


# --- files copied by hand, and the checks ---------------------------------------------------------------

def _folder(tmp_path, **files) -> Path:
    folder = tmp_path / "copie"
    folder.mkdir()
    for name, data in {**FILES, **files}.items():
        if data is not None:
            (folder / name).write_bytes(data)
    return folder


def test_a_truncated_copy_is_refused_naming_the_file_and_nothing_is_installed(repo, tmp_path):
    assert _run("voices").exit_code == 0
    folder = _folder(tmp_path, **{f"{NAME}.onnx": MODEL[:1000]})
    res = _run("voices", "install", NAME, "--from", str(folder))
    assert res.exit_code == 3
    assert f"{NAME}.onnx : 1000 octets au lieu de {len(MODEL)}." in res.output
    assert "Solution : installez la voix à nouveau" in res.output
    assert _left(tmp_path) == ["voices.json"]


def test_a_changed_copy_is_refused_by_its_checksum_and_nothing_is_installed(repo, tmp_path):
    assert _run("voices").exit_code == 0
    folder = _folder(tmp_path, **{f"{NAME}.onnx": bytes(len(MODEL))})
    res = _run("voices", "install", NAME, "--from", str(folder))
    assert res.exit_code == 3
    assert f"{NAME}.onnx : sa somme de contrôle ne correspond pas au catalogue." in res.output
    assert "Solution : installez la voix à nouveau ; si l'échec se répète, le miroir sert un mauvais fichier" \
        in res.output
    assert _left(tmp_path) == ["voices.json"]


def test_a_copy_missing_its_config_names_the_file_and_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOGUIDE_VOICES_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("AUDIOGUIDE_VOICES_DIR", str(tmp_path / "voices"))
    folder = _folder(tmp_path, **{f"{NAME}.onnx.json": None})
    res = _run("voices", "install", NAME, "--from", str(folder))
    assert res.exit_code == 3
    assert f"{folder / (NAME + '.onnx.json')} est introuvable." in res.output
    assert f"Solution : copiez {NAME}.onnx.json dans {folder}, ou vérifiez le dossier" in res.output
    assert not (tmp_path / "voices" / f"{NAME}.onnx.json").exists()


def test_a_copy_that_cannot_be_read_leaves_no_part_file(repo, tmp_path):
    """A folder in place of the model: the read fails before anything is written, and says which file."""
    assert _run("voices").exit_code == 0
    folder = _folder(tmp_path, **{f"{NAME}.onnx": None})
    (folder / f"{NAME}.onnx").mkdir()
    res = CliRunner().invoke(cli, ["voices", "install", NAME, "--from", str(folder)])
    assert res.exit_code != 0
    assert str(folder / f"{NAME}.onnx") in res.output + str(res.exception)
    assert ".part" not in res.output + str(res.exception)
    assert _left(tmp_path) == ["voices.json"]


# --- espeak-ng --------------------------------------------------------------------------------------------

FAKE = r'''#!{python}
"""A stand-in espeak-ng: --voices and --version as the real one; speech as asked by FAKE_ESPEAK."""
import os, struct, subprocess, sys, time
real, mode = {real!r}, os.environ.get("FAKE_ESPEAK", "")
if "--stdout" not in sys.argv:
    os.execv(real, [real] + sys.argv[1:])
text = sys.stdin.buffer.read()
if mode == "hang" or (mode == "hang-plain" and text == b"Bonjour."):
    time.sleep(600)
if mode == "abort-on" and b"zorglub" in text:
    os.kill(os.getpid(), 6)
if mode == "hang-plain" or (mode == "fail-on" and b"zorglub" in text):
    sys.stderr.write("boom\n")
    sys.exit(2)
if mode == "16k":  # a 16 kHz voice (as the mbrola ones), an odd-sized chunk before the samples
    pcm = subprocess.run([real, "--stdout", "--stdin"] + sys.argv[1:sys.argv.index("--stdout")], input=text,
                         capture_output=True).stdout
    samples = pcm[44:]
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16)
    extra = b"LIST" + struct.pack("<I", 5) + b"abcde\0"
    sys.stdout.buffer.write(b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"fmt " + struct.pack("<I", 16)
                            + fmt + extra + b"data" + struct.pack("<I", 0xFFFFFFFF) + samples[:len(samples) // 2 * 2])
    sys.exit(0)
proc = subprocess.run([real] + sys.argv[1:], input=text, capture_output=True)
sys.stdout.buffer.write(proc.stdout)
sys.stderr.buffer.write(proc.stderr)
sys.exit(proc.returncode)
'''


@pytest.fixture
def fake_espeak(tmp_path, monkeypatch):
    """A stand-in espeak-ng first on the PATH: a script, so the engine runs it as a command line."""
    real = subprocess.run(["sh", "-c", "command -v espeak-ng"], capture_output=True, text=True).stdout.strip()
    if not real:
        pytest.skip("needs espeak-ng")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "espeak-ng"
    exe.write_text(FAKE.replace("{python}", sys.executable).replace("{real!r}", repr(real)))
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    espeak._program.cache_clear()
    yield monkeypatch
    espeak._program.cache_clear()


def _espeak(**kw):
    return espeak.EspeakEngine(BuildSettings(**kw))


def test_a_16k_voice_is_brought_to_the_build_rate_with_all_its_speech(fake_espeak, tmp_path):
    fake_espeak.setenv("FAKE_ESPEAK", "16k")
    wav = tmp_path / "a.wav"
    _espeak().synthesize("Bonjour à tous.", wav)
    with wave.open(str(wav)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2)
        seconds = w.getnframes() / w.getframerate()
        frames = w.readframes(w.getnframes())
    fake_espeak.setenv("FAKE_ESPEAK", "")
    _espeak().synthesize("Bonjour à tous.", tmp_path / "b.wav")
    with wave.open(str(tmp_path / "b.wav")) as w:
        usual = w.getnframes() / w.getframerate()
    # the same samples, read as 16 kHz: longer by 22050/16000, and not silent
    assert abs(seconds - usual * RATE / 16000) < 0.05
    assert max(abs(x) for x in struct.unpack(f"<{len(frames) // 2}h", frames)) > 3000
    assert not list(tmp_path.glob("*.conv.wav"))


def test_a_text_that_makes_espeak_fail_is_named_with_the_fix(fake_espeak):
    fake_espeak.setenv("FAKE_ESPEAK", "fail-on")
    with pytest.raises(EngineError) as err:
        _espeak().synthesize("Appelez le zorglub.", Path("/nonexistent/a.wav"))
    text = str(err.value)
    assert "espeak-ng a échoué sur le texte «Appelez le zorglub.» (19 caractères ; exit 2: boom)." in text
    assert "Cause probable : ce texte fait échouer espeak-ng, qui dit pourtant les autres : souvent un mot très " \
           "long, ou une longue suite de majuscules ou de chiffres qu'il épelle" in text


def test_an_espeak_crash_on_a_text_names_the_signal(fake_espeak):
    fake_espeak.setenv("FAKE_ESPEAK", "abort-on")
    with pytest.raises(EngineError) as err:
        _espeak()._command_line("Appelez le zorglub.")
    assert str(err.value).startswith("espeak-ng a échoué sur le texte «Appelez le zorglub.» (19 caractères ; "
                                     "crashed (SIGABRT)).")


def test_an_espeak_that_hangs_on_a_plain_sentence_is_blamed_on_the_installation(fake_espeak, monkeypatch):
    """The text fails, and the plain sentence tried next does not finish: the installation is at fault."""
    fake_espeak.setenv("FAKE_ESPEAK", "hang-plain")
    run = subprocess.run
    monkeypatch.setattr(espeak.subprocess, "run", lambda *a, timeout=None, **k: run(*a, timeout=1, **k))
    with pytest.raises(EngineError) as err:
        _espeak()._command_line("Appelez le 15.")
    assert str(err.value) == ("espeak-ng a échoué (exit 2: boom), même sur une phrase simple.\n"
                              "Cause probable : une installation d'espeak-ng ou des données de voix abîmées\n"
                              "Solution : réinstallez avec : apt-get install --reinstall espeak-ng espeak-ng-data")


def test_an_espeak_that_never_finishes_names_the_text_and_the_fix(fake_espeak, monkeypatch):
    fake_espeak.setenv("FAKE_ESPEAK", "hang")
    run = subprocess.run
    monkeypatch.setattr(espeak.subprocess, "run", lambda *a, timeout=None, **k: run(*a, timeout=1, **k))
    with pytest.raises(EngineError) as err:
        _espeak()._command_line("Appelez le 15.")
    assert str(err.value) == ("espeak-ng n'a pas fini en 120 s sur le texte «Appelez le 15.».\n"
                              "Cause probable : un texte très long ou inhabituel\n"
                              "Solution : raccourcissez ou reformulez ce texte dans le guide")


def test_without_espeak_the_engine_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    espeak._program.cache_clear()
    ok, why = espeak.EspeakEngine.probe()
    assert not ok and why.startswith("espeak-ng n'est pas installé.")
    with pytest.raises(EngineError) as err:
        _espeak().synthesize("Bonjour.", tmp_path / "a.wav")
    assert str(err.value).startswith("espeak-ng est introuvable.\nSolution : installez-le avec : apt-get install")
    espeak._program.cache_clear()


def test_an_unknown_espeak_voice_lists_the_french_ones(tmp_path):
    with pytest.raises(EngineError) as err:
        _espeak(voice="fr-xx+f3").check()
    text = str(err.value)
    assert "Voix espeak-ng inconnue : 'fr-xx+f3'." in text
    assert "Cause probable : ce nom n'est pas celui d'une voix française d'espeak-ng" in text
    listed = text.split("utilisez l'une de : ")[1].split(" (une variante")[0].split(", ")
    assert "fr" in listed and "fr-fr" in listed and "fr-be" in listed and not any("/" in v for v in listed)


def test_without_the_library_word_times_are_estimated_and_the_volunteer_told(fake_espeak, tmp_path, caplog):
    """The library's process fails (here: its data folder is empty): the words are spread over the clip."""
    (tmp_path / "empty").mkdir()
    fake_espeak.setenv("ESPEAK_DATA_PATH", str(tmp_path / "empty"))
    engine = _espeak()
    wav = tmp_path / "a.wav"
    espeak._warned.clear()
    with wave.open(str(wav), "wb") as w:  # a second of silence stands for the clip
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(RATE * 2))
    with caplog.at_level(logging.WARNING):
        starts = engine.word_starts("Bonjour à tous.", wav)
    espeak._warned.clear()
    assert [p for p, _ in starts] == [0, 8, 10]
    assert "La bibliothèque espeak-ng ne donne pas ici le moment de chaque mot (" in caplog.text
    assert "les sous-titres qui commencent au milieu d'un extrait sont placés par estimation." in caplog.text


def test_many_clips_in_a_row_come_from_one_library_process_as_the_command_line_makes_them(tmp_path, monkeypatch):
    """More clips than the engine keeps word times for, at a rate and pitch of their own: one library process
    speaks them all (no program started per clip), each is the command line's, sample for sample, and the
    library gives its samples and word times."""
    started = []

    class Counted(subprocess.Popen):
        def __init__(self, args, *a, **k):
            started.append(args)
            super().__init__(args, *a, **k)

    engine = _espeak(rate=150, pitch=70)
    engine.release()
    monkeypatch.setattr(subprocess, "Popen", Counted)
    for i in range(66):
        engine.synthesize(f"Phrase {i}.", tmp_path / "a.wav")
    assert len(started) == 1, started
    monkeypatch.undo()
    with wave.open(str(tmp_path / "a.wav")) as w:
        clip = w.readframes(w.getnframes())
    cmd = engine._command("espeak-ng") + ["--stdout", "--stdin"]
    assert espeak._pcm(subprocess.run(cmd, input=b"Phrase 65.", capture_output=True).stdout)[2] == clip
    audio, words = espeak.library_synth("Phrase 65.", "fr", engine.settings.words_per_minute, 70, tmp_path / "l.raw")
    assert (tmp_path / "l.raw").read_bytes() == audio == clip
    assert [p for p, _ in engine.word_starts("Phrase 65.", tmp_path / "a.wav")] == [0, 7] == [p for p, _ in words]
    engine.release()
