"""A page read aloud in the studio (issue 28): recorded with the browser's microphone (static/record.js,
MediaRecorder) or uploaded as a file. The take is kept aside, heard and assessed (its length against the text,
clipped, noisy) before "Garder" puts it at recordings/<chapter-id>/<page-id>.<ext> inside the guide's folder; a
recording it replaces, or one removed, is set aside in recordings/<chapter-id>/anciennes/ (recordings/store.py)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse
from starlette.routing import Route

from audioguide.exceptions import AudioguideError, GuideError
from audioguide.recordings import store
from audioguide.recordings.find import EXTENSIONS, declared
from audioguide.studio import safety
from audioguide.studio.app import Refused, Studio, env, fail, find_page, need_guide, page, posted

MAX_TAKE_S = 15 * 60
"""The recorder stops itself there: a page is read in a few minutes; 15 min of Opus stay far under the upload limit."""
MEDIA = {".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".ogg": "audio/ogg",
         ".webm": "audio/webm"}
_TAKE = re.compile(r"[0-9a-f]{16}\.(?:wav|flac|mp3|m4a|ogg|webm)")


def duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s} s" if s < 60 else f"{s // 60} min {s % 60:02d} s"


env.filters["duree"] = duration


def audio_kind(name: str, head: bytes) -> str:
    """The take's suffix if its name and first bytes agree on a sound format the build reads; else a French error."""
    suffix = Path(name).suffix.lower()
    if suffix not in EXTENSIONS:
        raise AudioguideError(f"« {name} » n'est pas un fichier son que le studio sait lire.",
                              fix="déposez un fichier WAV, FLAC, MP3, M4A, OGG ou WebM")
    ok = {".wav": head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE",
          ".flac": head.startswith(b"fLaC"),
          ".mp3": head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0),
          ".m4a": head[4:8] == b"ftyp",
          ".ogg": head.startswith(b"OggS"),
          ".webm": head.startswith(b"\x1a\x45\xdf\xa3")}
    if not ok[suffix]:
        raise AudioguideError(f"« {name} » ne contient pas un son {suffix[1:].upper()} : son contenu ne correspond "
                              "pas à son nom.",
                              fix="exportez l'enregistrement de nouveau depuis votre logiciel, en WAV ou en MP3")
    return suffix


def _page(st: Studio, ref: str):
    from audioguide.guide import load_guide

    try:
        guide = load_guide(need_guide(st))
    except GuideError:
        raise Refused(409, "Le guide a des erreurs : corrigez-les d'abord, puis enregistrez la page.") from None
    ch, pg = find_page(guide, ref)
    return guide, ch, pg


def _declared(pg) -> None:
    """The studio keeps takes by the folder's convention; a page whose recording the guide names is changed there."""
    if pg.recording:
        raise AudioguideError(f"Le guide donne lui-même l'enregistrement de cette page (recording: {pg.recording}) : "
                              "le studio ne le remplace pas et ne le supprime pas.",
                              fix="changez ou retirez la ligne « recording: » de la page dans le guide, puis "
                                  "revenez ici")


_assessed: dict[tuple, store.Assessment | AudioguideError] = {}


def _status(st: Studio, ref: str) -> dict:
    guide, ch, pg = _page(st, ref)
    try:
        path = declared(guide, ch, pg) if pg.recording else store.current(st.folder, ch.id, pg.id)
    except AudioguideError as exc:  # declared but missing: said where the recording would be shown
        return {"ref": ref, "recorded": {"file": pg.recording, "version": 0, "a": None, "error": exc,
                                         "declared": True}}
    if path is None:
        return {"ref": ref, "recorded": None}
    rel = path.relative_to(st.folder).as_posix()
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _assessed:  # decoding takes a moment: once per version of the file
        try:
            _assessed[key] = store.assess(path, f"{ch.id}/{pg.id}", store.page_texts(guide, ch.id, pg.id), rel)
        except AudioguideError as exc:
            _assessed[key] = exc
    found = _assessed[key]
    return {"ref": ref, "recorded": {"file": rel, "version": stat.st_mtime_ns, "declared": bool(pg.recording),
                                     "a": found if isinstance(found, store.Assessment) else None,
                                     "error": found if isinstance(found, AudioguideError) else None}}


