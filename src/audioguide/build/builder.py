"""The build, one named call per stage: lock -> early stop -> narrate -> synthesise -> chapters -> whole ->
publish -> manifest."""

from __future__ import annotations

import hashlib
import json
import logging
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from audioguide.audio import encode_mp3, ffmpeg_exe, loudness_gain
from audioguide.build.assembly import assemble, chapter_key, whole_audio, write_addressed
from audioguide.build.folder import check_out_dir, refuse_foreign_files
from audioguide.build.manifest import MANIFEST, add_entries, manifest, read_build_state, write_json, write_state
from audioguide.config import DEFAULT_BASE_URL, BuildSettings
from audioguide.exceptions import AudioguideError, EngineError
from audioguide.files import digest, matches, update_bytes
from audioguide.freshness import Warnings, inputs_key, up_to_date
from audioguide.guide import Chapter, Guide
from audioguide.i18n import _
from audioguide.output import OutputFolder
from audioguide.publishers import BuildContext, Published, Publisher, publisher_classes
from audioguide.speaker import Speaker
from audioguide.timing import Caption, ChapterTiming
from audioguide.tts import get_engine
from audioguide.tts.cache import ClipCache

if TYPE_CHECKING:
    from audioguide.narration.script import PageScript, Segment
    from audioguide.recordings import Recordings

# Narration, tagging, the cover and the progress bar are imported where used: a rebuild with nothing to do
# needs none of them, and importing them was a third of its time.
log = logging.getLogger("audioguide.build")
# Where builds write besides the publishers' own folders; temp files a killed build left are swept there.
AUDIO_FOLDERS = ("audio",)


@dataclass
class BuildResult:
    """What a build made: plain data."""

    guide: Guide
    settings: BuildSettings
    out_dir: Path
    manifest: dict = field(default_factory=dict)
    synthesized: int = 0
    encoded: int = 0
    phone_encoded: int = 0
    files: list[Path] = field(default_factory=list)


def _progress(settings: BuildSettings, total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="clip" if desc.startswith("Synth") else "file", leave=False,
                disable=not (settings.progress and sys.stderr.isatty()))


def _parallel(settings: BuildSettings, fn: Callable, items: list, desc: str) -> list:
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
        log.warning(_("%s Falling back to %s, as asked with --fallback."), exc.message, settings.fallback)
        engine = get_engine(settings.fallback, settings)
        engine.check()
    if engine.online:
        log.warning(_("The %s engine sends the guide's text to a third party over the internet."), engine.name)
    return engine


def make_speaker(guide: Guide, settings: BuildSettings) -> Speaker:
    """The guide's voice with these settings: the engine checked (or its fallback), the clip cache, the pace
    the guide asks for. What the build, `audioguide listen` and the studio speak with."""
    settings.apply_guide(guide)  # the pace (and so the rate) may come from the guide
    engine = choose_engine(settings)
    cache = ClipCache(settings.cache_dir, ignore_existing=settings.clean)
    return Speaker(guide, engine, cache, Path(settings.cache_dir), settings.pace)


def in_context(exc: AudioguideError, where: str) -> AudioguideError:
    """A copy of `exc` (same kind, cause and fix) whose message starts with where it happened; raised `from`
    the original, which is left as it was."""
    new = type(exc).__new__(type(exc))
    new.__dict__.update(exc.__dict__)
    new.message = f"{where}: {exc.message}"
    Exception.__init__(new, new.message)
    return new


