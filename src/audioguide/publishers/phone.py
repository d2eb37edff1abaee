"""phone/: the IVR bundle. Menu model, telephony audio for every prompt and page, Asterisk dialplan, VoiceXML."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import threading
import wave
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audioguide.audio import Tap, encoders, gain_to, loudness
from audioguide.files import digest, matches, update_bytes
from audioguide.i18n import _
from audioguide.phone.asterisk import FORMAT_MODULES, MODULES, context, dialplan, sound_dir, used
from audioguide.phone.audio import FORMATS, PHONE_LUFS, export, export_many, tap
from audioguide.phone.menu import MAX_TIMEOUTS, PhoneMenu, build_menu, segment_cues, segment_id
from audioguide.phone.voicexml import voicexml
from audioguide.publishers import BuildContext, Published, Publisher
from audioguide.timing import ChapterTiming, Cue, PageTiming, without_end_cue

if TYPE_CHECKING:
    from audioguide.speaker import Speaker

PHONE_VERSION = 5  # bump when the telephony chain changes in a way the keys below would not see
STATE = ".build-phone.json"
END_CUE_CUT_S = 0.4  # the phone says its own end of chapter and returns to its menu, so the end cue is cut off


def _key(*parts) -> str:
    return hashlib.sha256(json.dumps([PHONE_VERSION, FORMATS, encoders(), *parts], sort_keys=True,
                                     ensure_ascii=False).encode()).hexdigest()


def phone_cues(pages: list[PageTiming], i: int) -> list[Cue]:
    """Page i's cues as the phone plays them: without the end cue ("Fin du sujet"), which the phone says itself."""
    return without_end_cue(pages[i]["cues"])


def page_spans(chapter: ChapterTiming) -> list[tuple[float, float]]:
    """Each page's span in the chapter audio; the last one ends just after its last phone cue."""
    pages = chapter["pages"]
    spans = [(p["start"], p["end"]) for p in pages]
    last = phone_cues(pages, len(pages) - 1)
    if len(last) < len(pages[-1]["cues"]):
        spans[-1] = (spans[-1][0], round(last[-1]["end"] + END_CUE_CUT_S, 3))
    return spans


def segment_spans(chapter: ChapterTiming) -> list[list[tuple[float, float]]]:
    """Each page's segments (menu.segment_cues) as spans of the chapter audio. A cut falls in the middle of the
    pause between two sentences, so the segments played in a row sound like the page."""
    out = []
    for i, (start, end) in enumerate(page_spans(chapter)):
        groups = segment_cues(phone_cues(chapter["pages"], i))
        cuts = [start] + [round((a[-1]["end"] + b[0]["start"]) / 2, 3) for a, b in zip(groups, groups[1:])] + [end]
        out.append(list(zip(cuts, cuts[1:])))
    return out


def page_cues(manifest: Mapping[str, Any]) -> dict[tuple[str, str], list[Cue]]:
    return {(ch["id"], p["id"]): phone_cues(ch["pages"], i)
            for ch in manifest["chapters"] for i, p in enumerate(ch["pages"])}


