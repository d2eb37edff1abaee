"""The studio's pages: start, edit with live checks, listen, pronunciation, build, outputs, publish."""

from __future__ import annotations

import io
import json
import re
import secrets
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, State
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse

from audioguide.config import PACES, BuildSettings, default_cache_dir
from audioguide.exceptions import AudioguideError
from audioguide.speaker import Clips, Speaker
from audioguide.studio import safety, source
from audioguide.studio.jobs import BuildJob

HTMX = "htmx-2.0.11.min.js"
OUT_NAME = "sortie"
"""The guide's outputs, inside its folder: the studio reads and writes nothing outside it."""
PUBLISH_NAME = "publication"
USES = [("podcast", "Podcast"), ("livres", "Livre audio (EPUB, DAISY)"), ("telephone", "Ligne téléphonique"),
        ("borne", "Borne"), ("mp3", "Guide entier en MP3")]


@dataclass
class Studio:
    folder: Path
    cache_dir: Path = field(default_factory=default_cache_dir)
    secret: str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    csrf: str = field(default_factory=safety.new_token)
    job: BuildJob = field(default_factory=BuildJob)
    audit: tuple[str, dict] = ("", {})
    """(guide file version, pronunciation findings by page) of the last audit."""
    listen_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="audioguide-studio-")))

    @property
    def guide_file(self) -> Path | None:
        from audioguide.guide.load import GUIDE_FILES

        return next((self.folder / n for n in GUIDE_FILES if (self.folder / n).is_file()), None)

    @property
    def out_dir(self) -> Path:
        return self.folder / OUT_NAME

    def settings(self, pace: str | None = None) -> BuildSettings:
        return BuildSettings(pace=pace, out_dir=self.out_dir, cache_dir=self.cache_dir, progress=False)


env = Environment(loader=PackageLoader("audioguide.studio", "templates"), autoescape=select_autoescape())


def page(request: Request, template: str, status: int = 200, **ctx) -> HTMLResponse:
    st: Studio = request.app.state.studio
    html = env.get_template(template).render(csrf=st.csrf, htmx=HTMX, folder=st.folder, request=request,
                                             guide_name=st.guide_file.name if st.guide_file else None, **ctx)
    return HTMLResponse(html, status_code=status)


def fail(request: Request, exc: AudioguideError, template: str = "error.html", status: int = 400, **ctx):
    ctx.setdefault("title", "Cela n'a pas marché")
    return page(request, template, status=status, error=exc.message, fix=exc.fix, **ctx)


async def posted(request: Request) -> FormData:
    """The form of a POST, once its CSRF token is checked (a page of another site cannot know it)."""
    st: Studio = request.app.state.studio
    form = await request.form(max_files=1, max_fields=50)
    token = request.headers.get("x-csrf-token") or form.get("csrf")
    if not safety.same(token if isinstance(token, str) else None, st.csrf):
        raise Refused(403, "Demande refusée : elle ne vient pas d'une page du studio (jeton de sécurité absent "
                           "ou faux). Rechargez la page du studio et recommencez.")
    return form


def need_guide(st: Studio) -> Path:
    if st.guide_file is None:
        raise Refused(409, "Ce dossier n'a pas encore de guide : commencez-en un depuis la page d'accueil du studio.")
    return st.guide_file


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


# --- start -------------------------------------------------------------------------------------------------


def tree(guide, recorded: frozenset | set = frozenset()) -> list[dict]:
    """Parts, chapters and pages as nested dicts for the template; `recorded`: (chapter, page) ids read aloud."""
    def chapter(ch) -> dict:
        return {"id": ch.id, "title": ch.title, "pages": [{"id": p.id, "title": p.title, "ref": f"{ch.id}/{p.id}",
                                                           "recorded": (ch.id, p.id) in recorded} for p in ch.pages]}

    out = []
    if guide.intro:
        out.append({"title": None, "chapters": [chapter(guide.intro)]})
    if guide.parts:
        out += [{"title": p.title, "chapters": [chapter(c) for c in p.chapters]} for p in guide.parts]
    else:
        rest = [c for c in guide.chapters if c is not guide.intro]
        out.append({"title": None, "chapters": [chapter(c) for c in rest]})
    return out


def load(st: Studio) -> tuple[str, source.Checked]:
    guide_file = need_guide(st)
    text = source.read(guide_file)
    checked = source.check_text(guide_file, text)
    return text, checked


