"""What keeps the studio to its user: the bind address and its secret, CSRF, body size, paths, upload types."""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import secrets
import socket
import stat
from pathlib import Path

from audioguide.exceptions import AudioguideError

SECRET_ENV = "AUDIOGUIDE_STUDIO_SECRET"
MAX_BODY = 20 * 1024 * 1024
"""Bytes a request may send: a Word or PDF leaflet is far smaller; more is refused before it is read."""
UPLOAD_TYPES = {".docx": "Word", ".pdf": "PDF", ".html": "page web", ".htm": "page web"}
COOKIE = "audioguide_studio"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def check_bind(host: str, secret: str | None) -> None:
    """Any address but this computer's own needs a secret: the studio writes files and runs builds."""
    if not is_loopback(host) and not secret:
        raise AudioguideError(f"Le studio refuse d'écouter sur {host} sans code secret : tout le réseau pourrait "
                              "modifier le guide et lancer des constructions.",
                              fix=f"donnez un code secret avec --secret CODE (ou la variable {SECRET_ENV}), "
                                  "ou gardez l'adresse 127.0.0.1")
    if secret is not None and len(secret) < 12:
        raise AudioguideError("Le code secret du studio est trop court.", fix="choisissez au moins 12 caractères")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same(a: str | None, b: str | None) -> bool:
    return bool(a and b and hmac.compare_digest(a.encode(), b.encode()))


def allowed_hosts(host: str, port: int) -> set[str]:
    """Host headers a loopback studio answers: a web page elsewhere cannot reach it by a name of its own
    pointed at 127.0.0.1 (DNS rebinding)."""
    names = {host, "127.0.0.1", "localhost", "[::1]", socket.gethostname()} if is_loopback(host) else set()
    return {f"{n}:{port}" for n in names} | names


_SAFE_PART = re.compile(r"^[\w][\w .()+,-]*$")


def inside(root: Path, rel: str) -> Path | None:
    """The regular file `rel` under `root`, or None: no '..', no hidden names, no link out of the folder."""
    parts = [p for p in rel.split("/") if p]
    if not parts or any(p.startswith(".") or "\\" in p or "\x00" in p for p in parts):
        return None
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, *parts))
    if os.path.commonpath([real_root, real]) != real_root:
        return None
    try:
        if not stat.S_ISREG(os.stat(real).st_mode):
            return None
    except OSError:
        return None
    return Path(real)


def upload_kind(name: str, head: bytes) -> str:
    """The document's suffix if its name and first bytes agree on a type `import` reads; else a French error."""
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_TYPES:
        raise AudioguideError(f"« {name} » n'est pas un document que le studio sait importer.",
                              fix="déposez un fichier Word (.docx), PDF (.pdf) ou une page web (.html)")
    text_head = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    ok = {".docx": head.startswith(b"PK\x03\x04"), ".pdf": head.startswith(b"%PDF-"),
          ".html": text_head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--", b"<meta",
                                         b"<h1", b"<p", b"<div", b"<title"))}
    if not ok.get(".html" if suffix == ".htm" else suffix):
        raise AudioguideError(f"« {name} » ne contient pas un fichier {UPLOAD_TYPES[suffix]} : son contenu ne "
                              "correspond pas à son nom.",
                              fix="ouvrez-le dans son logiciel et enregistrez-le de nouveau au bon format")
    return ".html" if suffix == ".htm" else suffix


def safe_name(name: str, suffix: str) -> str:
    stem = re.sub(r"[^\w-]+", "-", Path(name).stem).strip("-")[:60] or "document"
    return stem + suffix
