"""Piper voices by name: the voices catalogue, verified downloads into the user's data folder, name -> file.

The catalogue is Piper's own `voices.json` (rhasspy/piper-voices): for each voice its language, quality,
speakers, and every file's path, size and MD5. Downloads go to a `.part` file beside the final name, resume
with an HTTP Range request after a cut, are checked against the catalogue's size and MD5, and only then are
renamed into place, so a voice file under its final name is always whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import io
import json
import logging
import os
import re
import shutil
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from audioguide.exceptions import EngineError
from audioguide.i18n import N_, _

log = logging.getLogger(__name__)

# A fixed release of the catalogue, not `main`: the same name must always fetch the same checked bytes.
REPOSITORY = "https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/"
CATALOGUE = "voices.json"
ATTEMPTS = 3
TIMEOUT_S = 30
CHUNK = 1 << 16
CATALOGUE_MAX = 16 << 20  # the real one is under 1 MB
# A whole file must come within this time, however the server trickles it: a fixed part, plus the time the
# file takes at 50 kB/s (a slow line: a 63 MB voice gets 22 minutes). AUDIOGUIDE_DOWNLOAD_DEADLINE sets it.
DEADLINE_BASE_S, MIN_RATE = 60, 50_000
_MD5 = re.compile(r"[0-9a-f]{32}")


def repository() -> str:
    """Where voices come from; AUDIOGUIDE_VOICES_URL points at a mirror (or a test server)."""
    url = os.environ.get("AUDIOGUIDE_VOICES_URL") or REPOSITORY
    return url if url.endswith("/") else url + "/"


def voices_dir() -> Path:
    """The user's voice folder: $AUDIOGUIDE_VOICES_DIR, else $XDG_DATA_HOME/audioguide/voices."""
    if os.environ.get("AUDIOGUIDE_VOICES_DIR"):
        return Path(os.environ["AUDIOGUIDE_VOICES_DIR"])
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "audioguide" / "voices"


OFFLINE_FIX = N_("on a machine with internet access, download the voice's .onnx and .onnx.json files (from the "
                  "Piper voices repository, or run `audioguide voices install NAME` there), copy them here, then run "
                  "`audioguide voices install NAME --from FOLDER`, or pass --voice PATH/NAME.onnx")


@dataclass(frozen=True)
class Voice:
    name: str
    language: str
    quality: str
    speakers: int
    files: dict  # catalogue path -> {"size_bytes", "md5_digest"}

    @property
    def family(self) -> str:
        return self.language.split("_")[0]

    @property
    def size(self) -> int:
        return sum(f.get("size_bytes", 0) for f in self.files.values())

    def model_files(self) -> dict[str, dict]:
        """The two files Piper needs: the model and its config, by local name."""
        return {Path(p).name: meta for p, meta in self.files.items() if p.endswith((".onnx", ".onnx.json"))}

    def remote(self, local_name: str) -> str:
        return next(p for p in self.files if Path(p).name == local_name)

    @property
    def installed(self) -> bool:
        return (voices_dir() / f"{self.name}.onnx").exists() and (voices_dir() / f"{self.name}.onnx.json").exists()


def _voice(name: str, raw: dict) -> Voice:
    return Voice(name=name, language=raw.get("language", {}).get("code", name.split("-")[0]),
                 quality=raw.get("quality", ""), speakers=int(raw.get("num_speakers", 1)),
                 files=raw.get("files", {}))


def _shape_error(raw) -> str | None:
    """What is wrong with a catalogue's shape (Piper's voices.json), or None. Checked before it is saved, so a
    wrong file is never kept; size and checksum may be missing here: such a voice is listed but not installed."""
    if not isinstance(raw, dict):
        return f"it is a JSON {type(raw).__name__}, not an object of voices"
    return next((f"voice {name!r}{error}" for name, v in raw.items() if (error := _voice_shape_error(v))), None)


def _voice_shape_error(v: object) -> str | None:
    """What is wrong with one voice's entry, after its name, or None."""
    if not isinstance(v, dict):
        return " is not an object"
    lang, files, speakers = v.get("language", {}), v.get("files", {}), v.get("num_speakers", 1)
    if not isinstance(lang, dict) or not isinstance(lang.get("code", ""), str):
        return ": `language` is not an object with a `code`"
    if not isinstance(v.get("quality", ""), str):
        return ": `quality` is not text"
    if not isinstance(speakers, int) or isinstance(speakers, bool) or speakers < 1:
        return ": `num_speakers` is not a positive number"
    if not isinstance(files, dict) or not all(isinstance(p, str) and isinstance(m, dict) for p, m in files.items()):
        return ": `files` is not an object of file details"
    for path, meta in files.items():
        size, md5 = meta.get("size_bytes"), meta.get("md5_digest")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            return f": the size of {path} is not a number of bytes"
        if md5 is not None and not (isinstance(md5, str) and _MD5.fullmatch(md5)):
            return f": the checksum of {path} is not an MD5"
    return None


def _open(url: str, headers: dict | None = None):
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=TIMEOUT_S)


