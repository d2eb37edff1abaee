"""A local preview server for output/: correct MIME types, HTTP Range (apps and browsers seek with it), logs.

It serves only regular, non-hidden files that really lie inside the folder: no listings, no symlinks out,
no build state or half-written temp files (both start with a dot).

A build's local feed names its files under the guide's folder, output/<guide id> (http://127.0.0.1:8000/e-sante/…),
so a folder served itself also answers under its own name: `serve output` and `serve output/e-sante` both answer
the feed's links.
"""

from __future__ import annotations

import email.utils
import errno
import hashlib
import html
import ipaddress
import logging
import mimetypes
import os
import re
import socket
import stat
import sys
import threading
import time
from collections import OrderedDict
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, unquote, urlsplit

from audioguide.exceptions import AudioguideError
from audioguide.i18n import _

log = logging.getLogger(__name__)

TYPES = {".mp3": "audio/mpeg", ".vtt": "text/vtt; charset=utf-8", ".srt": "application/x-subrip; charset=utf-8",
         ".json": "application/json; charset=utf-8", ".xml": "application/rss+xml; charset=utf-8",
         ".txt": "text/plain; charset=utf-8", ".html": "text/html; charset=utf-8", ".jpg": "image/jpeg",
         ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".wav": "audio/wav",
         ".ulaw": "audio/basic", ".alaw": "audio/x-alaw-basic", ".sln": "audio/L16",
         ".vxml": "application/voicexml+xml",
         ".conf": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8"}

IDLE_TIMEOUT = 10.0
"""Seconds a connection may stay silent (while sending its request, or not reading ours) before it is dropped."""
HEAD_TIMEOUT = 10.0
"""Seconds a client has to send a whole request head, however it trickles it: a per-read timeout alone lets
a header line every few seconds hold a connection (and a thread, and a file descriptor) for ever."""
MAX_PER_CLIENT = 32
"""Connections one address may hold at once. Beyond it, its oldest connection still sending its request head
is dropped for the new one; with none, the new one gets a 503."""
MAX_CONNECTIONS = 512
"""Connections in all, kept well under the usual limit of 1,024 open files (a connection sending a file holds
two): past that limit the server could accept no one, not even after the flood stops."""

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_HUGE = 10**18  # beyond any file; also keeps int() away from Python's 4,300-digit limit
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_hashes: dict[tuple, str] = {}  # stat identity -> sha256, so each file version is read once


def _number(digits: str) -> int:
    return int(digits) if len(digits) <= 18 else _HUGE


def _etag(f, st: os.stat_result) -> str:
    """A strong ETag from the content: a resumed download across a rebuild must not mix two versions."""
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    tag = _hashes.get(key)
    if tag is None:
        tag = f'"{hashlib.file_digest(f, "sha256").hexdigest()[:32]}"'
        f.seek(0)
        if len(_hashes) > 4096:
            _hashes.clear()
        _hashes[key] = tag
    return tag


def _http_date(value: str | None) -> int | None:
    try:
        dt = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return int(dt.timestamp()) if dt is not None and dt.tzinfo is not None else None


def _etag_list(value: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in value.split(",") if t.strip()]


class _HeadReader:
    """The request head read against one deadline: each wait on the socket is given only the time left."""

    def __init__(self, rfile, sock: socket.socket, idle: float, deadline: float):
        self.rfile, self.sock, self.idle, self.deadline = rfile, sock, idle, deadline

    def readline(self, limit: int = -1) -> bytes:
        out = bytearray()
        while limit < 0 or len(out) < limit:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("request head not sent in time")
            self.sock.settimeout(min(self.idle, left) if self.idle else left)
            chunk = self.rfile.peek(1)
            if not chunk:
                break
            want = len(chunk) if limit < 0 else min(len(chunk), limit - len(out))
            nl = chunk.find(b"\n", 0, want)
            out += self.rfile.read(nl + 1 if nl >= 0 else want)
            if nl >= 0:
                break
        return bytes(out)


class Handler(SimpleHTTPRequestHandler):
    server: PreviewServer
    extensions_map = {**mimetypes.types_map, **TYPES}
    timeout = IDLE_TIMEOUT
    head_timeout = HEAD_TIMEOUT

    def handle_one_request(self):
        # Each request's head (a kept-alive connection's next one too) gets its own deadline.
        self._rfile = self.rfile
        self.server.head_started(self.connection)
        self.rfile = _HeadReader(self._rfile, self.connection, self.timeout, time.monotonic() + self.head_timeout)
        try:
            super().handle_one_request()
        finally:
            self._head_done()

    def _head_done(self) -> None:
        if isinstance(self.rfile, _HeadReader):
            self.rfile = self._rfile
            self.connection.settimeout(self.timeout)
            self.server.head_done(self.connection)

    def parse_request(self):
        ok = super().parse_request()
        self._head_done()
        return ok

    def log_message(self, fmt, *args):
        # The request line is the client's text: escape control characters so it cannot forge log lines.
        text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", fmt % args)
        log.info("%s %s", self.address_string(), text)

    def list_directory(self, path):
        self._not_found()
        return None

    def _not_found(self) -> None:
        # One answer for missing, hidden and outside: a client cannot tell which of them it hit.
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")

    def _real_path(self, parts: list[str]) -> str | None:
        """The real path of `parts` if it lies inside the root and no component of it is hidden, else None."""
        root = os.path.realpath(self.directory)
        real = os.path.realpath(os.path.join(root, *parts))
        if os.path.commonpath([root, real]) != root:
            return None  # a symlink out of the folder
        inside = os.path.relpath(real, root).split(os.sep) if real != root else []
        return None if any(p.startswith(".") for p in inside) else real

    def _own_name(self, parts: list[str]) -> list[str]:
        """/e-sante/… means the served folder itself when it is named e-sante and holds nothing of that name."""
        root = os.path.realpath(self.directory)
        if parts and parts[0] == os.path.basename(root) and not os.path.lexists(os.path.join(root, parts[0])):
            return parts[1:]
        return parts

    def send_head(self):
        """Answer a GET or HEAD: a clean path, then the file it names, then its headers (and Range)."""
        url_path = urlsplit(self.path).path
        parts = self._parts(url_path)
        if parts is None:
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad path")
            return None
        path = self._file_path(url_path, parts)
        if path == "":  # redirected to the folder's slash
            return None
        opened = self._open_regular(path)
        if opened is None:
            self._not_found()
            return None
        f, st = opened
        try:
            return self._send_file(f, path, st)
        except BaseException:
            f.close()
            raise

    @staticmethod
    def _parts(url_path: str) -> list[str] | None:
        """The path's names, or None when no file here can have that name: not UTF-8, a NUL (open() would raise)
        or a backslash (a Windows separator)."""
        try:
            decoded = unquote(url_path, errors="strict")
        except UnicodeDecodeError:
            return None
        if "\x00" in decoded or "\\" in decoded:
            return None
        return [p for p in decoded.split("/") if p]

    def _file_path(self, url_path: str, parts: list[str]) -> str | None:
        """The real path asked for (a folder's index.html); None when there is none; "" once a folder asked without
        its slash has been redirected."""
        # Hidden names cover "." and "..", the build state and the temp files of an atomic write.
        path = None if any(p.startswith(".") for p in parts) else self._real_path(self._own_name(parts))
        if path is not None and os.path.isdir(path):
            if not url_path.endswith("/"):
                # Relative links in kiosk/index.html need the slash; rebuilt from clean parts, never an open redirect.
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", "/" + "".join(quote(p) + "/" for p in parts))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return ""
            path = self._real_path([*self._own_name(parts), "index.html"])
        return path

    @staticmethod
    def _open_regular(path: str | None) -> tuple[BinaryIO, os.stat_result] | None:
        """Only regular files: opening a FIFO would wait for a writer, for ever. Checked before opening, and
        again on what was opened (without blocking), in case the name changed in between."""
        try:
            f = None
            if path and stat.S_ISREG(os.stat(path).st_mode):
                f = os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW), "rb")
            st = os.fstat(f.fileno()) if f else None
        except OSError:
            f = st = None
        if f is None or st is None or not stat.S_ISREG(st.st_mode):
            if f:
                f.close()
            return None
        return f, st

    def _send_file(self, f, path: str, st: os.stat_result):
        size, mtime = st.st_size, int(st.st_mtime)
        etag = _etag(f, st)
        none_match = self.headers.get("If-None-Match")
        if none_match is not None:
            fresh = none_match.strip() == "*" or etag in _etag_list(none_match)
        else:
            since = _http_date(self.headers.get("If-Modified-Since"))
            fresh = since is not None and mtime <= since
        if fresh:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self._validators(etag, mtime)
            self.end_headers()
            f.close()
            return None
        span = self._range(size, etag, mtime)
        if span == "unsatisfiable":
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self._validators(etag, mtime)
            self.end_headers()
            f.close()
            return None
        if span is None:
            start, end = 0, size - 1
            self.send_response(HTTPStatus.OK)
        else:
            start, end = span
            self.send_response(HTTPStatus.PARTIAL_CONTENT)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Length", str(end - start + 1))
        self._validators(etag, mtime)
        self.end_headers()
        f.seek(start)
        self._remaining = end - start + 1
        return f

    def _validators(self, etag: str, mtime: int) -> None:
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", self.date_time_string(mtime))
        self.send_header("Accept-Ranges", "bytes")
        # A preview follows rebuilds: clients may keep a copy but must revalidate it (cheap, with the ETag).
        self.send_header("Cache-Control", "no-cache")

    def _range(self, size: int, etag: str, mtime: int):
        """(start, end) for a 206, None for the whole file, or "unsatisfiable" for a 416 (RFC 9110 §14)."""
        header = self.headers.get("Range")
        if header is None:
            return None
        if_range = self.headers.get("If-Range")
        if if_range is not None:
            if_range = if_range.strip()
            # An entity tag must match strongly; a date only if it is exactly our Last-Modified.
            same = if_range == etag if if_range.startswith(('"', "W/")) else _http_date(if_range) == mtime
            if not same:
                return None
        m = _RANGE.fullmatch(header.strip())
        # Several ranges or a malformed one: the whole file is a valid answer, and every client can use it.
        if not m or not (m.group(1) or m.group(2)):
            return None
        first, last = m.group(1), m.group(2)
        if first:
            start = _number(first)
            end = min(_number(last), size - 1) if last else size - 1
            if last and _number(last) < start:
                return None
        else:
            suffix = _number(last)
            if suffix == 0:
                return "unsatisfiable"
            start, end = max(0, size - suffix), size - 1
        if start >= size:
            return "unsatisfiable"
        return start, end

    def copyfile(self, source, outputfile):
        remaining = getattr(self, "_remaining", None)
        if remaining is None:
            return super().copyfile(source, outputfile)
        while remaining > 0:
            chunk = source.read(min(65536, remaining))
            if not chunk:
                break
            outputfile.write(chunk)
            remaining -= len(chunk)
        self._remaining = None


