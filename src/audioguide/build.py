"""load -> narrate -> synthesise -> assemble -> encode + tag -> publish; each stage one named call."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pwd
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from audioguide import __version__
from audioguide.audio import (ENCODER_LOSS_DB, LIMIT, WavWriter, concat_mp3, earcon, encode_mp3, encoders,
                             ffmpeg_exe, loudness_gain, silence)
from audioguide.config import DEFAULT_BASE_URL, BuildSettings
from audioguide.exceptions import AudioguideError, ConfigError, EngineError
from audioguide.freshness import Warnings, inputs_key, up_to_date
from audioguide.files import Ownership, atomic_path, digest, matches, read_state, sha256_file, update_bytes
from audioguide.guide import Chapter, Guide, load_guide
from audioguide.lock import OutputLock
from audioguide.timing import Caption, Cue, PageTiming
from audioguide.publishers import publisher_classes
from audioguide.tts import get_engine
from audioguide.tts.cache import ClipCache, clip_key

if TYPE_CHECKING:
    from audioguide.narration.lexicon import Voice
    from audioguide.narration.pipeline import MemoNormalizer
    from audioguide.narration.script import PageScript, ScriptWriter

# Narration, tagging, the cover and the progress bar are imported where used: a rebuild with nothing to do
# needs none of them, and importing them was a third of its time.
log = logging.getLogger(__name__)
STATE_FILE = ".build-state.json"
FORMAT = 1
# Bump when assembly changes in a way the cache keys would not see (earcons, trimming, layout).
ASSEMBLY_VERSION = 10
CHAPTER_LEAD_MS, PAGE_LEAD_MS, END_LEAD_MS, TAIL_MS = 400, 300, 250, 800
# Where builds write; temp files a killed build left are swept here and nowhere else.
OUTPUT_FOLDERS = ("audio", "transcripts", "chapters", "phone", "phone/sounds", "kiosk")


@dataclass
class BuildResult:
    guide: Guide
    settings: BuildSettings
    out_dir: Path
    manifest: dict = field(default_factory=dict)
    synthesized: int = 0
    encoded: int = 0
    phone_encoded: int = 0
    files: list[Path] = field(default_factory=list)
    builder: "Builder | None" = None


def write_addressed(folder: Path, stem: str, write) -> Path:
    """Write an MP3 as <stem>.<first 12 hex of its sha256>.mp3. The feed and the manifest name these files,
    so a name never holds other bytes than the ones they state, and a new build never overwrites a file that
    a reader of the previous feed is about to fetch."""
    final: dict[str, Path] = {}

    def name(tmp: Path) -> Path:
        final["path"] = folder / f"{stem}.{sha256_file(tmp)[:12]}.mp3"
        return final["path"]

    with atomic_path(folder / f"{stem}.mp3", name_from=name) as tmp:
        write(tmp)
    return final["path"]


def _hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _progress(settings: BuildSettings, total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="clip" if desc.startswith("Synth") else "file", leave=False,
                disable=not (settings.progress and sys.stderr.isatty()))


def _parallel(settings: BuildSettings, fn, items: list, desc: str) -> list:
    """Run fn over items on `jobs` workers (the work is in espeak-ng/ffmpeg subprocesses, so threads suffice)."""
    results = []
    with _progress(settings, len(items), desc) as bar, ThreadPoolExecutor(max_workers=settings.jobs) as pool:
        for r in pool.map(fn, items):
            results.append(r)
            bar.update(1)
    return results


def choose_engine(settings: BuildSettings):
    engine = get_engine(settings.engine, settings)
    try:
        engine.check()
    except EngineError as exc:
        if not settings.fallback or settings.fallback == settings.engine:
            raise
        log.warning("%s Falling back to %s, as asked with --fallback.", exc.message, settings.fallback)
        engine = get_engine(settings.fallback, settings)
        engine.check()
    if engine.online:
        log.warning("The %s engine sends the guide's text to a third party over the internet.", engine.name)
    return engine


class Builder:
    def __init__(self, guide: Guide, settings: BuildSettings, remote=None):
        self.guide = guide
        # remote(engine, [(voice text, key)…], cache): makes those clips elsewhere (a Dask cluster, see
        # catalogue/cluster.py) and keeps their bytes in `cache`. None: here, on `jobs` threads.
        self.remote = remote
        self.settings = settings
        settings.apply_guide(guide)  # the pace (and so the rate) may come from the guide
        self.out = Path(settings.out_dir or Path("output") / guide.id)
        self.engine = choose_engine(settings)
        self.cache = ClipCache(settings.cache_dir, ignore_existing=settings.clean)
        self.result = BuildResult(guide, settings, self.out, builder=self)
        self.words: dict[str, list] = {}
        """Clip key -> its words' start times, for clips that hold several captions."""

    # Made when first needed: a rebuild with nothing to do never narrates.
    @cached_property
    def say(self) -> MemoNormalizer:
        from audioguide.narration.pipeline import MemoNormalizer

        return MemoNormalizer(Path(self.settings.cache_dir), self.guide.lexicon)

    @cached_property
    def writer(self) -> ScriptWriter:
        from audioguide.narration.script import ScriptWriter

        return ScriptWriter(self.guide, self.say, self.settings.pace)

    @cached_property
    def voice(self) -> Voice:
        """What the engine hears: the narration with the lexicon's voice-only fixes (transcripts keep the text)."""
        from audioguide.narration.lexicon import Voice

        return Voice(self.guide.lexicon, getattr(self.engine, "phonemes", False))

    # -- stages --------------------------------------------------------------------------------
    def narrate(self) -> dict[str, list[PageScript]]:
        return {ch.id: self.writer.chapter(ch) for ch in self.guide.chapters}

    def prompt_clips(self, text: str) -> list[tuple[str, str, int]]:
        """(text, clip key, pause) for each sentence of a short prompt, spoken like the guide."""
        return [(seg.text, clip_key(self.engine, self.voice(seg.text)), seg.pause_ms)
                for seg in self.writer.prompt(text)]

    def render_clips(self, clips: list[tuple[str, str, int]], wav: Path, lead_ms: int = 150) -> None:
        """Synthesise what the cache lacks, then lay the clips out with their pauses."""
        w = WavWriter(wav)
        try:
            w.add(silence(lead_ms))
            for text, key, pause in clips:
                self.cache.make(self.engine, self.voice(text), key)
                w.add_clip(self.cache.path(key))
                w.add(silence(pause))
        finally:
            w.close()

    @property
    def work_dir(self) -> Path:
        work = Path(self.settings.cache_dir) / "work"
        work.mkdir(parents=True, exist_ok=True)
        return work

    def parallel(self, fn, items: list, desc: str) -> list:
        return _parallel(self.settings, fn, items, desc)

    def synthesize(self, scripts: dict[str, list[PageScript]]) -> dict[str, str]:
        """Make every clip missing from the cache; returns text -> clip key."""
        keys: dict[str, str] = {}
        for pages in scripts.values():
            for page in pages:
                for seg in page.segments:
                    if seg.text not in keys:
                        keys[seg.text] = clip_key(self.engine, self.voice(seg.text))
        todo = [(t, k) for t, k in keys.items() if not self.cache.has(k)]
        timed = {seg.text for pages in scripts.values() for page in pages for seg in page.segments if seg.cuts}
        made = {t for t, _ in todo}
        jobs = todo + [(t, keys[t]) for t in sorted(timed - made)]

        def make(item):
            text, key = item
            try:
                self.cache.make(self.engine, self.voice(text), key)
                if text in timed:  # a clip holding several captions: its words' times place them
                    self.words[key] = self.cache.words(self.engine, self.voice(text), key)
            except AudioguideError as exc:
                where = next((f"{p.chapter.id}/{p.page.id}" for ps in scripts.values() for p in ps
                              if any(s.text == text for s in p.segments)), "?")
                exc.message = f"Page {where}: {exc.message}"
                raise

        if self.remote is not None and todo:
            self.remote(self.engine, [(self.voice(t), k) for t, k in todo], self.cache)
            jobs = [(t, keys[t]) for t in sorted(timed)]  # in the cache now: only their words are timed here
        _parallel(self.settings, make, jobs, "Synthèse")
        self.engine.release()  # before the encoders start beside it
        self.result.synthesized = len(todo)
        log.info("Synthesised %d clips (%d from cache).", len(todo), len(keys) - len(todo))
        return keys

    def chapter_key(self, chapter: Chapter, pages: list[PageScript], keys: dict[str, str], cover_sha: str) -> str:
        g = self.guide
        return _hash({
            "v": ASSEMBLY_VERSION, "limit": LIMIT, "loss": ENCODER_LOSS_DB, "audio": [self.settings.loudness_lufs, self.settings.bitrate_kbps,
                                                             self.settings.sample_rate],
            "encoders": encoders(),  # an ffmpeg or LAME upgrade changes the MP3's bytes
            "segments": [[p.page.id, p.page.title] + [[keys[s.text], s.pause_ms, s.written, s.cont, s.block, s.cuts]
                                                      for s in p.segments]
                         for p in pages],
            "tags": [g.title, g.publisher, g.date, g.rights, g.link, g.id, chapter.number, len(g.chapters),
                     chapter.title, chapter.part.title if chapter.part else None,
                     chapter.part.number if chapter.part else None, len(g.parts), cover_sha],
        })

    def assemble(self, chapter: Chapter, pages: list[PageScript], keys: dict[str, str], wav: Path) -> list[PageTiming]:
        """Lay out one chapter: chapter chime, pages with page ticks, pauses; return page/cue timings."""
        w = WavWriter(wav)
        timings: list[PageTiming] = []
        try:
            w.add(earcon("chapter"))
            w.add(silence(CHAPTER_LEAD_MS))
            for i, page in enumerate(pages):
                start = 0.0 if i == 0 else w.seconds
                if i:
                    w.add(earcon("page"))
                    w.add(silence(PAGE_LEAD_MS))
                cues: list[Cue] = []
                for k, seg in enumerate(page.segments):
                    if seg.kind == "cue" and (k == 0 or page.segments[k - 1].kind != "cue"):  # one chime per end cue
                        w.add(silence(END_LEAD_MS))
                        w.add(earcon("end"))
                        w.add(silence(END_LEAD_MS))
                    t0 = w.seconds
                    lead = w.add_clip(self.cache.path(keys[seg.text]))
                    # text: what is said; written: what readers see. A cue is a clip: its start and end are where
                    # its speech starts and ends in the chapter audio. A clip holding several captions lists
                    # them, timed by the engine's own timing of their first words.
                    cue = Cue(start=round(t0, 3), end=round(w.seconds, 3), text=seg.text, written=seg.written,
                              kind=seg.kind, cont=seg.cont, block=seg.block)
                    if seg.cuts:
                        cue["captions"] = self.captions(seg, keys[seg.text], t0 - lead, t0, w.seconds)
                    cues.append(cue)
                    w.add(silence(seg.pause_ms))
                if i == len(pages) - 1:
                    w.add(silence(TAIL_MS))
                timings.append(PageTiming(id=page.page.id, title=page.page.title, start=round(start, 3),
                                          end=round(w.seconds, 3), cues=cues))
        finally:
            w.close()
        return timings

    def captions(self, seg, key: str, origin: float, start: float, end: float) -> list[Caption]:
        """The captions of a clip: its written pieces, each starting where the engine says its first word.
        origin: where the clip's first sample (before trimming) falls in the chapter."""
        from audioguide.narration.script import caption_times

        words = self.words.get(key)
        if words is None:
            words = self.words[key] = self.cache.words(self.engine, self.voice(seg.text), key)
        return caption_times(seg, self.voice(seg.text), words, origin, start, end)

    def chapter_task(self, chapter: Chapter, pages: list[PageScript], keys: dict[str, str], cover: bytes,
                     cover_sha: str, state: dict, publishers: dict) -> dict:
        """One worker's job: the chapter MP3 unless it is up to date, and the publishers' per-chapter work
        (the phone pages) from the same assembled audio, run beside the MP3 encoder."""
        from mutagen.mp3 import MP3

        from audioguide.narration.script import join_sentences
        from audioguide.publishers.mp3 import tag_chapter
        key = self.chapter_key(chapter, pages, keys, cover_sha)
        old = state.get("chapters", {}).get(chapter.id)
        fresh = (old and old["key"] == key and "gain_db" in old and isinstance(old.get("mp3"), str)
                 and matches(self.out / old["mp3"], old.get("sha256", "")))
        with tempfile.TemporaryDirectory(dir=self.work_dir) as tmpdir:
            wav = Path(tmpdir) / "chapter.wav"
            try:
                if fresh:
                    takers = [p for p in publishers.values() if p.wants_chapter(self.result, chapter, old)]
                    if takers:
                        self.assemble(chapter, pages, keys, wav)  # clips are cached: this is quick
                    for p in takers:
                        p.chapter_ready(self.result, chapter, old, wav)
                    return old
                timings = self.assemble(chapter, pages, keys, wav)
                gain = loudness_gain(wav, self.settings)
                entry = {"key": key, "gain_db": gain, "pages": timings}
                takers = [p for p in publishers.values() if p.wants_chapter(self.result, chapter, entry)]
                with ThreadPoolExecutor(max_workers=1) as side:
                    done = [side.submit(p.chapter_ready, self.result, chapter, entry, wav) for p in takers]
                    transcript = "\n\n".join(join_sentences(t["cues"]) for t in timings)

                    def write(tmp: Path) -> None:
                        encode_mp3(wav, tmp, self.settings, gain)
                        tag_chapter(tmp, self.guide, chapter, timings, transcript, cover, len(self.guide.chapters))

                    mp3 = write_addressed(self.out / "audio", chapter.slug, write)
                    for f in done:
                        f.result()
            except AudioguideError as exc:
                exc.message = f"Chapter {chapter.id} (audio/{chapter.slug}.mp3): {exc.message}"
                raise
        self.result.encoded += 1
        entry.update(mp3=f"audio/{mp3.name}", sha256=digest(mp3), duration=round(MP3(mp3).info.length, 3))
        return entry

    def whole_audio(self, chapters: list[Chapter], entries: dict[str, dict], cover: bytes, state: dict) -> dict:
        from audioguide.publishers.mp3 import tag_whole

        key = _hash([entries[c.id]["key"] for c in chapters])
        old = state.get("whole")
        if (old and old["key"] == key and "duration" in old and isinstance(old.get("mp3"), str)
                and len(old.get("chapters", ())) == len(chapters)
                and matches(self.out / old["mp3"], old.get("sha256", ""))):
            # The key leaves out the chapters' ids, as the file's bytes do: a renamed id keeps the file, but the
            # manifest must name the chapters as they are now called.
            return {**old, "chapters": [{**c, "id": ch.id} for ch, c in zip(chapters, old["chapters"])]}
        parts = [self.out / entries[c.id]["mp3"] for c in chapters]
        spans, t = [], 0.0

        def write(tmp: Path) -> None:
            nonlocal t
            for c, d in zip(chapters, concat_mp3(parts, tmp)):
                spans.append((c, t, t + d, entries[c.id]["pages"]))
                t += d
            tag_whole(tmp, self.guide, spans, cover)

        path = write_addressed(self.out, f"{self.guide.id}-complet", write)
        self.result.encoded += 1
        return {"key": key, "mp3": path.name, "sha256": digest(path), "duration": round(t, 3),
                "chapters": [{"id": c.id, "start": round(s, 3), "end": round(e, 3)} for c, s, e, _ in spans]}

    def manifest(self, entries: dict[str, dict], whole: dict) -> dict:
        g = self.guide
        chapters = []
        for ch in g.chapters:
            e = entries[ch.id]
            chapters.append({
                "id": ch.id, "number": ch.number, "title": ch.title, "description": ch.description,
                "part": {"id": ch.part.id, "number": ch.part.number, "title": ch.part.title} if ch.part else None,
                "mp3": e["mp3"], "bytes": (self.out / e["mp3"]).stat().st_size,
                "duration": e["duration"], "sha256": e["sha256"],
                "transcript": {"txt": f"transcripts/{ch.slug}.txt", "vtt": f"transcripts/{ch.slug}.vtt",
                               "srt": f"transcripts/{ch.slug}.srt"},
                "chapters_json": f"chapters/{ch.slug}.json",
                "pages": e["pages"],
            })
        return {
            "format": FORMAT, "generator": f"audioguide {__version__}",
            "guide": {"id": g.id, "title": g.title, "subtitle": g.subtitle, "publisher": g.publisher,
                      "author": g.author, "language": g.language, "description": g.description, "source": g.source,
                      "rights": g.rights, "version": g.version, "date": g.date.isoformat(), "link": g.link,
                      "email": g.email, "base_url": self.base_url, "intro": g.intro.id if g.intro else None,
                      "levels": {k: {"noun": v.noun, "feminine": v.feminine} for k, v in vars(g.levels).items()},
                      "parts": [{"id": p.id, "number": p.number, "title": p.title,
                                 "chapters": [c.id for c in p.chapters]} for p in g.parts]},
            "engine": {"name": self.engine.name, **{k: v for k, v in self.engine.identity().items()
                                                     if k != "engine"}},
            "audio": {"format": "mp3", "channels": 1, "sample_rate": self.settings.sample_rate,
                      "bitrate_kbps": self.settings.bitrate_kbps, "loudness_lufs": self.settings.loudness_lufs,
                      "true_peak_dbtp": self.settings.true_peak_db},
            "cover": "cover.jpg",
            **self.publisher_entries(),
            "chapters": chapters,
            "whole": {"mp3": whole["mp3"], "bytes": (self.out / whole["mp3"]).stat().st_size,
                      "duration": whole["duration"],
                      "sha256": whole["sha256"], "chapters": whole["chapters"]},
        }

    def publisher_entries(self) -> dict:
        """Where each installed publisher puts its main files, so readers of the manifest can find them."""
        found = publisher_classes()
        out = {}
        if "podcast" in found:
            out["feed"] = "feed.xml"
        if "phone" in found:
            out["phone"] = {"menu": "phone/menu.json", "asterisk": "phone/extensions.conf",
                            "voicexml": "phone/guide.vxml", "readme": "phone/README.md", "sounds": "phone/sounds/"}
        if "kiosk" in found:
            out["kiosk"] = "kiosk/index.html"
        if "fulltext" in found:
            out["transcript"] = {"txt": "transcript.txt", "html": "transcript.html"}
        return out

    @property
    def base_url(self) -> str:
        # The local default names the guide's folder, output/<guide id>, as `audioguide serve` does whether it
        # serves that folder or output/: the feed's links work both ways. The guide id, not the folder's own
        # name: a build's bytes never depend on where it is written.
        url = self.settings.base_url or self.guide.base_url or DEFAULT_BASE_URL + quote(self.guide.id) + "/"
        return url if url.endswith("/") else url + "/"

    def run(self) -> BuildResult:
        check_out_dir(self.out, self.guide.path, self.settings.cache_dir)
        ffmpeg_exe()
        ffmpeg_exe("ffprobe")
        if not (self.settings.base_url or self.guide.base_url):
            log.warning("No base URL set: the podcast feed points at %s. Set --base-url or `base_url:` in the guide "
                        "to publish it.", self.base_url)
        with OutputLock(self.out):
            owner = Ownership(self.out, self.guide.id)
            owner.refuse_linked_folders(OUTPUT_FOLDERS)
            refuse_foreign_files(owner, self.settings.allow_foreign_files)
            with owner.active():
                return self._run(owner)

    def _run(self, owner: Ownership) -> BuildResult:
        owner.sweep_temp_files(OUTPUT_FOLDERS)
        state = {} if self.settings.clean else _read_state(self.out)
        inputs = inputs_key(self.guide, self.settings, self.engine)
        files = None if self.settings.clean else up_to_date(state, inputs, owner, "manifest.json")
        if files is not None:
            return self._unchanged(state, files)
        with Warnings() as warned:
            return self._build(owner, state, inputs, warned)

    def _unchanged(self, state: dict, files: list[Path]) -> BuildResult:
        for message in state.get("warnings", []):
            log.warning("%s", message)
        log.info("Nothing changed since the last build: every output file is as it was written.")
        self.result.manifest = json.loads((self.out / "manifest.json").read_text("utf-8"))
        self.result.files = files
        return self.result

    def _build(self, owner: Ownership, state: dict, inputs: str, warned: Warnings) -> BuildResult:
        from audioguide.publishers.cover import make_cover

        scripts = self.narrate()
        t0, c0 = time.perf_counter(), _cpu_seconds()
        keys = self.synthesize(scripts)
        self.say.save()
        # CPU time too: on a shared machine it says what synthesis costs when the wall time does not.
        log.debug("Synthesis: %.1f s, %.1f CPU-s.", time.perf_counter() - t0, _cpu_seconds() - c0)
        cover = make_cover(self.guide.title, self.guide.subtitle, self.guide.publisher)
        cover_path = self.out / "cover.jpg"
        update_bytes(cover_path, cover)
        cover_sha = hashlib.sha256(cover).hexdigest()
        chapters = self.guide.chapters
        publishers = {name: cls() for name, cls in publisher_classes().items()}

        # Longest chapters first, publishers' small jobs last: the cores finish together (LPT scheduling).
        # Results do not depend on the order.
        tasks = sorted(chapters, key=lambda ch: -sum(len(s.text) for p in scripts[ch.id] for s in p.segments))
        tasks += [job for p in publishers.values() for job in p.parallel_jobs(self.result)]

        def run_task(task):
            if isinstance(task, Chapter):
                return task.id, self.chapter_task(task, scripts[task.id], keys, cover, cover_sha, state,
                                                  publishers)
            return None, task()

        entries = {cid: e for cid, e in _parallel(self.settings, run_task, tasks, "Encodage") if cid}
        whole = self.whole_audio(chapters, entries, cover, state)
        log.debug("Chapter and whole-guide audio: %.1f s.", time.perf_counter() - t0)
        self.result.manifest = self.manifest(entries, whole)
        for name, publisher in publishers.items():
            t0 = time.perf_counter()
            self.result.files += publisher.publish(self.result)
            log.debug("Publisher %s: %.1f s.", name, time.perf_counter() - t0)
        self.say.save()  # prompts and other late narration join the memo too
        # The manifest goes last: whoever reads it finds every file it names already in place.
        update_bytes(self.out / STATE_FILE, json.dumps({"chapters": entries, "whole": whole, "inputs": inputs,
                                                        "warnings": warned.messages}, sort_keys=True,
                                                       ensure_ascii=False, indent=1).encode("utf-8"))
        _write_json(self.out / "manifest.json", self.result.manifest)
        # Only now, with the new feed and manifest in place, may files they no longer name go.
        for rel in owner.finish():
            log.debug("Removed %s (no longer part of the guide).", rel)
        return self.result