def _network_error(url: str, exc: Exception) -> EngineError:
    if isinstance(exc, urllib.error.HTTPError):
        return EngineError(_("The voices repository answered {code} for {url}.").format(code=exc.code, url=url),
                           cause=_("the file is not there (a mistyped voice name, or a moved repository)"),
                           fix=_("check the name with `audioguide voices --all`; ") + _(OFFLINE_FIX))
    return EngineError(_("Cannot reach the voices repository ({url}).").format(url=url),
                       cause=_("no network connection ({reason})").format(reason=getattr(exc, "reason", exc)),
                       fix=_(OFFLINE_FIX))


def catalogue(refresh: bool = False) -> dict[str, Voice]:
    """Every voice of the catalogue. It is kept in the voices folder, so listing works offline afterwards."""
    saved = voices_dir() / CATALOGUE
    if refresh or not saved.exists():
        url = repository() + CATALOGUE
        try:
            buf = io.BytesIO()
            with _open(url) as resp:
                try:
                    _copy(resp, buf, CATALOGUE_MAX, _deadline(0), url)
                except OverflowError as exc:
                    raise ValueError("too large") from exc
            shape = _shape_error(json.loads(buf.getvalue()))
            data = buf.getvalue()
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            if not saved.exists():
                raise _network_error(url, exc) from exc
            log.warning(_("Cannot refresh the voices catalogue (%s); using the saved copy."), exc)
        except ValueError as exc:
            raise EngineError(_("The voices catalogue at {url} is not valid JSON (or is over {mb} MB).").format(
                                  url=url, mb=CATALOGUE_MAX >> 20),
                              cause=_("a proxy or captive portal answered instead of the repository"),
                              fix=_("try again later, or set AUDIOGUIDE_VOICES_URL to a working mirror")) from exc
        else:
            if shape:
                raise EngineError(_("The voices catalogue at {url} is not a Piper voices catalogue: "
                                    "{problem}.").format(url=url, problem=shape),
                                  cause=_("the address points at another file, or the mirror is broken; "
                                          "it was not saved"),
                                  fix=_("check AUDIOGUIDE_VOICES_URL, or try again later"))
            saved.parent.mkdir(parents=True, exist_ok=True)
            tmp = saved.with_name(saved.name + ".part")
            tmp.write_bytes(data)
            tmp.replace(saved)
    try:
        raw = json.loads(saved.read_text("utf-8"))
        if _shape_error(raw):
            raise ValueError
    except (OSError, ValueError) as exc:
        saved.unlink(missing_ok=True)
        raise EngineError(_("The saved voices catalogue {file} is damaged.").format(file=saved),
                          fix=_("run `audioguide voices` again: it fetches a new one")) from exc
    return {name: _voice(name, v) for name, v in sorted(raw.items())}


def find(name: str) -> Voice:
    voices = catalogue()
    if name not in voices:
        import difflib

        close = difflib.get_close_matches(name, list(voices), n=3)
        raise EngineError(_("No Piper voice is called {name!r}.").format(name=name),
                          cause=_("did you mean {names}?").format(names=", ".join(close)) if close
                          else _("not in the voices catalogue"),
                          fix=_("see `audioguide voices` (French) or `audioguide voices --all`"))
    return voices[name]


