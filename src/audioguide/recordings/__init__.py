"""Recorded pages (issue 28): a volunteer's reading of a page replaces its synthetic narration in every output.

The spoken frame (announcement, earcons, end cues) stays synthetic. The page's body is laid from the processed
recording (process.py), and its sentences' times come from aligning the recording with the synthetic rendering
of the same body (align.py), whose times the build knows. Where the alignment is unsure the sentences are spread
over the recording in proportion to the rendering (page-level sync), and a warning says so.

The build calls three things: prepare() once after synthesis (before any output is written, so an unreadable
recording stops the build with nothing published), key() in each chapter's key, and body()/lay() in assembly."""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from functools import lru_cache
from pathlib import Path

from audioguide.i18n import _
from audioguide.recordings.find import find

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _code() -> str:
    """This package's code and librosa's version: a change to either may change what a recording becomes."""
    from audioguide import versions

    h = hashlib.sha256("\0".join(versions("librosa", "numpy")).encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()


def require() -> None:
    """numpy and librosa are an optional extra: say how to get them when a guide has recordings."""
    try:
        import librosa  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as exc:
        from audioguide.exceptions import ConfigError

        raise ConfigError(_("The guide has recorded pages (recordings/ folder), but {module} is not installed.")
                          .format(module=exc.name), cause=_("reading recordings is an option of the installation"),
                          fix=_("install it: pip install 'audioguide[voice]' (or script/bootstrap), or remove the "
                                "recordings/ folder to keep the synthetic voice everywhere")) from None


def body(page) -> list[int]:
    """Indices of a page's own words (not its frame) among its segments."""
    return [k for k, s in enumerate(page.segments) if s.block is not None]


class Recordings:
    def __init__(self, builder):
        self.b = builder
        self.found = find(builder.guide)
        self.ready: dict[tuple[str, str], dict] = {}

    def __bool__(self) -> bool:
        return bool(self.found)

    # -- the three calls of the build ---------------------------------------------------------------------
    def prepare(self, scripts: dict, keys: dict[str, str]) -> None:
        todo = [ps for pages in scripts.values() for ps in pages
                if (ps.chapter.id, ps.page.id) in self.found and body(ps)]
        if todo:
            require()
        # On the build's workers; results come back in page order, so the first unreadable one is named.
        for ps, ready in zip(todo, self.b.parallel(lambda ps: self._prepared(ps, keys), todo, _("Recordings"))):
            self.ready[(ps.chapter.id, ps.page.id)] = ready
        for ps in todo:
            for message in self.ready[(ps.chapter.id, ps.page.id)]["warnings"]:
                log.warning("%s", message)
        if todo:
            log.info(_("{human} pages read by a human voice, {synthetic} by the synthetic voice.").format(
                human=len(todo), synthetic=sum(len(p) for p in scripts.values()) - len(todo)))

    def key(self, chapter) -> list:
        return [[pid, r["key"]] for (cid, pid), r in sorted(self.ready.items()) if cid == chapter.id]

    def body(self, page) -> list[int]:
        return body(page) if (page.chapter.id, page.page.id) in self.ready else []

    def lay(self, w, page) -> list[dict]:
        """Add the page's recording to the chapter WAV; its cues, timed in the chapter."""
        from audioguide.audio import silence

        r = self.ready[(page.chapter.id, page.page.id)]
        t0 = w.seconds
        w.add(Path(r["pcm"]).read_bytes())
        w.add(silence(page.segments[body(page)[-1]].pause_ms))
        return [_shift(c, t0) for c in r["cues"]]

    # -- processing and alignment, cached by the recording's bytes and the rendering's clips ---------------
    def _prepared(self, ps, keys: dict[str, str]) -> dict:
        from audioguide.tts.base import RATE

        where = f"{ps.chapter.id}/{ps.page.id}"
        path = self.found[(ps.chapter.id, ps.page.id)]
        segs = [ps.segments[k] for k in body(ps)]
        key = hashlib.sha256(json.dumps([_code(), hashlib.sha256(path.read_bytes()).hexdigest(),
                                         [[keys[s.text], s.pause_ms, s.written, s.cuts] for s in segs]],
                                        ensure_ascii=False).encode()).hexdigest()
        folder = Path(self.b.settings.cache_dir) / "recordings"
        meta, pcm = folder / f"{key}.json", folder / f"{key}.pcm"
        if meta.is_file() and pcm.is_file():
            try:
                return {**json.loads(meta.read_text("utf-8")), "pcm": str(pcm), "key": key}
            except ValueError:
                pass
        import numpy as np

        from audioguide.audio import WavWriter, silence
        from audioguide.recordings.align import MIN_CONFIDENCE, confidence, warp
        from audioguide.recordings.process import process, reference_loudness

        with tempfile.TemporaryDirectory(dir=self.b.speaker.work_dir) as tmp:
            # The synthetic rendering of the body, laid out and timed exactly as assembly lays it.
            ref_wav = Path(tmp) / "reference.wav"
            w = WavWriter(ref_wav)
            cues = []
            try:
                for seg in segs:
                    t = w.seconds
                    lead = w.add_clip(self.b.cache.path(keys[seg.text]))
                    cue = {"start": round(t, 3), "end": round(w.seconds, 3), "text": seg.text,
                           "written": seg.written, "kind": seg.kind, "cont": seg.cont, "block": seg.block}
                    if seg.cuts:
                        cue["captions"] = self.b.captions(seg, keys[seg.text], t - lead, t, w.seconds)
                    cues.append(cue)
                    w.add(silence(seg.pause_ms))
            finally:
                w.close()
            done = process(path, where, reference_loudness(ref_wav), Path(tmp))
            import wave

            with wave.open(str(ref_wav)) as r:
                ref = np.frombuffer(r.readframes(r.getnframes()), "<i2").astype(np.float64) / 32768
            rec = done.audio
            end = len(rec) / RATE
            warnings = list(done.warnings)
            ww = warp(ref, rec, RATE)
            sure = confidence(ww, [(c["start"], c["end"]) for c in cues])
            if sure >= MIN_CONFIDENCE:
                onset, offset = ww.onset, ww.offset
            else:
                warnings.append(_("Page {where}: the recording {name} does not follow the page's text surely "
                                  "enough (confidence {sure}): the sentences are placed in proportion to their "
                                  "length (page-level sync). Check that it is the right file and that it reads the "
                                  "whole text.").format(where=where, name=path.name, sure=f"{sure:.2f}"))
                scale = end / (len(ref) / RATE)

                def onset(t: float) -> float:
                    return t * scale

                offset = onset
            mapped, last = [], 0.0
            for c in cues:
                s = round(min(max(onset(c["start"]), last), end), 3)
                e = round(min(max(offset(c["end"]), s + 0.05), end), 3)
                m = {**c, "start": s, "end": e}
                if "captions" in c:
                    m["captions"] = [{**x, "start": round(min(max(onset(x["start"]), s), e), 3),
                                      "end": round(min(max(offset(x["end"]), s), e), 3)} for x in c["captions"]]
                mapped.append(m)
                last = e
            data = np.clip(np.round(rec * 32767), -32768, 32767).astype("<i2").tobytes()
        folder.mkdir(parents=True, exist_ok=True)
        pcm.write_bytes(data)
        out = {"cues": mapped, "warnings": warnings, "confidence": sure}
        meta.write_text(json.dumps(out, ensure_ascii=False), "utf-8")
        return {**out, "pcm": str(pcm), "key": key}


def _shift(cue: dict, t0: float) -> dict:
    out = {**cue, "start": round(cue["start"] + t0, 3), "end": round(cue["end"] + t0, 3)}
    if "captions" in cue:
        out["captions"] = [{**c, "start": round(c["start"] + t0, 3), "end": round(c["end"] + t0, 3)}
                           for c in cue["captions"]]
    return out