def _cpu_seconds() -> float:
    """User + system time of this process's threads and of the child processes it has waited for."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def _write_json(path: Path, data: dict) -> None:
    update_bytes(path, (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def _read_state(out: Path) -> dict:
    return read_state(out / STATE_FILE, _state_shaped)


def _state_shaped(state) -> bool:
    def entry(e) -> bool:
        return isinstance(e, dict) and isinstance(e.get("key"), str) and isinstance(e.get("pages", []), list) \
            and isinstance(e.get("chapters", []), list) and all(isinstance(c, dict) for c in e.get("chapters", []))

    chapters = state.get("chapters", {})
    return (isinstance(chapters, dict) and all(entry(e) for e in chapters.values())
            and ("whole" not in state or entry(state["whole"])) and isinstance(state.get("inputs", ""), str)
            and isinstance(state.get("warnings", []), list) and all(isinstance(w, str) for w in state["warnings"]))


def _homes() -> set[Path]:
    """The people's home folders (root's and uid 1000 up), not system accounts' (/var/www, /bin…)."""
    homes = {Path.home()}
    homes |= {Path(p.pw_dir) for p in pwd.getpwall() if p.pw_dir and (p.pw_uid == 0 or 1000 <= p.pw_uid < 60000)}
    return {h.resolve() for h in homes}