def _md5(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()


def _check(path: Path, meta: dict, what: str) -> None:
    size, md5 = meta.get("size_bytes"), meta.get("md5_digest")
    if size is not None and path.stat().st_size != size:
        raise EngineError(_("{file}: {size} bytes instead of {expected}.").format(
                              file=what, size=path.stat().st_size, expected=size),
                          cause=_("the download was cut short or the file was changed"),
                          fix=_("install the voice again"))
    if md5 and _md5(path) != md5:
        raise EngineError(_("{file}: its checksum does not match the catalogue.").format(file=what),
                          cause=_("the file was damaged in transit or is not the published voice"),
                          fix=_("install the voice again; if it keeps failing, the mirror serves a wrong file"))


def _deadline(size: int) -> float:
    limit = os.environ.get("AUDIOGUIDE_DOWNLOAD_DEADLINE")
    return time.monotonic() + (float(limit) if limit else DEADLINE_BASE_S + size / MIN_RATE)


def _set_timeout(resp, seconds: float) -> None:
    """The next read on the response's socket waits at most `seconds` (urllib gives no public handle)."""
    sock = getattr(getattr(getattr(resp, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(max(0.01, seconds))


def _copy(resp, fh, want: int, deadline: float, url: str) -> None:
    """At most `want` bytes of resp into fh, before the deadline. More than that is a wrong file."""
    got = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline")
        _set_timeout(resp, min(TIMEOUT_S, left))
        chunk = resp.read1(min(CHUNK, want - got + 1))  # what has come: read() waits for it all
        if not chunk:
            return
        if got + len(chunk) > want:
            fh.write(chunk[:want - got])
            raise OverflowError(url)
        fh.write(chunk)
        got += len(chunk)


def _download(url: str, part: Path, size: int) -> None:
    """Fetch url into part, resuming what is already there, never past `size` bytes nor the deadline;
    retried with back-off. A partial file (at most `size` bytes) is kept for the next run to resume."""
    deadline = _deadline(size)
    for attempt in range(1, ATTEMPTS + 1):
        have = part.stat().st_size if part.exists() else 0
        if have == size:
            return
        if have > size:
            part.unlink()
            have = 0
        try:
            with _open(url, {"Range": f"bytes={have}-"} if have else None) as resp:
                if have and resp.status != 206:  # the server ignored the range: start again
                    have = 0
                with open(part, "ab" if have else "wb") as fh:
                    _copy(resp, fh, size - have, deadline, url)
            if part.stat().st_size == size:
                return
            log.warning(_("%s: the connection closed early; resuming (attempt %d of %d)."), url, attempt, ATTEMPTS)
        except OverflowError as exc:
            part.unlink(missing_ok=True)
            raise EngineError(_("{url} is larger than the catalogue says ({size} bytes).").format(url=url, size=size),
                              cause=_("the mirror serves another file under this name"),
                              fix=_("try another mirror, or ") + _(OFFLINE_FIX)) from exc
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:  # our partial file is wrong for this range: start again
                part.unlink()
                continue
            raise _network_error(url, exc) from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            if time.monotonic() >= deadline:
                raise EngineError(_("Downloading {url} takes too long ({have} of {size} bytes so far).").format(
                                      url=url, have=part.stat().st_size if part.exists() else 0, size=size),
                                  cause=_("the connection or the mirror is very slow"),
                                  fix=_("run the same command again later: it resumes where it stopped; or ")
                                  + _(OFFLINE_FIX)) from exc
            if attempt == ATTEMPTS:
                raise _network_error(url, exc) from exc
            log.warning(_("%s: %s; retrying (attempt %d of %d)."), url, exc, attempt, ATTEMPTS)
        time.sleep(min(2 ** (attempt - 1), 4) * float(os.environ.get("AUDIOGUIDE_RETRY_SCALE", "1")))
    raise EngineError(_("Could not download {url} whole after {n} attempts.").format(url=url, n=ATTEMPTS),
                      cause=_("the connection keeps breaking"), fix=_("run the same command again: it resumes"))


def install(name: str, source: Path | None = None) -> Path:
    """Install a voice into the voices folder, from the repository or from a folder of copied files.
    Returns the .onnx path. Files already installed and matching the catalogue are kept."""
    from_catalogue = True
    try:
        voice = find(name)
    except EngineError:
        if source is None:
            raise
        # Copied by hand onto a machine that never had the catalogue: install, but say it is unverified.
        log.warning(_("No voices catalogue here: %s is installed from %s without a checksum check."), name, source)
        voice = Voice(name, name.split("-")[0], "", 1, {f"{name}.onnx": {}, f"{name}.onnx.json": {}})
        from_catalogue = False
    files = voice.model_files()
    unchecked = [n for n, m in files.items() if not isinstance(m.get("size_bytes"), int) or not m.get("md5_digest")]
    if from_catalogue and (len(files) != 2 or unchecked):
        raise EngineError(_("The voices catalogue gives no size and checksum for {name}'s model files.").format(
                              name=name),
                          cause=_("without them a damaged or replaced file could not be told from the real voice"),
                          fix=_("choose another voice (`audioguide voices`), or use another mirror"))
    dest = voices_dir()
    dest.mkdir(parents=True, exist_ok=True)
    for local, meta in files.items():
        final = dest / local
        if final.exists():
            with contextlib.suppress(EngineError):
                _check(final, meta, local)
                continue
        part = final.with_name(final.name + ".part")
        if source is not None:
            src = Path(source) / local
            if not src.exists():
                raise EngineError(_("{file} not found.").format(file=src),
                                  fix=_("copy {name} into {folder}, or check the folder").format(name=local,
                                                                                               folder=source))
            try:
                shutil.copyfile(src, part)
            except BaseException:
                part.unlink(missing_ok=True)
                raise
        else:
            _download(repository() + voice.remote(local), part, meta["size_bytes"])  # an int: checked above
        try:
            _check(part, meta, local)
        except EngineError:
            part.unlink(missing_ok=True)  # a wrong file is never resumed from
            raise
        part.replace(final)
    return dest / f"{name}.onnx"


def resolve(voice: str) -> Path:
    """A --voice value: a path to an .onnx file, or the name of an installed voice."""
    path = Path(voice).expanduser()
    if path.suffix == ".onnx" or os.sep in voice or path.exists():
        return path
    installed = voices_dir() / f"{voice}.onnx"
    if installed.exists():
        return installed
    raise EngineError(_("The Piper voice {voice!r} is not installed.").format(voice=voice),
                      cause=_("no {file} in {folder}").format(file=installed.name, folder=installed.parent),
                      fix=_("run `audioguide voices install {voice}` (it needs the internet once), or pass "
                            "--voice PATH/NAME.onnx").format(voice=voice))
