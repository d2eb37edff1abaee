"""The DAISY book read by real DAISY software: Debian 12's daisy-player (13.0, the one blind Debian users have)
driven in tmux, and the daisy-dtb library (PyPI).

daisy-player plays each clip through libsox to ALSA's default device. Here that device is ALSA's `file` plugin
writing into a FIFO this test reads: the player cannot get ahead of the test by more than the pipe's buffer,
so every item it reaches is seen on its screen, with no guess about speed, and the audio it played is
measured. Where the machine has no ALSA (containers: no /proc/asound/cards, which daisy-player reads at start
and stops without), the player runs in a mount namespace whose /proc has an empty card list.
"""

from __future__ import annotations

import array
import math
import os
import re
import select
import shutil
import struct
import subprocess
import time
import typing
from pathlib import Path

import pytest
from lxml import etree

from audioguide.publishers import daisy

from conftest import needs_tools

pytestmark = [needs_tools, pytest.mark.e2e]

PLAYER = shutil.which("daisy-player")
TMUX = shutil.which("tmux")
UNSHARE = shutil.which("unshare")
SOX_ALSA = sorted(Path("/usr/lib").glob("*/sox/libsox_fmt_alsa.so"))
SMIL_NPT = re.compile(r"npt=([\d.]+)s")

# Run inside `unshare -m`: $1 a work folder, $2 the book, $3 the FIFO the audio goes to.
RUN_PLAYER = r"""
set -e
W=$1; BOOK=$2; PCM=$3
home=$(getent passwd "$(id -u)" | cut -d: -f6)
if [ ! -r /proc/asound/cards ]; then
  mkdir -p "$W/proc"; mount -t proc proc "$W/proc"; mount -t tmpfs tmpfs /proc
  for e in "$W"/proc/*; do ln -s "$e" "/proc/${e##*/}"; done
  mkdir /proc/asound; : > /proc/asound/cards
fi
# daisy-player keeps its settings and bookmarks in the user's home (from the password file, not $HOME).
mkdir -p "$W/home"; mount --bind "$W/home" "$home"
# ALSA's file plugin: what it plays goes to the FIFO, one WAV stream per clip (mono or stereo, as sox chose).
printf 'pcm.!default { type file; slave.pcm null; file "%s"; format wav }\n' "$PCM" > "$home/.asoundrc"
HOME=$home daisy-player -n "$BOOK" || true
echo "PLAYER EXITED"
cat
"""
PLAYING = re.compile(r"\s\d\d:\d\d \d\d:\d\d\s*$")  # the item playing shows its elapsed and remaining time


def _can_unshare() -> bool:
    if not UNSHARE:
        return False
    return subprocess.run([UNSHARE, "-m", "true"], capture_output=True).returncode == 0


needs_player = pytest.mark.skipif(
    not (PLAYER and TMUX and SOX_ALSA and _can_unshare()),
    reason="needs Debian's daisy-player, libsox-fmt-alsa and tmux (script/bootstrap --test), and unshare -m")