async def home(request: Request):
    st: Studio = request.app.state.studio
    if st.guide_file is None:
        return page(request, "start.html", title="Commencer un guide", limit_mb=safety.MAX_BODY // 2**20)
    text, checked = await run_in_threadpool(load, st)
    report = st.folder / "import-report.txt"
    from audioguide.recordings.store import recorded

    return page(request, "home.html", title="Votre guide",
                tree=tree(checked.guide, recorded(st.folder, checked.guide)) if checked.guide else None,
                guide=checked.guide, problems=checked.problems, markdown=st.guide_file.suffix == ".md",
                report=report.read_text("utf-8") if report.is_file() else None, built=(st.out_dir /
                                                                                      "manifest.json").is_file())


async def new(request: Request):
    st: Studio = request.app.state.studio
    form = await posted(request)
    from audioguide.preview import new_guide

    title = str(form.get("titre", "")).strip()
    try:
        target = await run_in_threadpool(new_guide, st.folder)
    except AudioguideError as exc:
        return fail(request, exc)
    if title and "\n" not in title:
        text = source.read(target)
        text = re.sub(r"^title: .*$", lambda m: "title: " + json.dumps(title, ensure_ascii=False), text, count=1,
                      flags=re.M)
        source.write(target, text, source.version(source.read(target)))
    return RedirectResponse("/", status_code=303)


async def import_doc(request: Request):
    st: Studio = request.app.state.studio
    form = await posted(request)
    upload = form.get("document")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return fail(request, AudioguideError("Aucun fichier reçu.", fix="choisissez un fichier Word, PDF ou web"))
    data = await upload.read()
    try:
        suffix = safety.upload_kind(upload.filename, data[:2048])
    except AudioguideError as exc:
        return fail(request, exc, status=415)
    from audioguide.importers import import_document

    with tempfile.TemporaryDirectory(prefix="audioguide-studio-import-") as tmp:
        doc = Path(tmp) / safety.safe_name(upload.filename, suffix)
        doc.write_bytes(data)
        try:
            await run_in_threadpool(import_document, doc, st.folder)
        except AudioguideError as exc:
            return fail(request, exc)
    return RedirectResponse("/", status_code=303)


# --- edit --------------------------------------------------------------------------------------------------


def find_page(guide, ref: str):
    try:
        return guide.find_page(ref)
    except KeyError:
        raise Refused(404, f"Le guide n'a pas de page « {ref} ».") from None


async def editor(request: Request):
    st: Studio = request.app.state.studio
    if st.guide_file is None:
        return RedirectResponse("/", status_code=303)
    ref = request.path_params.get("ref", "")
    text, checked = await run_in_threadpool(load, st)
    ctx = {"ref": ref, "version": source.version(text), "problems": checked.problems, "paces": list(PACES)}
    if ref:
        if checked.guide is None:
            raise Refused(409, "Le guide a des erreurs : corrigez-les dans le fichier entier d'abord.")
        ch, pg = find_page(checked.guide, ref)
        if st.guide_file.suffix != ".md" or not pg.line:
            # A YAML guide is edited whole; the page can still be heard from here.
            return page(request, "edit.html", title=f"Page « {pg.title} »", text=text, line=0,
                        page_title=pg.title, chapter_title=ch.title, page_line=pg.line or "?", **ctx)
        return page(request, "edit.html", title=f"Page « {pg.title} »", text=source.page_text(text, pg.line),
                    line=pg.line, page_title=pg.title, chapter_title=ch.title, **ctx)
    return page(request, "edit.html", title=f"Le fichier {st.guide_file.name}", text=text, line=0,
                page_title=None, **ctx)


def _line(form) -> int:
    value = str(form.get("line") or "0")
    if not value.isdigit():
        raise Refused(400, "Demande mal formée : rechargez la page.")
    return int(value)


def _whole(current: str, line: int, text: str) -> str:
    text = text.replace("\r\n", "\n")
    return source.splice(current, line, text) if line else text


async def check(request: Request):
    st: Studio = request.app.state.studio
    form = await posted(request)
    guide_file = need_guide(st)
    current = source.read(guide_file)
    try:
        whole = _whole(current, _line(form), str(form.get("texte", "")))
    except AudioguideError:
        whole = str(form.get("texte", ""))
    checked = await run_in_threadpool(source.check_text, guide_file, whole)
    signature = source.version("\n".join(map(str, checked.problems)))
    if form.get("signature") == signature:
        return Response(status_code=204)  # the same problems: nothing swapped, nothing re-announced
    return page(request, "_problems.html", problems=checked.problems, signature=signature)


async def save(request: Request):
    st: Studio = request.app.state.studio
    form = await posted(request)
    guide_file = need_guide(st)
    ref, line = str(form.get("ref", "")), _line(form)
    text, based_on = str(form.get("texte", "")), str(form.get("version", ""))
    current = source.read(guide_file)
    ctx = {"ref": ref, "line": line, "text": text, "version": based_on, "paces": list(PACES),
           "page_title": form.get("page_title") or None, "title": "Modifier"}
    try:
        source.require(current, based_on)
        whole = _whole(current, line, text)
        checked = await run_in_threadpool(source.check_text, guide_file, whole)
        source.write(guide_file, whole, based_on)
    except AudioguideError as exc:
        return fail(request, exc, "edit.html", status=409, problems=[], **ctx)
    if checked.guide is not None and ref:
        try:
            ch, pg = checked.guide.find_page(ref)
            return RedirectResponse(f"/page/{quote(ref)}?enregistre=1", status_code=303)
        except KeyError:
            pass
    return RedirectResponse("/fichier?enregistre=1" if not ref else "/?enregistre=1", status_code=303)


# --- listen ------------------------------------------------------------------------------------------------


def render_page(st: Studio, ref: str, pace: str) -> tuple[str, list[tuple[str, str]]]:
    """Synthesise a page through the clip cache into a WAV of the studio's; (its name, [(clip key, text)])."""
    from audioguide.build import make_speaker
    from audioguide.guide import load_guide
    from audioguide.preview import scripts_for

    guide = load_guide(need_guide(st))
    find_page(guide, ref)
    speaker = make_speaker(guide, st.settings(pace))
    scripts = scripts_for(guide, ref, speaker.writer)
    return _heard(st, speaker, speaker.segment_clips([s for p in scripts for s in p.segments]))


def _heard(st: Studio, speaker: Speaker, clips: Clips) -> tuple[str, list[tuple[str, str]]]:
    """The clips rendered into a WAV of the studio's; (its name, [(clip key, what the engine heard)])."""
    name = secrets.token_hex(8) + ".wav"
    speaker.render(clips, st.listen_dir / name)
    return name, [(k, speaker.voice(t)) for t, k, _ in clips]


async def listen(request: Request):
    st: Studio = request.app.state.studio
    form = await posted(request)
    need_guide(st)
    pace = str(form.get("allure", "normal"))
    if pace not in PACES:
        raise Refused(400, "Allure inconnue.")
    try:
        name, clips = await run_in_threadpool(render_page, st, str(form.get("ref", "")), pace)
    except AudioguideError as exc:
        return fail(request, exc, "_error.html")
    return page(request, "_audio.html", src=f"/ecoute/{name}", clips=clips, label="Écoute de la page")


async def listened(request: Request):
    st: Studio = request.app.state.studio
    name = request.path_params["name"]
    if not re.fullmatch(r"[0-9a-f]{16}\.wav", name) or not (st.listen_dir / name).is_file():
        raise Refused(404, "Cette écoute n'existe plus.")
    return FileResponse(st.listen_dir / name, media_type="audio/wav")


# --- pronunciation -----------------------------------------------------------------------------------------


def findings(st: Studio) -> dict[str, list[dict]]:
    from audioguide.guide import load_guide
    from audioguide.narration.audit import audit

    guide = load_guide(need_guide(st))
    report = audit(guide)
    titles = {f"{c.id}/{p.id}": f"{c.title} › {p.title}" for c in guide.chapters for p in c.pages}
    by_page: dict[str, list[dict]] = {}
    kinds = [("foreign", "lu avec les sons d'une autre langue"), ("unknown", "sigle absent du lexique")]
    for kind, what in kinds:
        for f in getattr(report, kind).values():
            for where in f.where[:1] or [""]:
                by_page.setdefault(titles.get(where, where or "Guide"), []).append(
                    {"word": f.word, "said": f.said, "what": what, "language": f.language, "where": where})
    return dict(sorted(by_page.items()))


async def _findings(st: Studio) -> dict[str, list[dict]]:
    """The audit of the guide as it is now (kept per file version: it takes seconds on a long guide)."""
    ver = source.version(source.read(need_guide(st)))
    if st.audit[0] != ver:
        st.audit = (ver, await run_in_threadpool(findings, st))
    return st.audit[1]


async def pronunciation(request: Request):
    st: Studio = request.app.state.studio
    if st.guide_file is None:
        return RedirectResponse("/", status_code=303)
    ready = st.audit[0] == source.version(source.read(st.guide_file)) or "tout" in request.query_params
    try:
        found = await _findings(st) if ready else None
    except AudioguideError as exc:
        return fail(request, exc)
    return page(request, "pronunciation.html", title="Prononciation", found=found,
                kept=request.query_params.get("garde"))


async def pronunciation_results(request: Request):
    st: Studio = request.app.state.studio
    need_guide(st)
    try:
        found = await _findings(st)
    except AudioguideError as exc:
        return fail(request, exc, "_error.html")
    return page(request, "_findings.html", found=found)


def _entry(form) -> tuple[str, str]:
    word, say = str(form.get("mot", "")).strip(), str(form.get("dire", "")).strip()
    if form.get("sorte") == "phonemes" and say and not say.startswith("[["):
        say = f"[[{say}]]"
    return word, say


def try_fix(st: Studio, word: str, say: str) -> tuple[str, list[tuple[str, str]]]:
    """The word said with the fix, in a short sentence, through the clip cache."""
    import dataclasses

    from audioguide.build import make_speaker
    from audioguide.guide import load_guide

    if not word or not say:
        raise AudioguideError("Écrivez comment dire le mot.", fix="par exemple « Ségure » pour Ségur")
    guide = load_guide(need_guide(st))
    guide = dataclasses.replace(guide, lexicon={**guide.lexicon, word: say})
    speaker = make_speaker(guide, st.settings())
    return _heard(st, speaker, speaker.prompt_clips(f"{word}."))


async def pronunciation_try(request: Request):
    st: Studio = request.app.state.studio
    form = await posted(request)
    need_guide(st)
    word, say = _entry(form)
    try:
        source.add_lexicon("---\n---", True, word, say)  # the same checks as keeping it
        name, clips = await run_in_threadpool(try_fix, st, word, say)
    except AudioguideError as exc:
        return fail(request, exc, "_error.html")
    return page(request, "_try.html", src=f"/ecoute/{name}", clips=clips, word=word, say=say,
                label=f"Écoute de « {word} » corrigé")


async def pronunciation_keep(request: Request):
    st: Studio = request.app.state.studio
    form = await posted(request)
    guide_file = need_guide(st)
    word, say = _entry(form)
    current = source.read(guide_file)
    try:
        text = source.add_lexicon(current, guide_file.suffix == ".md", word, say)
        checked = await run_in_threadpool(source.check_text, guide_file, text)
        if checked.problems:
            raise AudioguideError(f"Cette correction rendrait le guide invalide : {checked.problems[0]}",
                                  fix="écrivez la prononciation autrement")
        source.write(guide_file, text, source.version(current))
    except AudioguideError as exc:
        return fail(request, exc)
    return RedirectResponse(f"/prononciation?garde={quote(word)}", status_code=303)


# --- build and outputs -------------------------------------------------------------------------------------


async def build_page(request: Request):
    st: Studio = request.app.state.studio
    return page(request, "build.html", title="Construire le guide", running=st.job.running,
                progress=st.job.progress.event() if st.job.progress else None)


async def build_start(request: Request):
    st: Studio = request.app.state.studio
    form = await posted(request)
    guide_file = need_guide(st)
    settings = st.settings()
    address = str(form.get("adresse", "")).strip()
    settings.base_url = address or None  # else the guide's `base_url:`, else the local preview's address
    try:
        st.job.start(guide_file, settings)
    except AudioguideError as exc:
        return fail(request, exc, "build.html", status=409, title="Construire le guide", running=st.job.running,
                    progress=None)
    return RedirectResponse("/construire", status_code=303)


async def build_events(request: Request):
    st: Studio = request.app.state.studio
    progress = st.job.progress
    if progress is None:
        raise Refused(404, "Aucune construction lancée.")

    def wait(last: dict | None) -> dict:
        with progress.changed:
            progress.changed.wait_for(lambda: progress.event() != last or progress.finished, timeout=15)
        return progress.event()

    async def stream():
        last = None
        while True:
            event = await run_in_threadpool(wait, last)
            if event != last:
                yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
                last = event
            else:
                yield ": toujours là\n\n"
            if event["finished"]:
                return
            if await request.is_disconnected():
                return

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def outputs(st: Studio) -> dict | None:
    manifest = st.out_dir / "manifest.json"
    if not manifest.is_file():
        return None
    m = json.loads(manifest.read_text("utf-8"))
    return {"title": m["guide"]["title"], "chapters": m["chapters"], "feed": m.get("feed"),
            "epub": m.get("downloads", {}).get("epub", {}).get("path"),
            "daisy": m.get("downloads", {}).get("daisy", {}).get("path"),
            "whole": m.get("whole", {}).get("mp3"), "kiosk": m.get("kiosk"), "phone": bool(m.get("phone")),
            "transcript": m.get("transcript", {}).get("html")}


async def outputs_page(request: Request):
    st: Studio = request.app.state.studio
    return page(request, "outputs.html", title="Les sorties du guide", out=outputs(st), uses=dict(USES),
                out_dir=st.out_dir)


async def output_file(request: Request):
    st: Studio = request.app.state.studio
    path = safety.inside(st.out_dir, request.path_params["path"])
    if path is None:
        raise Refused(404, "Fichier introuvable.")
    from audioguide.serve import TYPES

    return FileResponse(path, media_type=TYPES.get(path.suffix.lower()), headers={"Cache-Control": "no-cache"})


async def phone_zip(request: Request):
    st: Studio = request.app.state.studio
    folder = st.out_dir / "phone"
    if not folder.is_dir():
        raise Refused(404, "Construisez d'abord le guide.")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.rglob("*")):
            if f.is_file() and not f.is_symlink() and not any(p.startswith(".") for p in f.relative_to(folder).parts):
                z.write(f, "ligne-telephonique/" + f.relative_to(folder).as_posix())
    return Response(buf.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": 'attachment; filename="ligne-telephonique.zip"'})


async def publish(request: Request):
    st: Studio = request.app.state.studio
    await posted(request)
    from audioguide.studio.publish import export

    try:
        target = await run_in_threadpool(export, st.out_dir, st.folder / PUBLISH_NAME)
    except AudioguideError as exc:
        return fail(request, exc)
    return page(request, "published.html", title="Dossier prêt à publier", target=target,
                files=sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())[:400])