class PhonePublisher(Publisher):
    name = "phone"
    folders = ("phone", "phone/sounds")
    state_file = f"phone/{STATE}"

    def entries(self, guide) -> dict:
        return {"phone": {"menu": "phone/menu.json", "asterisk": "phone/extensions.conf",
                          "voicexml": "phone/guide.vxml", "readme": "phone/README.md", "sounds": "phone/sounds/"}}

    def __init__(self):
        # Per chapter id or prompt id: the key of what its sounds were made from, and each sound's sha256 when
        # written. A sound is up to date only if it still holds those bytes: a 0-byte file, garbage, or another
        # guide's sound left by a killed build is made again.
        self.keys: dict[str, dict] = {}
        self.exported = 0
        self.tapped: set[str] = set()
        self._state: dict | None = None
        self._lock = threading.Lock()

    def _old(self, ctx: BuildContext) -> dict:
        with self._lock:
            if self._state is None:
                self._state = ctx.previous()
            return self._state

    @staticmethod
    def _fresh(sounds: Path, names: list[str], key: str, old) -> bool:
        if not isinstance(old, dict) or old.get("key") != key or not isinstance(old.get("sha256"), dict):
            return False
        files = [f"{n}.{e}" for n in names for e in FORMATS]
        return set(old["sha256"]) == set(files) and all(matches(sounds / f, old["sha256"][f]) for f in files)

    @staticmethod
    def _made(sounds: Path, names: list[str], key: str) -> dict:
        return {"key": key, "sha256": {f"{n}.{e}": digest(sounds / f"{n}.{e}") for n in names for e in FORMATS}}

    def _chapter_job(self, chapter, entry: ChapterTiming) -> tuple[list[str], list[tuple[float, float]], str]:
        names, spans = [], []
        for i, page in enumerate(segment_spans(entry), 1):
            names += [segment_id(chapter, i, k) for k in range(1, len(page) + 1)]
            spans += page
        # The gain comes from the chapter's own loudness (entry["key"] fixes its audio), not the MP3's gain.
        return names, spans, _key("chapter", entry["key"], spans, names, PHONE_LUFS)

    def wants_chapter(self, ctx: BuildContext, chapter, entry: ChapterTiming) -> bool:
        if chapter.id in self.tapped:  # made in the chapter's limiter pass
            return False
        names, _, key = self._chapter_job(chapter, entry)
        old = self._old(ctx).get(chapter.id)
        if old is not None and self._fresh(ctx.out_dir / "phone" / "sounds", names, key, old):
            self.keys[chapter.id] = old
            return False
        return True

    def chapter_tap(self, ctx: BuildContext, chapter, entry: ChapterTiming, wav: Path) -> Tap | None:
        """chapter_ready's sounds, made in the chapter's limiter pass: one ffmpeg start and WAV read fewer."""
        if not self.wants_chapter(ctx, chapter, entry):
            return None
        names, spans, key = self._chapter_job(chapter, entry)
        sounds = ctx.out_dir / "phone" / "sounds"

        def done() -> None:
            with self._lock:
                self.exported += 1
                self.tapped.add(chapter.id)
            self.keys[chapter.id] = self._made(sounds, names, key)

        return tap(wav, [(sounds / n, s, e) for n, (s, e) in zip(names, spans)], gain_to(PHONE_LUFS, loudness(wav)),
                   done)

    def chapter_ready(self, ctx: BuildContext, chapter, entry: ChapterTiming, wav: Path) -> None:
        """Cut this chapter's pages from its assembled audio, levelled to the phone target as the prompts are.

        Not from the MP3's gain: that one makes up what the MP3's limiter takes (about 2 dB on espeak-ng), and
        the pages do not go through that limiter, so they came out ~1.5 LU louder than the prompts."""
        names, spans, key = self._chapter_job(chapter, entry)
        gain = gain_to(PHONE_LUFS, loudness(wav))
        sounds = ctx.out_dir / "phone" / "sounds"
        export(wav, [(sounds / n, s, e) for n, (s, e) in zip(names, spans)], gain)
        with self._lock:
            self.exported += 1
        self.keys[chapter.id] = self._made(sounds, names, key)

    def parallel_jobs(self, ctx: BuildContext) -> list:
        """One job per menu prompt whose sounds are missing or stale. Prompts depend on the guide only."""
        sounds = ctx.out_dir / "phone" / "sounds"
        old = self._old(ctx)
        todo = []
        for pid, prompt in build_menu(ctx.guide).prompts.items():
            if prompt.kind != "prompt" or pid in self.keys:
                continue
            clips = ctx.speaker.prompt_clips(prompt.text)
            key = _key("prompt", [k for _, k, _ in clips], [p for *_, p in clips], PHONE_LUFS)
            if self._fresh(sounds, [pid], key, old.get(pid)):
                self.keys[pid] = old[pid]
            else:
                self.keys[pid] = {"key": key}  # claimed; the job adds the hashes
                todo.append((pid, clips, key))
        # One job, one ffmpeg run for all the prompts: each is short, and an ffmpeg start costs more than its audio.
        return [functools.partial(self._make_prompts, ctx.speaker, sounds, todo)] if todo else []

    def _make_prompts(self, speaker: Speaker, sounds: Path, todo: list) -> None:
        with contextlib.ExitStack() as stack:
            wavs = [stack.enter_context(speaker.speak(clips)) for _pid, clips, _k in todo]
            export_many([(wav, [(sounds / pid, None, None)], gain_to(PHONE_LUFS, loudness(wav)))
                         for wav, (pid, _clips, _k) in zip(wavs, todo)])
        with self._lock:
            self.exported += len(todo)
        for pid, _clips, key in todo:
            self.keys[pid] = self._made(sounds, [pid], key)

    def publish(self, result: BuildContext) -> Published:
        manifest = result.manifest
        folder = result.out_dir / "phone"
        sounds = folder / "sounds"
        menu = build_menu(result.guide, page_cues(manifest))
        missing = [ch["id"] for ch in manifest["chapters"] if ch["id"] not in self.keys]
        if missing:  # the builder hands every chapter over; this guards against a publisher used alone
            raise RuntimeError(f"phone publisher: chapters not handed over: {missing}")

        late = self.parallel_jobs(result)  # normally run by the builder with the chapters; none left then
        result.run(late, _("Phone"))

        # Sounds no longer in the menu are removed by the build, after the manifest: only files it recorded.
        plan = dialplan(menu)
        files = {
            "menu.json": menu.to_json().encode(),
            "extensions.conf": plan.encode(),
            "guide.vxml": voicexml(menu),
            "README.md": bundle_readme(menu, manifest, plan, sounds).encode(),
        }
        for name, data in files.items():
            update_bytes(folder / name, data)
        result.remember(self.keys)
        return Published([folder / n for n in files] + sorted(sounds / f"{n}.{e}" for n in menu.prompts
                                                              for e in FORMATS), encoded=self.exported)


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def sound_figures(menu: PhoneMenu, sounds: Path) -> dict[str, float | int]:
    """What a caller sits through, measured from the bundle's own .wav files (seconds)."""
    def secs(pid: str) -> float:
        return wav_seconds(sounds / f"{pid}.wav")

    menus = [n for n in menu.nodes.values() if n.kind == "menu"]
    segments = [secs(sid) for n in menu.nodes.values() for page in n.pages for sid in page]
    return {"welcome": secs("welcome"), "main_menu": secs(menu.nodes[menu.root].prompt),
            "longest_menu": max(secs(n.prompt) for n in menus), "segments": len(segments),
            "longest_segment": max(segments, default=0.0), "pages": sum(segments)}