def _cpu_seconds() -> float:
    """User + system time of this process's threads and of the child processes it has waited for."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


class Builder:
    def __init__(self, guide: Guide, settings: BuildSettings, remote=None):
        self.guide = guide
        # remote(engine, [(voice text, key)…], cache): makes those clips elsewhere (a Dask cluster, see
        # catalogue/cluster.py) and keeps their bytes in `cache`. None: here, on `jobs` threads.
        self.remote = remote
        self.settings = settings
        self.speaker = make_speaker(guide, settings)
        self.engine, self.cache = self.speaker.engine, self.speaker.cache
        self.out = Path(settings.out_dir or Path("output") / guide.id)
        self.result = BuildResult(guide, settings, self.out)
        self.folder: OutputFolder | None = None
        self.words: dict[str, list] = {}
        """Clip key -> its words' start times, for clips that hold several captions."""

    @cached_property
    def publishers(self) -> dict[str, Publisher]:
        """Loaded when first needed: a rebuild that stops early imports none of them."""
        return {name: cls() for name, cls in publisher_classes().items()}

    @cached_property
    def recordings(self) -> Recordings:
        """The pages a volunteer has read (recordings/): they replace those pages' synthetic words."""
        from audioguide.recordings import Recordings

        return Recordings(self)

    def parallel(self, fn: Callable, items: list, desc: str) -> list:
        return _parallel(self.settings, fn, items, desc)

    @property
    def voice(self):
        """What the engine hears (the speaker's Voice)."""
        return self.speaker.voice

    @property
    def base_url(self) -> str:
        # The local default names the guide's folder, output/<guide id>, as `audioguide serve` does whether it
        # serves that folder or output/: the feed's links work both ways. The guide id, not the folder's own
        # name: a build's bytes never depend on where it is written.
        url = self.settings.base_url or self.guide.base_url or DEFAULT_BASE_URL + quote(self.guide.id) + "/"
        return url if url.endswith("/") else url + "/"

    def context(self, publisher: Publisher, data: dict[str, Any] | None = None) -> BuildContext:
        state = self.out / publisher.state_file if publisher.state_file else None
        return BuildContext(self.guide, self.settings, self.out, json.loads(json.dumps(data or {})), self.speaker,
                            self._run_jobs, state, self.folder)

    def _run_jobs(self, jobs: list[Callable[[], object]], desc: str) -> None:
        _parallel(self.settings, lambda job: job(), jobs, desc)

    # -- stages --------------------------------------------------------------------------------
    def run(self) -> BuildResult:
        check_out_dir(self.out, self.guide.path, self.settings.cache_dir)
        ffmpeg_exe()
        ffmpeg_exe("ffprobe")
        if not (self.settings.base_url or self.guide.base_url):
            log.warning(_("No base URL set: the podcast feed points at %s. Set --base-url or `base_url:` in the "
                          "guide to publish it."), self.base_url)
        with OutputFolder(self.out, self.guide.id) as out:
            self.folder = out
            # The folders of every file the last build wrote are checked too (files.Ownership): what the
            # publishers will write in is checked once they are loaded, before any of them writes.
            out.owner.refuse_linked_folders(AUDIO_FOLDERS)
            refuse_foreign_files(out.owner, self.settings.allow_foreign_files)
            with out.recording(AUDIO_FOLDERS):
                state = {} if self.settings.clean else read_build_state(self.out)
                inputs = inputs_key(self.guide, self.settings, self.engine)
                files = None if self.settings.clean else up_to_date(state, inputs, out.owner, MANIFEST)
                if files is not None:
                    return self.unchanged(state, files)
                out.claim(tuple(f for p in self.publishers.values() for f in p.folders))
                with Warnings() as warned:
                    self.build(state, inputs)
                    write_state(self.out, self._entries, self._whole, inputs, warned.messages)
                # The manifest goes last: whoever reads it finds every file it names already in place.
                write_json(self.out / MANIFEST, self.result.manifest)
                # Only now, with the new feed and manifest in place, may files they no longer name go.
                for rel in out.finish():
                    log.debug("Removed %s (no longer part of the guide).", rel)
        return self.result

    def unchanged(self, state: dict, files: list[Path]) -> BuildResult:
        for message in state.get("warnings", []):
            log.warning("%s", message)
        log.info(_("Nothing changed since the last build: every output file is as it was written."))
        self.result.manifest = json.loads((self.out / MANIFEST).read_text("utf-8"))
        self.result.files = files
        return self.result

    def build(self, state: dict, inputs: str) -> None:
        scripts = self.narrate()
        keys = self.synthesize(scripts)
        self.recordings.prepare(scripts, keys)  # before any output, so an unreadable recording stops here
        cover = self.cover()
        self._entries = self.chapters(scripts, keys, cover, state)
        self._whole = self.whole(cover, state)
        self.result.manifest = manifest(self.guide, self.settings, self.engine, self.out, self.base_url,
                                        self._entries, self._whole, self.publishers.values())
        self.publish()
        self.speaker.say.save()  # prompts and other late narration join the memo too

    def narrate(self) -> dict[str, list[PageScript]]:
        return {ch.id: self.speaker.writer.chapter(ch) for ch in self.guide.chapters}

    def synthesize(self, scripts: dict[str, list[PageScript]]) -> dict[str, str]:
        """Make every clip missing from the cache; returns text -> clip key."""
        t0, c0 = time.perf_counter(), _cpu_seconds()
        segments = [(f"{p.chapter.id}/{p.page.id}", s) for ps in scripts.values() for p in ps for s in p.segments]
        keys: dict[str, str] = {}
        for _where, seg in segments:
            if seg.text not in keys:
                keys[seg.text] = self.speaker.key(seg.text)
        todo = [(t, k) for t, k in keys.items() if not self.cache.has(k)]
        timed = {seg.text for _where, seg in segments if seg.cuts}
        made = {t for t, _key in todo}
        jobs = todo + [(t, keys[t]) for t in sorted(timed - made)]

        def make(item: tuple[str, str]) -> None:
            text, key = item
            try:
                self.cache.make(self.engine, self.voice(text), key)
                if text in timed:  # a clip holding several captions: its words' times place them
                    self.words[key] = self.cache.words(self.engine, self.voice(text), key)
            except AudioguideError as exc:
                where = next((w for w, s in segments if s.text == text), "?")
                raise in_context(exc, _("Page {where}").format(where=where)) from exc

        if self.remote is not None and todo:
            self.remote(self.engine, [(self.voice(t), k) for t, k in todo], self.cache)
            jobs = [(t, keys[t]) for t in sorted(timed)]  # in the cache now: only their words are timed here
        _parallel(self.settings, make, jobs, _("Synthesis"))
        self.engine.release()  # before the encoders start beside it
        self.result.synthesized = len(todo)
        log.info(_("Synthesised %d clips (%d from cache)."), len(todo), len(keys) - len(todo))
        self.speaker.say.save()
        # CPU time too: on a shared machine it says what synthesis costs when the wall time does not.
        log.debug("Synthesis: %.1f s, %.1f CPU-s.", time.perf_counter() - t0, _cpu_seconds() - c0)
        return keys

    def cover(self) -> bytes:
        from audioguide.publishers.cover import make_cover

        cover = make_cover(self.guide.title, self.guide.subtitle, self.guide.publisher)
        update_bytes(self.out / "cover.jpg", cover)
        return cover

    def chapters(self, scripts: dict[str, list[PageScript]], keys: dict[str, str], cover: bytes,
                 state: dict) -> dict[str, ChapterTiming]:
        """Every chapter's MP3 (and the publishers' per-chapter work), with the publishers' parallel jobs."""
        t0 = time.perf_counter()
        cover_sha = hashlib.sha256(cover).hexdigest()
        contexts = {name: self.context(p) for name, p in self.publishers.items()}
        # Longest chapters first, publishers' small jobs last: the cores finish together (LPT scheduling).
        # Results do not depend on the order.
        tasks: list[Any] = sorted(self.guide.chapters,
                                  key=lambda ch: -sum(len(s.text) for p in scripts[ch.id] for s in p.segments))
        tasks += [job for name, p in self.publishers.items() for job in p.parallel_jobs(contexts[name])]

        def run_task(task):
            if isinstance(task, Chapter):
                old = state.get("chapters", {}).get(task.id)
                return task.id, self.chapter(task, scripts[task.id], keys, cover, cover_sha, old, contexts)
            return None, task()

        done = {cid: e for cid, e in _parallel(self.settings, run_task, tasks, _("Encoding")) if cid}
        log.debug("Chapter audio: %.1f s.", time.perf_counter() - t0)
        return done

    def chapter(self, chapter: Chapter, pages: list[PageScript], keys: dict[str, str], cover: bytes,
                cover_sha: str, old: ChapterTiming | None, contexts: dict[str, BuildContext]) -> ChapterTiming:
        """One worker's job: the chapter MP3 unless it is up to date, and the publishers' per-chapter work
        (the phone pages) from the same assembled audio."""
        key = chapter_key(self.guide, self.settings, chapter, pages, keys, cover_sha, self.recordings.key(chapter))
        fresh = (old is not None and old["key"] == key and "gain_db" in old and isinstance(old.get("mp3"), str)
                 and matches(self.out / old["mp3"], old.get("sha256", "")))
        try:
            with tempfile.TemporaryDirectory(dir=self.speaker.work_dir) as tmpdir:
                wav = Path(tmpdir) / "chapter.wav"
                if fresh:
                    assert old is not None
                    self.hand_over(chapter, pages, keys, old, contexts, wav, assembled=False)
                    return old
                entry = self.encode(chapter, pages, keys, cover, key, wav, contexts)
                self.hand_over(chapter, pages, keys, entry, contexts, wav, assembled=True)
        except AudioguideError as exc:
            where = _("Chapter {id} ({file})").format(id=chapter.id, file=f"audio/{chapter.slug}.mp3")
            raise in_context(exc, where) from exc
        self.result.encoded += 1
        return entry

    def encode(self, chapter: Chapter, pages: list[PageScript], keys: dict[str, str], cover: bytes, key: str,
               wav: Path, contexts: dict[str, BuildContext]) -> ChapterTiming:
        from mutagen.mp3 import MP3

        from audioguide.narration.written import join_sentences
        from audioguide.publishers.mp3 import tag_chapter

        timings = assemble(pages, keys, self.cache, wav, self.captions, self.recordings)
        made = ChapterTiming(key=key, gain_db=0.0, pages=timings)
        taps = [t for n, p in self.publishers.items()
                if (t := p.chapter_tap(contexts[n], chapter, made, wav)) is not None]
        gain = loudness_gain(wav, self.settings, taps=taps)
        transcript = "\n\n".join(join_sentences(t["cues"]) for t in timings)

        def write(tmp: Path) -> None:
            encode_mp3(wav, tmp, self.settings, gain)
            tag_chapter(tmp, self.guide, chapter, timings, transcript, cover, len(self.guide.chapters))

        mp3 = write_addressed(self.out / "audio", chapter.slug, write)
        return ChapterTiming(key=key, gain_db=gain, pages=timings, mp3=f"audio/{mp3.name}", sha256=digest(mp3),
                             duration=round(MP3(mp3).info.length, 3))  # type: ignore[attr-defined]

    def hand_over(self, chapter: Chapter, pages: list[PageScript], keys: dict[str, str], entry: ChapterTiming,
                  contexts: dict[str, BuildContext], wav: Path, assembled: bool) -> None:
        """The assembled chapter to the publishers that want it (an up-to-date chapter is assembled again
        for them only: its clips are cached, this is quick)."""
        takers = [(p, contexts[n]) for n, p in self.publishers.items() if p.wants_chapter(contexts[n], chapter, entry)]
        if takers and not assembled:
            assemble(pages, keys, self.cache, wav, self.captions, self.recordings)
        for p, ctx in takers:
            p.chapter_ready(ctx, chapter, entry, wav)

    def captions(self, seg: Segment, key: str, origin: float, start: float, end: float) -> list[Caption]:
        """The captions of a clip: its written pieces, each starting where the engine says its first word.
        origin: where the clip's first sample (before trimming) falls in the chapter."""
        from audioguide.narration.captions import caption_times

        words = self.words.get(key)
        if words is None:
            words = self.words[key] = self.cache.words(self.engine, self.voice(seg.text), key)
        return caption_times(seg, self.voice(seg.text), words, origin, start, end)  # type: ignore[return-value]

    def whole(self, cover: bytes, state: dict) -> dict:
        entry, encoded = whole_audio(self.guide, self.out, self.guide.chapters, self._entries, cover,
                                     state.get("whole"))
        self.result.encoded += encoded
        return entry

    def publish(self) -> None:
        """Each publisher in turn, after the ones it declares; its entries join the manifest the next ones see."""
        for name, publisher in self.publishers.items():
            t0 = time.perf_counter()
            made = publisher.publish(self.context(publisher, self.result.manifest))
            if not isinstance(made, Published):
                made = Published(list(made))
            self.result.files += made.files
            add_entries(self.result.manifest, made.entries)
            if name == "phone":
                self.result.phone_encoded = made.encoded
            log.debug("Publisher %s: %.1f s.", name, time.perf_counter() - t0)