async def help_page(request: Request):
    topic = request.path_params["topic"]
    if topic not in ("podcast", "telephone"):
        raise Refused(404, "Page d'aide introuvable.")
    return page(request, f"help_{topic}.html", title={"podcast": "Publier le podcast",
                                                      "telephone": "Ouvrir une ligne téléphonique"}[topic])


# --- the app -----------------------------------------------------------------------------------------------


class Guard:
    """ASGI middleware: secret, Host and Origin checks, body size limit; then the app."""

    state: State  # the app's (create_app sets it), where StudioServer finds the studio

    def __init__(self, app, studio: Studio):
        self.app, self.studio = app, studio

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        st = self.studio
        refusal = self.refuse(request)
        if refusal:
            return await refusal(scope, receive, send)
        if st.secret and request.query_params.get("cle"):
            # The secret arrives once in the printed address; a cookie carries it after, out of the address bar.
            response = RedirectResponse(request.url.path, status_code=303)
            response.set_cookie(safety.COOKIE, request.query_params["cle"], httponly=True, samesite="strict")
            return await response(scope, receive, send)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > safety.MAX_BODY):
            return await refused(413, _too_big())(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > safety.MAX_BODY:
                    raise Refused(413, _too_big())
            return message

        output = scope["path"].startswith("/sorties/")

        async def headed(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
                if not output:  # the studio's own pages: never inside another site's frame (clickjacking)
                    headers += [(b"x-frame-options", b"DENY"), (b"content-security-policy", CSP)]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited, headed)
        except Refused as exc:
            await refused(exc.status, exc.message)(scope, receive, headed)

    def refuse(self, request: Request):
        st = self.studio
        if st.secret:
            given = request.query_params.get("cle") or request.cookies.get(safety.COOKIE)
            if not safety.same(given, st.secret):
                return refused(401, "Ce studio demande son code secret : ouvrez l'adresse complète que le studio "
                                    "a affichée à son démarrage (elle se termine par ?cle=…).")
        else:
            host = request.headers.get("host", "")
            if host not in safety.allowed_hosts(st.host, st.port):
                return refused(421, "Ce studio ne répond qu'à l'adresse qu'il a affichée à son démarrage.")
        if request.method not in ("GET", "HEAD", "POST"):
            return refused(405, "Méthode refusée : le studio ne modifie rien autrement que par un formulaire.")
        origin = request.headers.get("origin")
        if request.method == "POST" and origin and origin != "null" and \
                origin.split("://", 1)[-1] != request.headers.get("host"):
            return refused(403, "Demande refusée : elle vient d'un autre site que le studio.")
        return None


# htmx adds its indicator style inline; everything else comes from the studio itself.
CSP = (b"default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; "
       b"base-uri 'none'")


def _too_big() -> str:
    return (f"Le fichier envoyé est trop gros (plus de {safety.MAX_BODY // 2**20} Mo). Un dépliant ou un "
            "guide en Word ou en PDF est bien plus petit : vérifiez que c'est le bon fichier, ou enregistrez-le "
            "sans ses grandes images.")


def refused(status: int, message: str) -> HTMLResponse:
    html = env.get_template("refused.html").render(status=status, message=message, htmx=HTMX)
    return HTMLResponse(html, status_code=status)