def _s(x: float) -> str:
    return f"{x:.1f} s".replace(".", ",")  # French decimals


def _min(n: int) -> str:
    return f"{n} minute{'s' if n > 1 else ''}"  # French: 0 and 1 are singular


def bundle_readme(menu: PhoneMenu, manifest: Mapping[str, Any], plan: str, sounds: Path) -> str:
    """The bundle's README, in French whatever the operator's language: it is published, and a build's bytes
    never depend on the machine that made them (no gettext here)."""
    snd, ctx = sound_dir(menu), context(menu)
    mins = round(sum(c["duration"] for c in manifest["chapters"]) / 60)
    fig = sound_figures(menu, sounds)
    need: dict[str, list[str]] = {}
    for name in used(plan):
        need.setdefault(MODULES[name], []).append(f"`{name}`")
    calls = "\n".join(f"- {', '.join(names)} : {where}" for where, names in need.items())
    load = ["pbx_config"] + sorted({m for m in need if not m.startswith("core")} | set(FORMAT_MODULES.values()))
    return f"""# Ligne téléphonique pour « {menu.title} »

Ce dossier est un serveur vocal interactif (SVI) prêt à installer : les appelants écoutent le guide
({_min(mins)}) en choisissant sur le clavier de leur téléphone. Il a été produit par audioguide : pour le
changer, reconstruisez le guide plutôt que de modifier ces fichiers.

## Ce qu'entend un appelant (mesuré sur les fichiers son de cette construction)
- L'accueil : {_s(fig["welcome"])} ; une touche pressée pendant l'accueil agit aussitôt.
- Le menu principal : {_s(fig["main_menu"])} ; le menu le plus long : {_s(fig["longest_menu"])}.
- Les pages : {fig["segments"]} segments, {_min(round(fig["pages"] / 60))} en tout, le plus long \
{_s(fig["longest_segment"])}.

## Les touches des appelants
- 1 à 9 : choisir dans un menu ; 0 : réécouter le menu ; `*` : revenir en arrière ; `#` : menu principal. Une
  touche pressée pendant l'accueil agit aussitôt, comme dans le menu principal.
- Pendant une page : 6 page suivante, 4 page précédente, 5 réécouter cette page, 0 la liste des touches (la
  page reprend ensuite au segment où elle en était : les pages sont coupées entre deux phrases en segments,
  dont le plus long est donné plus haut).
- À la fin d'un sujet : 6 le sujet suivant, 5 réécouter ce sujet, 4 sa dernière page ; sans touche, retour
  au menu.
- Si personne ne presse de touche, un menu est joué {MAX_TIMEOUTS + 1} fois, puis l'appel se termine poliment.

## Les fichiers
- `sounds/` : chaque message et chaque page en cinq formats : `.sln` et `.wav` (8 kHz, 16 bits, mono),
  `.ulaw` (G.711 loi μ), `.alaw` (G.711 loi A, le codec habituel en Europe) et `.g722` (large bande 16 kHz).
  Asterisk prend celui qui correspond au codec de chaque appel : rien n'est transcodé pendant un appel.
- `extensions.conf` : le plan de numérotation (dialplan), un contexte par menu, en commençant par `[{ctx}]`.
- `guide.vxml` : le même menu en document VoiceXML 2.1, pour les plateformes vocales hébergées ; il joue les
  fichiers `sounds/*.wav`. Il est valide selon le schéma et la DTD VoiceXML 2.1 du W3C.
- `menu.json` : le modèle du menu dont les deux sont tirés (`audioguide phone` le joue dans un terminal).

## Ce dont le plan de numérotation a besoin
Asterisk 1.8 ou plus récent (le plan utilise des lignes `same =>`, des priorités nommées, `TIMEOUT(digit)` et
`CHANNEL(language)`). Debian 12 n'a pas de paquet `asterisk` : installez Asterisk depuis ses sources
(www.asterisk.org), ou depuis votre distribution si elle en a un ; un Asterisk compilé depuis les sources a
chargé ce plan sans un avertissement.

Ce qu'il appelle, et où cela se trouve dans Asterisk :
{calls}

Modules à charger (`autoload=yes` dans `modules.conf` les charge tous) : {", ".join(f"`{m}`" for m in load)}
(`pbx_config` lit `extensions.conf` ; les modules `format_` lisent les fichiers son).

## Installer sur Asterisk
1. Copiez les sons là où Asterisk cherche les messages en français (le `astdatadir` de `asterisk.conf` ;
   `/var/lib/asterisk` pour une installation depuis les sources) :

       sudo mkdir -p /var/lib/asterisk/sounds/fr/{snd}
       sudo cp sounds/* /var/lib/asterisk/sounds/fr/{snd}/

   (Le paquet d'une distribution peut utiliser `/usr/share/asterisk/sounds/fr/{snd}` à la place.)

2. Copiez le plan de numérotation et incluez-le depuis `/etc/asterisk/extensions.conf` :

       sudo cp extensions.conf /etc/asterisk/audioguide-{menu.guide_id}.conf
       echo '#include "audioguide-{menu.guide_id}.conf"' | sudo tee -a /etc/asterisk/extensions.conf

3. Envoyez-lui les appels depuis le contexte où arrive votre numéro de téléphone ou votre trunk SIP, par
   exemple :

       exten => 100,1,Goto({ctx},s,1)

4. Rechargez, puis appelez : `sudo asterisk -rx "dialplan reload"`.

## Essayer sans téléphone
    audioguide phone output/{menu.guide_id} --keys "1 6 4 * #"

affiche chaque message tel qu'il serait entendu (et le joue, sauf avec `--mute`).
"""
