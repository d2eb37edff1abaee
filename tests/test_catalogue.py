"""`audioguide catalogue build`: many guides, here or on a real Dask cluster, with a local build's bytes.

Real espeak-ng, ffmpeg and Dask: a LocalCluster of 2 worker processes, and a `dask scheduler` with 2
`dask worker` processes started here on 127.0.0.1. Faults are injected at points the build reports (a number
of clips kept by the client), never after a guessed time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from audioguide.build import build
from audioguide.files import OWNERSHIP_NAME

from conftest import DATA, ESANTE, needs_tools, settings_for

pytestmark = [needs_tools, pytest.mark.e2e]
distributed = pytest.importorskip("distributed")
BIN = Path(sys.executable).parent
MADE = """\
id: fait-main
title: Un guide écrit par le test
publisher: Association Test
language: fr-FR
date: 2024-05-02
chapters:
  - id: rendez-vous
    title: Le rendez-vous
    pages:
      - id: avant
        title: Avant
        blocks:
          - p: Apportez votre carte Vitale et la liste de vos médicaments.
          - p: Le rendez-vous dure environ vingt minutes.
"""


def tree(folder: Path) -> dict[str, str]:
    """sha256 of every file, the ownership journal aside (it records times and inode numbers)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != OWNERSHIP_NAME}


def make_catalogue(root: Path, esante: bool = False, bad: bool = False) -> Path:
    cat = root / "catalogue"
    cat.mkdir()
    for name in ("mini", "two-level"):
        shutil.copytree(DATA / name, cat / name)
    (cat / "fait-main").mkdir()
    (cat / "fait-main" / "guide.yaml").write_text(MADE, "utf-8")
    if esante:
        shutil.copytree(ESANTE, cat / "e-sante")
    if bad:
        (cat / "zz-casse").mkdir()
        (cat / "zz-casse" / "guide.yaml").write_text(MADE.replace("title: Le rendez-vous\n", "titre: oups\n"),
                                                     "utf-8")
    return cat


def reference(cat: Path, tmp: Path, made: list | None = None) -> dict[str, dict[str, str]]:
    """Each good guide of the catalogue built alone, as `audioguide build` does, with a cache of its own;
    `made` gets the number of text clips each build synthesised."""
    refs = {}
    for g in sorted(p for p in cat.iterdir() if p.is_dir() and p.name != "zz-casse"):
        result = build(g, settings_for(tmp, out_dir=tmp / "ref" / g.name, cache_dir=tmp / "ref-cache"))
        refs[result.guide.id] = tree(result.out_dir)
        if made is not None:
            made.append(result.synthesized)
    return refs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clips_in(cache: Path) -> int:
    return sum(1 for _ in (cache / "clips").glob("*/*.wav")) if (cache / "clips").exists() else 0


def test_local_cluster_same_bytes_with_a_worker_killed(tmp_path, monkeypatch):
    """e-santé and three small guides on a LocalCluster of 2 processes; one worker is killed after the client
    has kept 20 clips. Every guide's files are a local build's bytes, phone bundle and books included."""
    from distributed import Client, LocalCluster

    from audioguide.catalogue import build_catalogue
    from audioguide.config import BuildSettings

    cat = make_catalogue(tmp_path, esante=True)
    refs = reference(cat, tmp_path)
    monkeypatch.setenv("AUDIOGUIDE_WORKER_CACHE", str(tmp_path / "worker-cache"))  # inherited by the workers
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      host="127.0.0.1") as cluster, Client(cluster) as watcher:
        pids = list(watcher.run(os.getpid).values())
        assert len(pids) == 2
        kept = {"n": 0, "killed": None}

        def on_clip():
            kept["n"] += 1
            if kept["n"] == 20:
                os.kill(pids[0], signal.SIGKILL)
                kept["killed"] = pids[0]

        settings = BuildSettings(cache_dir=tmp_path / "cache", progress=False)
        result = build_catalogue(cat, tmp_path / "out", settings, scheduler=cluster.scheduler_address,
                                 on_clip=on_clip)
        assert kept["killed"] and kept["n"] > 20
        assert pids[0] not in watcher.run(os.getpid).values()  # the worker did die; its nanny started another
    assert not result.failed
    assert {o.id for o in result.outcomes} == set(refs) == {"e-sante", "mini", "two-level", "fait-main"}
    for gid, ref in refs.items():
        got = tree(tmp_path / "out" / gid)
        assert got == ref, gid
        assert any(k.startswith("phone/sounds/") for k in got) and any(k.endswith(".epub") for k in got)
    # Every clip of the guides' text was made on the workers (the client only makes the phone prompts).
    assert sum(o.synthesized for o in result.outcomes) > 0 and clips_in(tmp_path / "worker-cache") > 0
    index = json.loads((tmp_path / "out" / "catalogue.json").read_text())
    assert [g["id"] for g in index["guides"]] == sorted(refs) and index["failed"] == []