class PreviewServer(ThreadingHTTPServer):
    # A deep accept queue: a burst of connections must not make the kernel drop a new client's SYN
    # (its retries back off for about a minute).
    request_queue_size = 1024
    # Do not wait for idle clients on Ctrl+C.
    block_on_close = False
    max_per_client = MAX_PER_CLIENT
    max_connections = MAX_CONNECTIONS

    def __init__(self, *args, **kw):
        self._lock = threading.Lock()
        self._open: dict[socket.socket, str] = {}  # every connection, by its client's address
        self._heads: OrderedDict[socket.socket, None] = OrderedDict()  # those still sending their head, oldest first
        super().__init__(*args, **kw)

    def process_request(self, request, client_address):
        client = client_address[0]
        with self._lock:
            mine = {s for s, c in self._open.items() if c == client}
            full = len(mine) >= self.max_per_client or len(self._open) >= self.max_connections
            victim = None
            if full:
                pool = [s for s in self._heads if s in mine] if len(mine) >= self.max_per_client else list(self._heads)
                victim = pool[0] if pool else None
                if victim is not None:
                    del self._heads[victim]
            if not full or victim is not None:
                self._open[request] = client
                self._heads[request] = None
        if victim is not None:
            log.info("%s: too many connections; dropping one still sending its request", client)
            self._drop(victim)
        elif full:
            log.warning("%s: too many connections; refused one", client)
            try:
                request.setblocking(False)
                request.send(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass
            super().shutdown_request(request)
            return
        super().process_request(request, client_address)

    @staticmethod
    def _drop(sock: socket.socket) -> None:
        try:  # its thread, waiting on the socket, sees the end of the stream and finishes
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def head_started(self, request) -> None:
        with self._lock:
            if request in self._open:
                self._heads[request] = None

    def head_done(self, request) -> None:
        with self._lock:
            self._heads.pop(request, None)

    def shutdown_request(self, request):
        # Forgotten before it is closed: a client that sees the close may connect again at once.
        with self._lock:
            self._open.pop(request, None)
            self._heads.pop(request, None)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            log.debug("%s went away: %s", client_address[0], exc)
        else:
            log.error("Unexpected error while answering %s", client_address[0], exc_info=True)


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8000, *, idle_timeout: float = IDLE_TIMEOUT,
                head_timeout: float = HEAD_TIMEOUT, max_per_client: int = MAX_PER_CLIENT,
                max_connections: int = MAX_CONNECTIONS) -> ThreadingHTTPServer:
    """Bind the server (not started). Raises AudioguideError when the address cannot be used."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family = infos[0][0]
    except (socket.gaierror, UnicodeError) as exc:
        raise AudioguideError(_("Cannot listen on {host!r}: no such address ({error}).").format(host=host, error=exc),
                              fix=_("give an IP address such as 127.0.0.1 with --host")) from exc
    handler = type("Handler", (Handler,), {"timeout": idle_timeout, "head_timeout": head_timeout})
    server_class = type("PreviewServer", (PreviewServer,), {"address_family": family, "max_per_client": max_per_client,
                                                            "max_connections": max_connections})
    try:
        return server_class((host, port), partial(handler, directory=str(root)))
    except OverflowError as exc:
        raise AudioguideError(_("Port {port} does not exist.").format(port=port),
                              fix=_("choose a --port from 0 to 65535")) from exc
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            fix = _("stop the other server, or choose another --port (e.g. --port 8001)")
        elif exc.errno in (errno.EACCES, errno.EPERM):
            fix = _("ports below 1024 need administrator rights; choose --port 8000 or above")
        elif exc.errno == errno.EADDRNOTAVAIL:
            fix = _("this computer has no such address; use --host 127.0.0.1")
        else:
            fix = _("choose another --port or --host")
        raise AudioguideError(_("Cannot listen on {address}: {error}.").format(address=f"{host}:{port}",
                                                                              error=exc.strerror), fix=fix) from exc


def public_warning(server: ThreadingHTTPServer) -> str | None:
    """A warning when the server listens on more than this computer (0.0.0.0, ::, or a network address)."""
    host = str(server.server_address[0])
    try:
        if ipaddress.ip_address(host.split("%")[0]).is_loopback:
            return None
    except ValueError:
        pass
    return _("Listening on {host}: anyone on the local network (or beyond, if this port is reachable) can "
             "download this health guide and every file in the folder. "
             "Use --host 127.0.0.1 to keep it on this computer.").format(host=host)


def entry_points(root: Path, base_url: str) -> list[str]:
    """The pages worth opening, since there are no directory listings: each guide's kiosk and feed, at the
    addresses its feed uses (a guide folder served itself goes by its own name, as its local feed does)."""
    found = []
    own = quote(Path(os.path.realpath(root)).name) + "/"
    for pattern, what in (("kiosk/index.html", "kiosk"), ("feed.xml", "podcast feed")):
        for path in sorted([*root.glob(pattern), *root.glob("*/" + pattern)]):
            rel = path.relative_to(root).as_posix()
            if any(p.startswith(".") for p in rel.split("/")):
                continue
            at_root = rel == pattern and not own.startswith(".")
            address = base_url + (own if at_root else "") + quote(rel.removesuffix("index.html"))
            line = f"{what}: {address}"
            if what == "podcast feed" and (named := _feed_address(path)) and named != address:
                line += f" (its links point at {named.removesuffix('feed.xml')}: build with --base-url " \
                        f"{address.removesuffix('feed.xml')} to try them here)"
            found.append(line)
    return found


def _feed_address(path: Path) -> str | None:
    """The address a feed gives itself (its atom:link rel="self"), read from the start of the file."""
    try:
        with open(path, "rb") as f:
            head = f.read(65536).decode("utf-8", "replace")
    except OSError:
        return None
    m = re.search(r'<atom:link href="([^"]*)" rel="self"', head)
    return html.unescape(m.group(1)) if m else None