def check_out_dir(out: Path, guide_file: Path | None, cache_dir: Path) -> None:
    """Refuse output folders where a build would mix its files with the user's: the root, a home folder,
    the guide's own folder or one above it, or one holding the clip cache."""
    target = Path(os.path.abspath(out)).resolve()
    why = None
    if target.parent == target:
        why = "it is the root of the file system"
    elif target in _homes() or target in Path.home().resolve().parents:
        why = "it is a home folder"
    elif guide_file is not None:
        guide_dir = guide_file.resolve().parent
        if target == guide_dir or target in guide_dir.parents:
            why = f"it holds the guide itself ({guide_file})"
    if why is None:
        cache = Path(os.path.abspath(cache_dir)).resolve()
        if cache == target or target in cache.parents:
            why = f"it holds the clip cache ({cache_dir})"
    if why:
        raise ConfigError(f"Output folder {out}: refused, because {why}.",
                          cause="a build writes audio/, transcripts/, phone/… there and replaces what it wrote "
                                "before, so it needs a folder of its own",
                          fix="choose a new or empty folder with --out, e.g. --out output/<guide-id>")


def refuse_foreign_files(owner: Ownership, allowed: bool) -> None:
    """A build needs a folder of its own: one that is new, empty, or holds only what earlier builds of this
    guide wrote and recorded. With --allow-foreign-files it shares the folder, and still never removes a
    file it did not write."""
    unknown, others = owner.foreign_files()
    if not (unknown or others):
        return
    listed = unknown + sorted(others)
    names = ", ".join(listed[:5]) + (f" and {len(listed) - 5} more" if len(listed) > 5 else "")
    what = "files that no audioguide build of this guide recorded"
    if others and not unknown:
        what = f"the build of another guide ({', '.join(sorted(set(others.values())))})"
    if allowed:
        log.warning("Output folder %s also holds %s (%s); they are left in place, except where this build "
                    "writes a file of the same name.", owner.root, what, names)
        return
    raise ConfigError(f"Output folder {owner.root} holds {what}: {names}.",
                      cause="a build replaces and removes the files it wrote there, so it only writes into a "
                            "folder of its own",
                      fix="choose a new or empty --out folder; or, if the folder was made by an older audioguide, "
                          "delete it and build again; or pass --allow-foreign-files to build beside those files "
                          "(they are never removed, but files with the names the build writes are replaced)")


def build(guide_path: str | Path, settings: BuildSettings | None = None) -> BuildResult:
    settings = settings or BuildSettings()
    settings.validate()
    guide = load_guide(guide_path)
    return Builder(guide, settings).run()
