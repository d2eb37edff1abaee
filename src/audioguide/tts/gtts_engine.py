"""gTTS: Google's online voice. Optional: it sends the guide's text to Google, so it is never the default."""

from __future__ import annotations

import io
import logging
import re
import socket
import time
from pathlib import Path

from audioguide.exceptions import EngineError
from audioguide.i18n import N_, _
from audioguide.tts.base import Engine, Option, fix_label, to_wav

log = logging.getLogger(__name__)
MAX_CHARS = 100  # gTTS's own per-request limit (gtts.tts.gTTS.GOOGLE_TTS_MAX_CHARS)
OFFLINE_FIX = N_("use --engine espeak (offline), or add --fallback espeak to switch automatically")


def chunk_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Split at sentence ends, then commas, then spaces, so no request exceeds `limit` characters."""
    chunks: list[str] = []
    for sentence in re.split(r"(?<=[.!?…:;])\s+", text.strip()):
        while len(sentence) > limit:
            cut = max(sentence.rfind(", ", 0, limit - 1) + 1, sentence.rfind(" ", 0, limit))
            cut = cut if cut > 0 else limit  # one unbroken word longer than a request: cut it
            chunks.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            chunks.append(sentence)
    return chunks


class GttsEngine(Engine):
    name = "gtts"
    online = True
    description = N_("Google Translate voice via gTTS; needs internet; sends the text to Google")
    retries = 3
    backoff = 1.0  # seconds before the second attempt; doubles each time
    timeout = (5.0, 30.0)  # connect, read: a stalled request must not hang the build
    options = {"tld": Option(str, N_("Google's domain, in letters: fr, ca, com…"), pattern=r"[a-z]{2,}(\.[a-z]{2,})*",
                             example="tld=fr")}

    @classmethod
    def probe(cls) -> tuple[bool, str]:
        try:
            import gtts  # noqa: F401
        except ImportError:
            return False, _("gTTS is not installed.") + fix_label() + "pip install 'audioguide[gtts]'"
        return True, _("installed; needs internet access at build time")

    @property
    def tld(self) -> str:
        return self.settings.engine_options.get("tld", "fr")

    def check(self) -> None:
        super().check()
        host = f"translate.google.{self.tld}"
        try:
            socket.create_connection((host, 443), timeout=3).close()
        except OSError as exc:
            raise EngineError(_("gTTS needs internet access to reach {host}, which failed ({error}).").format(
                                  host=host, error=exc),
                              cause=_("this machine is offline or the site is blocked"), fix=_(OFFLINE_FIX)) from exc

    def identity(self) -> dict:
        return {"engine": "gtts", "lang": "fr", "tld": self.tld}

    def fetch(self, chunk: str) -> bytes:
        """One request to Google; returns MP3 bytes."""
        from gtts import gTTS

        buf = io.BytesIO()
        gTTS(chunk, lang="fr", tld=self.tld, lang_check=False, timeout=self.timeout).write_to_fp(buf)
        return buf.getvalue()

    def fetch_with_retry(self, chunk: str) -> bytes:
        delay = self.backoff
        for attempt in range(1, self.retries + 1):
            try:
                return self.fetch(chunk)
            except Exception as exc:  # gTTSError, requests errors: all mean "try again, then give up"
                if attempt == self.retries:
                    raise EngineError(_("gTTS failed after {n} attempts: {error}").format(n=self.retries, error=exc),
                                      cause=_("no internet access, or Google refused the request"),
                                      fix=_(OFFLINE_FIX)) from exc
                log.warning(_("gTTS attempt %d failed (%s); retrying in %.0f s."), attempt, exc, delay)
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def synthesize(self, text: str, wav: Path) -> None:
        mp3 = wav.with_suffix(".gtts.mp3")
        try:
            mp3.write_bytes(b"".join(self.fetch_with_retry(c) for c in chunk_text(text)))
            to_wav(mp3, wav)
        finally:
            mp3.unlink(missing_ok=True)