class Player:
    """daisy-player in a tmux pane, its sound read from a FIFO: one WAV stream per clip it plays."""

    def __init__(self, book: Path, tmp: Path):
        self.tmp = tmp
        (tmp / "run.sh").write_text(RUN_PLAYER)
        self.fifo = tmp / "pcm"
        os.mkfifo(self.fifo)
        # Opened before the player: its writes never block on open, and EOF only means "between two clips".
        self.fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        self.sock = tmp / "tmux.sock"
        cmd = f"{UNSHARE} -m sh {tmp / 'run.sh'} {tmp / 'w'} {book} {self.fifo}"
        subprocess.run([TMUX, "-S", self.sock, "new-session", "-d", "-s", "p", "-x", "80", "-y", "24", cmd],
                       check=True)

    def screen(self) -> list[str]:
        return subprocess.run([TMUX, "-S", self.sock, "capture-pane", "-p", "-t", "p"], capture_output=True,
                              text=True, check=True).stdout.splitlines()

    def read(self, timeout: float) -> bytes | None:
        """Sound bytes; b"" when none came within `timeout`; None at the end of a clip (no writer)."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return b""
        data = os.read(self.fd, 8192)
        if not data:
            time.sleep(0.02)  # no writer between two clips: select says "readable" at once, so poll gently
            return None
        return data

    def close(self) -> None:
        subprocess.run([TMUX, "-S", self.sock, "kill-server"], capture_output=True)
        os.close(self.fd)


def rms(samples: bytes) -> float:
    """Root mean square of 16-bit samples."""
    a = array.array("h", samples[: len(samples) // 2 * 2])
    return math.sqrt(sum(x * x for x in a) / len(a)) if a else 0.0


def playing_row(screen: list[str]) -> int | None:
    rows = [i - 2 for i, line in enumerate(screen) if i >= 2 and PLAYING.search(line)]
    return rows[0] if rows else None


def wav_seconds(data: bytes) -> tuple[float, bytes]:
    """(length, samples) of one clip's WAV stream (its sizes are left at 0 on a pipe)."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", data[:16]
    channels, rate = struct.unpack_from("<HI", data, 22)
    bits = struct.unpack_from("<H", data, 34)[0]
    samples = data[data.index(b"data", 36) + 8:]
    return len(samples) / (rate * channels * bits // 8), samples


def play_items(book: Path, tmp: Path, items: int, limit_s: float = 300) -> tuple[list[int], list, list[str]]:
    """Plays the book from its start until the player reaches item `items`: (the items seen playing, in
    order, as their row on the first screen; each clip played, as (the item playing when it began, its WAV
    stream); the last screen)."""
    p = Player(book, tmp)
    order: list[int] = []
    clips: list[tuple[int | None, bytearray]] = []
    in_clip = False
    screen: list[str] = []
    deadline = time.monotonic() + limit_s  # bounded: a player that never plays fails, it does not hang
    try:
        # Until the first clip of item `items` begins: every clip before it has then been read to its end.
        while time.monotonic() < deadline and not (clips and clips[-1][0] == items):
            data = p.read(0.2)
            screen = p.screen()
            if any("PLAYER EXITED" in line for line in screen):
                break
            row = playing_row(screen)
            if row is not None and (not order or row != order[-1]):
                order.append(row)
            if data is None:
                in_clip = False
            elif data:
                if not in_clip:  # a clip's first bytes: the player has chosen its item, and waits for us
                    clips.append((row, bytearray()))
                    in_clip = True
                clips[-1][1].extend(data)
    finally:
        p.close()
    return order, [(row, bytes(data)) for row, data in clips], screen


def ncc_items(folder: Path) -> list[tuple[str, str]]:
    """(title, smil#fragment) of each NCC entry."""
    body = etree.parse(str(folder / "ncc.html")).getroot().find("{http://www.w3.org/1999/xhtml}body")
    return [("".join(a.itertext()), a.get("href")) for a in body.iter("{http://www.w3.org/1999/xhtml}a")]


def item_seconds(folder: Path) -> list[float]:
    """How long each NCC item plays: its clips, from the par it opens to the next item's."""
    pars: list[tuple[str, float]] = []  # (smil#text id, clip length), in reading order
    for ref in etree.parse(str(folder / "master.smil")).iterfind("body/ref"):
        for par in etree.parse(str(folder / ref.get("src"))).iterfind("body/seq/par"):
            begin, end = (float(SMIL_NPT.match(par.find("seq/audio").get(k)).group(1))
                          for k in ("clip-begin", "clip-end"))
            pars.append((f"{ref.get('src')}#{par.find('text').get('id')}", end - begin))
    starts = [next(i for i, (ref, _) in enumerate(pars) if ref == href) for _, href in ncc_items(folder)]
    ends = starts[1:] + [len(pars)]
    return [sum(s for _, s in pars[a:b]) for a, b in zip(starts, ends)]


@needs_player
def test_debians_daisy_player_plays_the_book_from_item_to_item(esante_build, tmp_path):
    """Debian 12's daisy-player, from the start of the e-santé book: the title, the introduction, its pages,
    the first part… each item shows as playing in turn, and the sound it plays while each item is shown lasts
    as long as that item's clips, give or take an MP3 frame per clip. With NCC links to par ids it played nothing
    and ran to the end of the book in a few seconds."""
    folder = esante_build.out_dir / "daisy"
    items = 7
    order, clips, screen = play_items(folder, tmp_path, items)
    assert order[:items + 1] == list(range(items + 1)), ("\n".join(screen), order)
    titles = [t for t, _ in ncc_items(folder)]
    for row in range(items):
        assert screen[2 + row].strip().startswith(titles[row][:20]), (screen[2 + row], titles[row])
    lengths = item_seconds(folder)
    played: dict[int, float] = {}
    for row, data in clips:
        if row == items:  # the next item's first clip, cut short by the end of the test
            continue
        seconds, samples = wav_seconds(data)
        played[row] = played.get(row, 0.0) + seconds
        assert rms(samples) > 300, (row, titles[row])  # speech, not silence
    for row in range(items):
        # madplay decodes whole MP3 frames, and the player plays a run of clips of one file as one clip:
        # measured within 0.1 s on the short items, 0.2 s on an item of 90 s.
        assert abs(played[row] - lengths[row]) < 0.15 + 0.005 * lengths[row], (row, titles[row], played[row],
                                                                              lengths[row])


@needs_player
def test_the_harness_hears_nothing_from_a_book_linked_to_par_ids(esante_build, tmp_path):
    """The harness itself, on the book with its NCC links to par ids as they were: daisy-player 13.0 runs
    through the book without playing a sample and exits."""
    folder = tmp_path / "book"
    shutil.copytree(esante_build.out_dir / "daisy", folder)
    ncc = (folder / "ncc.html").read_text("utf-8")
    (folder / "ncc.html").write_text(re.sub(r'(href="s\d+\.smil#[^"]+)-t"', r'\1"', ncc), "utf-8")
    (tmp_path / "run").mkdir()
    order, clips, screen = play_items(folder, tmp_path / "run", 7)
    assert any("PLAYER EXITED" in line for line in screen), screen
    assert clips == []


# --- daisy-dtb ---------------------------------------------------------------------------------------------

def _daisy_dtb():
    """daisy-dtb (0.0.17) is written for Python 3.12, but of 3.12 it only imports typing.override, a decorator
    that does nothing at run time; the rest of its code compiles and runs on 3.11."""
    if not hasattr(typing, "override"):
        typing.override = lambda f: f
    import daisy_dtb
    from loguru import logger

    logger.remove()  # its debug log goes to stderr by default
    return daisy_dtb


@pytest.mark.parametrize("which", ["mini_build", "esante_build"])
def test_daisy_dtb_reads_every_clip_of_the_zip(which, request):
    """daisy-dtb opens the published zip and finds, per SMIL file, every par with its clip as written: the same
    source, begin and end. With <audio> directly in <par> it found none (0 of 606 on e-santé)."""
    result = request.getfixturevalue(which)
    lib = _daisy_dtb()
    book = lib.DaisyBook(lib.ZipDtbSource(str(result.out_dir / result.manifest["downloads"]["daisy"]["path"])))
    folder = result.out_dir / "daisy"
    assert book.title == result.manifest["guide"]["title"]
    assert [e.text for e in book.toc_entries] == [t for t, _ in ncc_items(folder)]
    found: dict[str, list] = {}
    for smil in book.smils:  # one per NCC entry: entries in one file give the same file again
        found.setdefault(smil.reference.resource, [(s.id, [(c.src, round(c.begin, 3), round(c.end, 3))
                                                            for c in s.clips]) for s in smil.sections])
    written: dict[str, list] = {}
    for ref in etree.parse(str(folder / "master.smil")).iterfind("body/ref"):
        written[ref.get("src")] = [
            (par.get("id"), [(a.get("src"), *(float(SMIL_NPT.match(a.get(k)).group(1))
                                              for k in ("clip-begin", "clip-end")))
                             for a in par.iterfind("seq/audio")])
            for par in etree.parse(str(folder / ref.get("src"))).iterfind("body/seq/par")]
    assert found == written
    assert all(len(clips) == 1 for pars in found.values() for _, clips in pars)
    title_s = result.manifest["daisy"]["title"]["ms"] / 1000
    assert found["s001.smil"][0] == ("title", [(daisy.TITLE_MP3, 0.0, pytest.approx(title_s))])