async def voice(request: Request):
    st: Studio = request.app.state.studio
    ctx = await run_in_threadpool(_status, st, request.path_params["ref"])
    return page(request, "_voice.html", max_s=MAX_TAKE_S, max_mb=safety.MAX_BODY // 2**20, **ctx)


def _assess_take(st: Studio, ref: str, take: Path, name: str) -> store.Assessment:
    guide, ch, pg = _page(st, ref)
    return store.assess(take, f"{ch.id}/{pg.id}", store.page_texts(guide, ch.id, pg.id), name)


async def take(request: Request):
    """A take from the recorder or a file: kept aside, assessed, and offered to hear and keep."""
    st: Studio = request.app.state.studio
    form = await posted(request)
    ref = str(form.get("ref", ""))
    # An htmx or recorder request gets its error as a fragment with 200, so that it is swapped in and shown.
    status = 200 if request.headers.get("hx-request") else None
    shown = "_error.html" if status else "error.html"
    upload = form.get("fichier")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return fail(request, AudioguideError("Aucun fichier son reçu.", fix="choisissez un fichier son"),
                    shown, status=status or 400)
    data = await upload.read()
    try:
        suffix = audio_kind(upload.filename, data[:64])
    except AudioguideError as exc:
        return fail(request, exc, shown, status=status or 415)
    folder = st.listen_dir / "prises"
    folder.mkdir(exist_ok=True)
    name = secrets.token_hex(8) + suffix
    (folder / name).write_bytes(data)
    try:
        a = await run_in_threadpool(_assess_take, st, ref, folder / name,
                                   safety.safe_name(upload.filename, suffix))
    except AudioguideError as exc:
        (folder / name).unlink()
        return fail(request, exc, shown, status=status or 400)
    return page(request, "_take.html", a=a, name=name, ref=ref)


def _take_file(st: Studio, name: str) -> Path:
    path = st.listen_dir / "prises" / name
    if not _TAKE.fullmatch(name) or not path.is_file():
        raise Refused(404, "Cette prise n'existe plus : enregistrez la page de nouveau.")
    return path


async def take_file(request: Request):
    st: Studio = request.app.state.studio
    path = _take_file(st, request.path_params["name"])
    return FileResponse(path, media_type=MEDIA[path.suffix])


async def recording_file(request: Request):
    st: Studio = request.app.state.studio
    guide, ch, pg = await run_in_threadpool(_page, st, request.path_params["ref"])
    try:
        path = declared(guide, ch, pg) if pg.recording else store.current(st.folder, ch.id, pg.id)
    except AudioguideError:
        path = None
    real = safety.inside(st.folder, path.relative_to(st.folder).as_posix()) if path else None
    if path is None or real is None:
        raise Refused(404, "Cette page n'a pas d'enregistrement.")
    return FileResponse(real, media_type=MEDIA[path.suffix], headers={"Cache-Control": "no-cache"})


async def keep(request: Request):
    st: Studio = request.app.state.studio
    form = await posted(request)
    ref = str(form.get("ref", ""))
    took = _take_file(st, str(form.get("prise", "")))
    _, ch, pg = await run_in_threadpool(_page, st, ref)
    try:
        _declared(pg)
        await run_in_threadpool(store.keep, st.folder, ch.id, pg.id, took, took.suffix)
    except AudioguideError as exc:
        return fail(request, exc)
    took.unlink()
    return RedirectResponse(f"/page/{quote(ref)}?voix=gardee", status_code=303)


async def remove(request: Request):
    """Asks first (a page of its own, no script needed); the recording is set aside, never deleted."""
    st: Studio = request.app.state.studio
    form = await posted(request)
    ref = str(form.get("ref", ""))
    _, ch, pg = await run_in_threadpool(_page, st, ref)
    try:
        _declared(pg)
    except AudioguideError as exc:
        return fail(request, exc)
    path = store.current(st.folder, ch.id, pg.id)
    if path is None:
        return RedirectResponse(f"/page/{quote(ref)}", status_code=303)
    if form.get("confirme") != "oui":
        return page(request, "voice_remove.html", title="Supprimer l'enregistrement ?", ref=ref, page_title=pg.title,
                    file=path.relative_to(st.folder).as_posix(), aside=f"recordings/{ch.id}/{store.BACKUPS}/")
    try:
        await run_in_threadpool(store.remove, st.folder, ch.id, pg.id)
    except AudioguideError as exc:
        return fail(request, exc)
    return RedirectResponse(f"/page/{quote(ref)}?voix=supprimee", status_code=303)


routes = [Route("/voix/prise", take, methods=["POST"]), Route("/voix/garder", keep, methods=["POST"]),
          Route("/voix/supprimer", remove, methods=["POST"]), Route("/voix/ecoute/{name}", take_file),
          Route("/voix/fichier/{ref:path}", recording_file), Route("/voix/page/{ref:path}", voice)]
