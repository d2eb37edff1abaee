"""The studio served: its routes (app.py's pages, record.py's recording) behind the Guard, bound by uvicorn.
Apart from app.py so the pages and the recording routes can share app.py's helpers without a circle."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from audioguide.config import default_cache_dir
from audioguide.exceptions import AudioguideError
from audioguide.studio import record, safety
from audioguide.studio.app import (
    Guard,
    Refused,
    Studio,
    build_events,
    build_page,
    build_start,
    check,
    editor,
    help_page,
    home,
    import_doc,
    listen,
    listened,
    new,
    output_file,
    outputs_page,
    phone_zip,
    pronunciation,
    pronunciation_keep,
    pronunciation_results,
    pronunciation_try,
    publish,
    refused,
    save,
)


def create_app(folder: Path, *, cache_dir: Path | None = None, secret: str | None = None,
               host: str = "127.0.0.1", port: int = 0) -> Guard:
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    studio = Studio(folder, cache_dir=cache_dir or default_cache_dir(), secret=secret, host=host, port=port)


    async def on_refused(request: Request, exc: Exception) -> HTMLResponse:
        assert isinstance(exc, Refused)  # the handler of Refused only
        return refused(exc.status, exc.message)

    routes = [
        Route("/", home), Route("/nouveau", new, methods=["POST"]), Route("/importer", import_doc, methods=["POST"]),
        Route("/fichier", editor), Route("/page/{ref:path}", editor),
        Route("/verifier", check, methods=["POST"]), Route("/enregistrer", save, methods=["POST"]),
        Route("/ecouter", listen, methods=["POST"]), Route("/ecoute/{name}", listened),
        Route("/prononciation", pronunciation), Route("/prononciation/resultats", pronunciation_results),
        Route("/prononciation/essai", pronunciation_try, methods=["POST"]),
        Route("/prononciation/garder", pronunciation_keep, methods=["POST"]),
        Route("/construire", build_page), Route("/construire", build_start, methods=["POST"]),
        Route("/construire/progression", build_events),
        Route("/sorties", outputs_page), Route("/sorties/ligne-telephonique.zip", phone_zip),
        Route("/sorties/{path:path}", output_file),
        Route("/publier", publish, methods=["POST"]), Route("/aide/{topic}", help_page),
        Route("/favicon.ico", lambda request: FileResponse(Path(__file__).with_name("static") / "icon.svg",
                                                           media_type="image/svg+xml")),
        *record.routes,
        Mount("/static", StaticFiles(packages=[("audioguide.studio", "static")]), name="static"),
    ]
    async def not_found(request: Request, exc):
        return refused(404, "Page introuvable dans le studio.")

    async def not_allowed(request: Request, exc):
        return refused(405, "Méthode refusée : le studio ne modifie rien autrement que par un formulaire.")

    app = Starlette(routes=routes, exception_handlers={Refused: on_refused, 404: not_found, 405: not_allowed})
    app.state.studio = studio
    guard = Guard(app, studio)
    guard.state = app.state
    return guard


class StudioServer:
    """The studio bound and listening (connections wait in the queue until `run` serves them)."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 8765, secret: str | None = None,
                 cache_dir: Path | None = None):
        import socket

        import uvicorn

        safety.check_bind(host, secret)
        try:
            family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        except (socket.gaierror, UnicodeError):
            raise AudioguideError(f"Le studio ne peut pas écouter sur {host!r} : adresse inconnue.",
                                  fix="gardez l'adresse 127.0.0.1") from None
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
            self.sock.listen(128)
        except OSError as exc:
            self.sock.close()
            raise AudioguideError(f"Le studio ne peut pas écouter sur {host}:{port} : {exc.strerror}.",
                                  fix="choisissez un autre --port (par exemple --port 8766)") from None
        self.port = self.sock.getsockname()[1]
        self.app = create_app(folder, cache_dir=cache_dir, secret=secret, host=host, port=self.port)
        shown = f"[{host}]" if ":" in host else host
        self.base = f"http://{shown}:{self.port}/"
        self.address = self.base + (f"?cle={quote(secret)}" if secret else "")
        app = self.app

        async def asgi(scope, receive, send):
            await app(scope, receive, send)

        # uvicorn guesses from the app's __call__ whether it is ASGI 2 or 3, or a factory; a wrapped __call__
        # (script/mutation's) reads as both. A plain coroutine function, and asgi3 said, leave nothing to guess.
        self.server = uvicorn.Server(uvicorn.Config(
            asgi, interface="asgi3", log_level="warning", lifespan="off", limit_concurrency=64,
            timeout_keep_alive=10, server_header=False))

    def run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.sock.close()
            shutil.rmtree(self.app.state.studio.listen_dir, ignore_errors=True)

    def stop(self) -> None:
        self.server.should_exit = True


def serve_studio(folder: Path, host: str = "127.0.0.1", port: int = 8765, secret: str | None = None,
                 cache_dir: Path | None = None, ready=None) -> None:
    """Run the studio until Ctrl+C; `ready(address)` is called once it listens."""
    server = StudioServer(folder, host, port, secret, cache_dir)
    if ready:
        ready(server.address)
    server.run()