@pytest.fixture
def dask_cluster(tmp_path):
    """A real `dask scheduler` and 2 `dask worker` processes on 127.0.0.1, ready when the scheduler says so."""
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "AUDIOGUIDE_WORKER_CACHE": str(tmp_path / "worker-cache")}
    procs = [subprocess.Popen([BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", "127.0.0.1:0"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen([BIN / "dask", "worker", address, "--nthreads", "1", "--host",
                                           "127.0.0.1", "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        # Bounded waits on the scheduler's own answer, not sleeps.
        with Client(address, timeout="120s") as c:
            c.wait_for_workers(2, timeout=300)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()


def run_cli(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([BIN / "audioguide", *map(str, args)], capture_output=True, text=True, **kw)


@pytest.mark.french
def test_real_scheduler_client_killed_then_resumed_and_a_bad_guide(tmp_path, dask_cluster):
    """The client is killed once it has kept 12 clips; the next run resumes from its cache and journal and
    ends with a local build's bytes. The broken guide fails alone: listed in the summary, exit status 1."""
    cat = make_catalogue(tmp_path, bad=True)
    made: list[int] = []
    refs = reference(cat, tmp_path, made)
    out, cache = tmp_path / "out", tmp_path / "cache"
    args = ["catalogue", "build", cat, "--out", out, "--cache", cache, "--scheduler", dask_cluster]
    client = subprocess.Popen([BIN / "audioguide", *map(str, args)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600
        while clips_in(cache) < 12 and client.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # polling the build's own record of its progress
        assert client.poll() is None, "the build ended before the client could be killed"
        client.kill()
    finally:
        client.wait()
    before = clips_in(cache)
    assert before >= 12

    done = run_cli(*args)
    assert done.returncode == 1, done.stderr
    assert "ÉCHEC" in done.stderr and "zz-casse" in done.stderr and "titre" in done.stderr
    assert "3 guide(s) construit(s), 1 en échec" in done.stdout
    synthesized = sum(int(line.split(": ")[1].split()[0]) for line in done.stdout.splitlines()
                      if line.startswith("OK "))
    # The text clips kept before the kill were not asked for again (the first guide's all came before its prompts).
    assert 0 < synthesized < sum(made)
    assert "Grappe Dask" in done.stderr and "tableau de bord" in done.stderr
    for gid, ref in refs.items():
        assert tree(out / gid) == ref, gid
    index = json.loads((out / "catalogue.json").read_text())
    assert [g["id"] for g in index["guides"]] == ["fait-main", "mini", "two-level"]
    assert [f["source"].rsplit("/", 1)[-1] for f in index["failed"]] == ["zz-casse"]


def test_unreachable_scheduler_says_so_and_publishes_nothing(tmp_path):
    cat = make_catalogue(tmp_path)
    out = tmp_path / "out"
    done = run_cli("catalogue", "build", cat, "--out", out, "--cache", tmp_path / "cache", "--scheduler",
                   f"tcp://127.0.0.1:{free_port()}")
    assert done.returncode == 1
    assert "Impossible de joindre l'ordonnanceur Dask" in done.stderr and "dask scheduler" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


@pytest.mark.french
def test_embedded_catalogue_yaml_shared_settings_index_and_a_bad_guide(tmp_path):
    """No scheduler: today's local pool. The shared base URL gives each guide its own address; the bad guide
    is listed, the others are built as `audioguide build` with those settings builds them."""
    cat = make_catalogue(tmp_path, bad=True)
    shutil.rmtree(cat / "two-level")
    (cat / "catalogue.yaml").write_text("title: Les guides de l'association\nbase_url: https://exemple.fr/g\n"
                                        "pace: lent\nguides: [mini, zz-casse, fait-main, absent]\n", "utf-8")
    out = tmp_path / "out"
    done = run_cli("catalogue", "build", cat, "--out", out, "--cache", tmp_path / "cache", "-j", "2")
    assert done.returncode == 1
    assert "2 guide(s) construit(s), 2 en échec" in done.stdout
    assert "zz-casse" in done.stderr and "absent" in done.stderr and "Traceback" not in done.stderr
    for gid in ("mini", "fait-main"):
        ref = build(cat / gid, settings_for(tmp_path, out_dir=tmp_path / "ref" / gid, pace="lent",
                                            base_url=f"https://exemple.fr/g/{gid}/"))
        assert tree(out / gid) == tree(ref.out_dir), gid
    index = json.loads((out / "catalogue.json").read_text())
    assert index["title"] == "Les guides de l'association"
    mini = next(g for g in index["guides"] if g["id"] == "mini")
    assert mini["feed_url"] == "https://exemple.fr/g/mini/feed.xml"
    assert (out / mini["epub"]).exists() and (out / mini["daisy"]).exists() and (out / mini["kiosk"]).exists()
    opml = (out / "feeds.opml").read_text()
    assert 'xmlUrl="https://exemple.fr/g/fait-main/feed.xml"' in opml
    page = (out / "index.html").read_text()
    assert '<html lang="fr">' in page and 'href="mini/kiosk/index.html"' in page


def test_catalogue_file_errors_name_the_file_line_and_field(tmp_path):
    from audioguide.catalogue import load_catalogue
    from audioguide.exceptions import ConfigError

    (tmp_path / "catalogue.yaml").write_text("title: x\nvitesse: 3\npace: rapide\nguides: mini\n", "utf-8")
    with pytest.raises(ConfigError) as err:
        load_catalogue(tmp_path)
    text = str(err.value)
    assert str(tmp_path / "catalogue.yaml") in text and "vitesse" in text and "rapide" in text
    assert "`guides`" in text and "Fix:" in text
    (tmp_path / "catalogue.yaml").write_text("guides: [a\n", "utf-8")
    with pytest.raises(ConfigError, match=r"catalogue\.yaml:2: this is not valid YAML"):
        load_catalogue(tmp_path)
    (tmp_path / "catalogue.yaml").unlink()
    with pytest.raises(ConfigError, match="no guide in it"):
        load_catalogue(tmp_path)
