"""`audioguide serve` over real HTTP on loopback: only the folder's own visible files, correct ranges and
validators (a resumed download never mixes two builds), clean answers to bad requests, no stall on idle clients."""

import email.utils
import errno
import http.client
import logging
import os
import re
import select
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from audioguide.cli import cli
from audioguide.serve import make_server

SIZE = 1000


@pytest.fixture
def site(tmp_path):
    """A served folder shaped like output/, plus things that must never be reachable through it."""
    root = tmp_path / "site"
    (root / "g" / "audio").mkdir(parents=True)
    (root / "g" / "kiosk").mkdir()
    (root / "g" / ".hidden").mkdir()
    (root / "g" / "kiosk" / "index.html").write_text("<title>kiosque</title>")
    (root / "g" / "audio" / "a.mp3").write_bytes(os.urandom(SIZE))
    (root / "g" / "audio" / ".a.mp3.k2j4.mp3").write_bytes(b"half-written")
    (root / "g" / ".hidden" / "x.txt").write_text("hidden")
    (root / "g" / "feed.xml").write_text("<rss/>")
    (root / ".build-state.json").write_text('{"state": 1}')
    (tmp_path / "secret.txt").write_text("outside secret")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "notes.txt").write_text("outside notes")
    (root / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (root / "leakdir").symlink_to(tmp_path / "outside")
    (root / "state.json").symlink_to(root / ".build-state.json")
    (root / "g" / "latest.mp3").symlink_to(root / "g" / "audio" / "a.mp3")
    return root


def _start(root, **kw):
    server = make_server(root, port=0, **kw)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def port(site):
    server = _start(site)
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def get(port, path, headers=None, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def raw(port, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


# --- what may be served ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/leak.txt", "/leakdir/", "/leakdir", "/leakdir/notes.txt"])
def test_symlinks_out_of_the_folder_are_refused(port, path):
    status, _, body = get(port, path)
    assert status == 404
    assert b"outside" not in body and b"notes.txt" not in body


def test_symlink_inside_the_folder_is_served_but_not_to_a_hidden_file(port, site):
    assert get(port, "/g/latest.mp3")[2] == (site / "g" / "audio" / "a.mp3").read_bytes()
    status, _, body = get(port, "/state.json")
    assert status == 404 and b"state" not in body


@pytest.mark.parametrize("path", ["/.build-state.json", "/g/.hidden/x.txt", "/g/audio/.a.mp3.k2j4.mp3",
                                  "/g/%2ehidden/x.txt", "/g/audio/%2e%2e/%2e%2e/.build-state.json"])
def test_hidden_files_and_dot_segments_are_refused(port, path):
    status, _, body = get(port, path)
    assert status == 404
    assert b"hidden" not in body and b"half-written" not in body and b'"state"' not in body


@pytest.mark.parametrize("path", ["/", "/g/", "/g/audio/"])
def test_no_directory_listing(port, path):
    status, _, body = get(port, path)
    assert status == 404
    assert b"a.mp3" not in body and b"kiosk" not in body and b"feed.xml" not in body


def test_kiosk_folder_serves_its_index(port):
    status, headers, body = get(port, "/g/kiosk/")
    assert status == 200 and body == b"<title>kiosque</title>"
    assert headers["content-type"].startswith("text/html")
    status, headers, _ = get(port, "/g/kiosk?x=1")
    assert status == 301 and headers["location"] == "/g/kiosk/"


@pytest.mark.parametrize("path", ["/manifest.json%00.mp3", "/g/feed.xml%00", "/%ff%fe", "/g%5c..%5csecret.txt"])
def test_invalid_paths_get_a_clean_400_without_traceback(port, path, capfd, caplog):
    caplog.set_level(logging.DEBUG, logger="audioguide")
    status, _, body = get(port, path)
    assert status == 400 and b"Traceback" not in body and b"<p>Message: Bad path.</p>" in body
    assert "Traceback" not in capfd.readouterr().err and "Traceback" not in caplog.text
    assert get(port, "/g/feed.xml")[0] == 200  # and the server carries on


def test_log_lines_cannot_be_forged(port, caplog):
    caplog.set_level(logging.INFO, logger="audioguide")
    raw(port, b"GET /\x1b[2J\x1b[31mFAKE\x85 HTTP/1.0\r\n\r\n")
    assert "\x1b" not in caplog.text and "\\x1b[2J" in caplog.text


# --- ranges ----------------------------------------------------------------------------------------------------

HUGE = "9" * 5000  # past Python's 4,300-digit int() limit


@pytest.mark.parametrize("rng, start, end", [
    ("bytes=100-199", 100, 199),
    ("bytes=900-1999", 900, 999),        # end past the size is clamped
    ("bytes=0-" + HUGE, 0, 999),
    ("bytes=500-", 500, 999),            # open-ended
    ("bytes=999-999", 999, 999),
    ("bytes=-100", 900, 999),            # suffix: the last 100 bytes
    ("bytes=-1", 999, 999),              # the shortest suffix is the last byte, not nothing
    ("bytes=-5000", 0, 999),             # suffix longer than the file
    (" bytes=10-19 ", 10, 19),
])
def test_satisfiable_ranges(port, site, rng, start, end):
    data = (site / "g" / "audio" / "a.mp3").read_bytes()
    status, headers, body = get(port, "/g/audio/a.mp3", {"Range": rng})
    assert status == 206
    assert headers["content-range"] == f"bytes {start}-{end}/{SIZE}"
    assert headers["content-length"] == str(end - start + 1)
    assert body == data[start:end + 1]
    assert headers["content-type"] == "audio/mpeg"


@pytest.mark.parametrize("rng", ["bytes=1000-", "bytes=5000-6000", "bytes=-0", f"bytes={HUGE}-"])
def test_unsatisfiable_ranges_get_416_with_the_size(port, rng):
    status, headers, body = get(port, "/g/audio/a.mp3", {"Range": rng})
    assert status == 416 and headers["content-range"] == f"bytes */{SIZE}" and body == b""


@pytest.mark.parametrize("rng", ["bytes=0-1,5-9", "bytes=0-1, 900-", "bytes=abc", "bytes=-", "bytes=5-2",
                                 "items=0-5", "bytes 0-5", ""])
def test_multiple_or_malformed_ranges_get_the_whole_file(port, site, rng):
    status, headers, body = get(port, "/g/audio/a.mp3", {"Range": rng})
    assert status == 200 and "content-range" not in headers
    assert body == (site / "g" / "audio" / "a.mp3").read_bytes()


def test_head_with_a_range_sends_headers_only(port):
    status, headers, body = get(port, "/g/audio/a.mp3", {"Range": "bytes=-10"}, method="HEAD")
    assert status == 206 and headers["content-range"] == f"bytes 990-999/{SIZE}" and body == b""


# --- validators: resuming and revalidating ---------------------------------------------------------------------

def test_200_and_206_carry_the_same_strong_validators(port):
    _, full, _ = get(port, "/g/audio/a.mp3")
    _, part, _ = get(port, "/g/audio/a.mp3", {"Range": "bytes=0-9"})
    assert full["etag"].startswith('"') and full["etag"] == part["etag"]
    assert full["last-modified"] == part["last-modified"]
    assert email.utils.parsedate_to_datetime(full["last-modified"])
    assert full["accept-ranges"] == "bytes"


def _rebuild(path, data):
    """Replace a file the way a build does (temp file + rename), keeping size and even mtime."""
    st = path.stat()
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_bytes(data)
    os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(tmp, path)


def test_resumed_download_across_a_rebuild_is_never_a_mix(port, site):
    mp3 = site / "g" / "audio" / "a.mp3"
    old = mp3.read_bytes()
    status, headers, first = get(port, "/g/audio/a.mp3", {"Range": "bytes=0-399"})
    assert status == 206 and first == old[:400]
    new = os.urandom(SIZE)
    _rebuild(mp3, new)
    status, again, rest = get(port, "/g/audio/a.mp3", {"Range": "bytes=400-", "If-Range": headers["etag"]})
    # The client's piece is stale: it gets the whole new file, never old[:400] + new[400:].
    assert status == 200 and rest == new
    assert again["etag"] != headers["etag"]


def test_if_range_that_matches_resumes(port, site):
    data = (site / "g" / "audio" / "a.mp3").read_bytes()
    _, headers, _ = get(port, "/g/audio/a.mp3")
    for validator in (headers["etag"], headers["last-modified"]):
        status, _, body = get(port, "/g/audio/a.mp3", {"Range": "bytes=400-", "If-Range": validator})
        assert status == 206 and body == data[400:]


@pytest.mark.parametrize("if_range", ['"0123"', 'W/"x"', "Mon, 01 Jan 2001 00:00:00 GMT", "not a date"])
def test_if_range_that_does_not_match_sends_the_whole_file(port, site, if_range):
    status, _, body = get(port, "/g/audio/a.mp3", {"Range": "bytes=400-", "If-Range": if_range})
    assert status == 200 and body == (site / "g" / "audio" / "a.mp3").read_bytes()


def test_conditional_requests_get_304(port):
    _, h, _ = get(port, "/g/audio/a.mp3")
    etag, modified = h["etag"], h["last-modified"]
    for headers in ({"If-None-Match": etag}, {"If-None-Match": f'"other", {etag}'}, {"If-None-Match": "*"},
                    {"If-Modified-Since": modified}):
        status, got, body = get(port, "/g/audio/a.mp3", headers)
        assert (status, body) == (304, b"") and got["etag"] == etag, headers
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    for headers in ({"If-None-Match": '"other"'}, {"If-Modified-Since": old},
                    {"If-None-Match": '"other"', "If-Modified-Since": modified}):  # the ETag test wins
        assert get(port, "/g/audio/a.mp3", headers)[0] == 200, headers


# --- idle clients ----------------------------------------------------------------------------------------------

def test_idle_half_sent_request_is_dropped(site):
    server = _start(site, idle_timeout=0.5)
    try:
        # Our own timeout is only against a hang: reached, recv raises instead of returning b"".
        with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=120) as s:
            s.sendall(b"GET /g/feed.xml HTTP/1.1\r\nHost: x\r\n")  # never finished
            assert s.recv(100) == b""  # closed by the server
    finally:
        server.shutdown()
        server.server_close()


def test_a_trickled_request_head_is_dropped_at_its_deadline(site):
    """A header byte at a time keeps every read short, so only a deadline for the whole head ends it."""
    server = _start(site, idle_timeout=30, head_timeout=0.3)
    port = server.server_address[1]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(b"GET /g/feed.xml HTTP/1.1\r\n")
            line = b"X-Slow: a\r\n"
            for i in range(3000):  # the bound is only reached if the server never closes
                try:
                    s.sendall(line[i % len(line):i % len(line) + 1])
                except OSError:
                    break
                if select.select([s], [], [], 0.05)[0]:  # the server closed (or answered)
                    break
            try:
                answer = s.recv(100)
            except ConnectionResetError:
                answer = b""
            assert answer == b"" and i < 1000  # closed without an answer, long before 100 headers (a 431)
        assert get(port, "/g/feed.xml")[0] == 200
    finally:
        server.shutdown()
        server.server_close()


def test_a_request_head_past_its_deadline_is_logged_as_such(site, caplog):
    """The log says why the connection was closed: the head's deadline (here none at all), not an idle socket."""
    caplog.set_level(logging.INFO, logger="audioguide")
    server = _start(site, idle_timeout=30, head_timeout=0)
    try:
        assert raw(server.server_address[1], b"GET /g/feed.xml HTTP/1.1\r\nHost: x\r\n\r\n") == b""
    finally:
        server.shutdown()
        server.server_close()
    assert "127.0.0.1 Request timed out: TimeoutError('request head not sent in time')" in caplog.messages


def test_one_client_cannot_hold_more_than_its_share(site, caplog):
    """Past its share, a client's oldest connection still sending its head makes way for the new one."""
    caplog.set_level(logging.INFO, logger="audioguide")
    server = _start(site, max_per_client=3, head_timeout=60, idle_timeout=60)
    port = server.server_address[1]
    idle = []
    try:
        for _ in range(3):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=30))
            idle[-1].sendall(b"GET /g/feed.xml HTTP/1.1\r\nHost: x\r\n")
        status, _, body = get(port, "/g/feed.xml")
        assert status == 200 and body == b"<rss/>"
        assert idle[0].recv(100) == b""  # the oldest, dropped by the server
        # the person running `audioguide serve` is told which client it was, and why
        assert "127.0.0.1: too many connections; dropping one still sending its request" in caplog.messages
    finally:
        for s in idle:
            s.close()
        server.shutdown()
        server.server_close()


def test_past_its_share_a_client_busy_downloading_gets_a_503(site):
    big = site / "g" / "audio" / "big.mp3"
    with big.open("wb") as f:
        f.truncate(64 << 20)
    server = _start(site, max_per_client=1, idle_timeout=60)
    port = server.server_address[1]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as slow:
            slow.sendall(b"GET /g/audio/big.mp3 HTTP/1.1\r\nHost: x\r\n\r\n")
            assert slow.recv(12) == b"HTTP/1.0 200"  # its head is read; it now reads no further
            assert raw(port, b"GET /g/feed.xml HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 503")
    finally:
        server.shutdown()
        server.server_close()


class _Heard(logging.Handler):
    """Wakes the test when the server logs a record at exactly `level` (it logs from its own thread), about
    `client` if given: an earlier test's server thread may log late about its own client, under load."""

    def __init__(self, level, client=""):
        super().__init__(level)
        self.records, self.event, self.client = [], threading.Event(), client

    def emit(self, record):
        if record.levelno == self.level and record.getMessage().startswith(self.client):
            self.records.append(record)
            self.event.set()


def test_a_client_that_goes_away_mid_download_is_only_a_debug_line(site):
    big = site / "g" / "audio" / "big.mp3"
    with big.open("wb") as f:
        f.truncate(64 << 20)
    # From a loopback address of its own: the test before this one leaves a server thread writing 64 MB to a
    # client that closed, which can log its own "127.0.0.1 went away" once this test listens.
    heard = _Heard(logging.DEBUG, client="127.0.0.2 ")
    logger = logging.getLogger("audioguide.serve")
    logger.addHandler(heard)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    server = _start(site)
    try:
        with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=30,
                                      source_address=("127.0.0.2", 0)) as s:
            s.sendall(b"GET /g/audio/big.mp3 HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(12) == b"HTTP/1.0 200"
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # close with a reset
        assert heard.event.wait(60)
        [record] = heard.records
        assert record.exc_info is None
        assert re.fullmatch(r"127\.0\.0\.2 went away: \[Errno \d+\] .+", record.getMessage())
        assert get(server.server_address[1], "/g/feed.xml")[0] == 200
    finally:
        logger.removeHandler(heard)
        logger.setLevel(old_level)
        server.shutdown()
        server.server_close()


def test_a_fault_while_answering_is_logged_with_its_traceback_and_the_server_carries_on(site, port, monkeypatch):
    """A bug (here a fault injected into the 404 answer) shows as an error naming the client, with the
    traceback to report; the other requests are still answered."""
    from audioguide.serve import Handler

    def broken(self):
        raise RuntimeError("injected fault")

    heard = _Heard(logging.ERROR)
    logging.getLogger("audioguide.serve").addHandler(heard)
    monkeypatch.setattr(Handler, "_not_found", broken)
    try:
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            get(port, "/g/missing.mp3")
        assert heard.event.wait(60)
    finally:
        logging.getLogger("audioguide.serve").removeHandler(heard)
    [record] = heard.records
    assert record.getMessage() == "Unexpected error while answering 127.0.0.1"
    assert record.exc_info and str(record.exc_info[1]) == "injected fault"
    assert get(port, "/g/feed.xml")[0] == 200


def test_past_the_servers_share_a_new_client_gets_a_503(site):
    big = site / "g" / "audio" / "big.mp3"
    with big.open("wb") as f:
        f.truncate(64 << 20)
    server = _start(site, max_per_client=10, max_connections=1, idle_timeout=60)
    port = server.server_address[1]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as slow:
            slow.sendall(b"GET /g/audio/big.mp3 HTTP/1.1\r\nHost: x\r\n\r\n")
            assert slow.recv(12) == b"HTTP/1.0 200"
            assert raw(port, b"GET /g/feed.xml HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 503")
    finally:
        server.shutdown()
        server.server_close()


def test_a_fifo_in_the_folder_is_not_opened(site, port):
    """Opening a FIFO waits for a writer: the handler would hang for ever. Only regular files are opened."""
    os.mkfifo(site / "g" / "pipe.mp3")
    assert get(port, "/g/pipe.mp3")[0] == 404
    assert get(port, "/g/feed.xml")[0] == 200
def still_open(s: socket.socket) -> bool:
    """The server has neither closed the connection nor answered on it: nothing to read yet."""
    return not select.select([s], [], [], 0)[0]


def test_a_flood_of_idle_connections_does_not_block_others(site, tmp_path):
    # A separate process, as `audioguide serve` runs: in-process, the GIL paces the flood to the server's speed.
    log_file = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "audioguide", "serve", str(site), "--port", "0"],
                            stdout=log_file, stderr=subprocess.STDOUT)
    idle = []
    try:
        port = None
        while port is None and proc.poll() is None:  # until the server says where it listens, however slow
            if m := re.search(r"http://127\.0\.0\.1:(\d+)/", Path(log_file.name).read_text()):
                port = int(m.group(1))
            time.sleep(0.05)
        assert port, Path(log_file.name).read_text()
        for i in range(200):
            s = socket.create_connection(("127.0.0.1", port), timeout=60)
            s.sendall(b"GET /g/feed.xml HTTP/1.1\r\nHost: x\r\n")  # and never the end of the request
            idle.append(s)
            if i % 50 == 49:
                status, _, body = get(port, "/g/feed.xml")
                assert status == 200 and body == b"<rss/>"
                # Answered while the server still waits on the idle ones: not after dropping them (10 s idle
                # timeout). An order of events, not a time measured on a machine that may be busy.
                assert still_open(s), "the request was answered only once the idle connections were dropped"
    finally:
        for s in idle:
            s.close()
        proc.terminate()
        proc.wait(10)
        log_file.close()


# --- the command -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["99999", "-1", "65536", "http"])
def test_port_out_of_range_is_a_clear_error(site, value):
    r = CliRunner().invoke(cli, ["serve", str(site), "--port", value])
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit) and "Traceback" not in r.output
    assert "--port" in r.output and "Invalid value" in r.output


def test_a_port_reserved_to_the_administrator_says_so(site, monkeypatch):
    """As a volunteer (not root) sees it: the tests run as root, so the refusal a user gets is injected."""
    def refuse(self):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(socketserver.TCPServer, "server_bind", refuse)
    r = CliRunner().invoke(cli, ["serve", str(site), "--port", "80"])
    assert r.exit_code == 1 and "Cannot listen on 127.0.0.1:80: Permission denied." in r.output
    assert "ports below 1024 need administrator rights; choose --port 8000 or above" in r.output


def test_port_in_use_is_a_clear_error(site):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        r = CliRunner().invoke(cli, ["serve", str(site), "--port", str(busy.getsockname()[1])])
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit)
    assert "already in use" in r.output and "another --port" in r.output


@pytest.fixture
def no_loop(monkeypatch):
    """Bind for real but never answer: the command's start-up is what is tested, nothing is exposed."""
    monkeypatch.setattr(socketserver.BaseServer, "serve_forever", lambda self, *a, **k: None)


@pytest.mark.parametrize("host", ["0.0.0.0", ""])
def test_listening_beyond_loopback_warns(site, no_loop, caplog, host):
    r = CliRunner().invoke(cli, ["serve", str(site), "--port", "0", "--host", host])
    assert r.exit_code == 0, r.output
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert re.fullmatch(r"Listening on (0\.0\.0\.0|::): anyone on the local network \(or beyond, if this port is "
                        r"reachable\) can download this health guide and every file in the folder\. "
                        r"Use --host 127\.0\.0\.1 to keep it on this computer\.", warning), warning


def test_loopback_does_not_warn_and_shows_the_kiosk(site, no_loop, caplog):
    r = CliRunner().invoke(cli, ["serve", str(site), "--port", "0"])
    assert r.exit_code == 0, r.output
    assert "local network" not in caplog.text
    assert "/g/kiosk/" in r.output and "/g/feed.xml" in r.output


# --- answers without a body, and what the server is told it cannot do -------------------------------------------

def test_answers_without_a_body_say_so_and_keep_the_files_dates(port):
    _, full, _ = get(port, "/g/audio/a.mp3")
    for headers, want in (({"Range": "bytes=5000-"}, 416), ({"If-None-Match": full["etag"]}, 304)):
        status, got, body = get(port, "/g/audio/a.mp3", headers)
        assert (status, body) == (want, b"")
        assert got["last-modified"] == full["last-modified"] and got["etag"] == full["etag"], headers
    status, got, body = get(port, "/g/audio/a.mp3", {"Range": "bytes=5000-"})
    assert got["content-length"] == "0"
    status, got, body = get(port, "/g/kiosk")  # a folder without its slash: sent on, with an empty body
    assert status in (301, 308) and got["content-length"] == "0" and got["location"].endswith("/g/kiosk/")


def test_request_log_names_the_client(port, caplog):
    caplog.set_level(logging.INFO, logger="audioguide")
    get(port, "/g/feed.xml")
    assert any(r.getMessage().startswith("127.0.0.1 ") and "/g/feed.xml" in r.getMessage() for r in caplog.records)


def test_addresses_the_server_cannot_use_are_explained(site):
    from audioguide.exceptions import AudioguideError

    with pytest.raises(AudioguideError) as exc:
        make_server(site, host="no-such-host.invalid", port=0)
    assert "Cannot listen on 'no-such-host.invalid': no such address (" in str(exc.value)
    assert "Fix: give an IP address such as 127.0.0.1 with --host" in str(exc.value)
    with pytest.raises(AudioguideError) as exc:
        make_server(site, port=70000)
    assert "Port 70000 does not exist." in str(exc.value) and "Fix: choose a --port from 0 to 65535" in str(exc.value)
    with pytest.raises(AudioguideError) as exc:  # TEST-NET-1: on no machine's interfaces; nothing is sent
        make_server(site, host="192.0.2.1", port=0)
    assert "Fix: this computer has no such address; use --host 127.0.0.1" in str(exc.value)
    if socket.has_ipv6:
        with pytest.raises(AudioguideError) as exc:  # a link-local address needs its interface (fe80::1%eth0)
            make_server(site, host="fe80::1", port=0)
        assert str(exc.value).endswith("Fix: choose another --port or --host")


def test_start_up_lists_visible_kiosks_and_feeds_only(site):
    from audioguide.serve import entry_points

    (site / ".old" / "kiosk").mkdir(parents=True)
    (site / ".old" / "kiosk" / "index.html").write_text("old")
    found = entry_points(site, "http://127.0.0.1:8000/")
    assert found == ["kiosk: http://127.0.0.1:8000/g/kiosk/", "podcast feed: http://127.0.0.1:8000/g/feed.xml"]


def test_last_modified_is_the_files_own_date(port, site):
    """Not the time of the request: a client compares it with what it has, to know whether to fetch again."""
    mp3 = site / "g" / "audio" / "a.mp3"
    os.utime(mp3, (978_307_200, 978_307_200))  # 2001-01-01
    for headers in ({}, {"Range": "bytes=0-9"}):
        _, got, _ = get(port, "/g/audio/a.mp3", headers)
        assert email.utils.parsedate_to_datetime(got["last-modified"]).timestamp() == 978_307_200, headers


# --- a guide folder served itself answers under its own name, as its local feed names it ------------------------

@pytest.fixture
def guide_port(site):
    server = _start(site / "g")
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("prefix", ["", "/g"])
def test_a_guide_folder_served_itself_answers_with_and_without_its_name(guide_port, site, prefix):
    assert get(guide_port, prefix + "/audio/a.mp3")[2] == (site / "g" / "audio" / "a.mp3").read_bytes()
    assert get(guide_port, prefix + "/feed.xml")[:3:2] == (200, b"<rss/>")
    assert get(guide_port, prefix + "/kiosk/")[2] == b"<title>kiosque</title>"
    status, headers, _ = get(guide_port, prefix + "/kiosk")
    assert status == 301 and headers["location"] == prefix + "/kiosk/"


@pytest.mark.parametrize("path", ["/g/.hidden/x.txt", "/g/audio/.a.mp3.k2j4.mp3", "/g/", "/g/../leak.txt",
                                  "/g/g/feed.xml", "/site/g/feed.xml"])
def test_its_own_name_reaches_nothing_more(guide_port, path):
    status, _, body = get(guide_port, path)
    assert status == 404 and b"hidden" not in body and b"rss" not in body


def test_a_real_folder_of_that_name_comes_first(site):
    (site / "g" / "g").mkdir()
    (site / "g" / "g" / "feed.xml").write_text("inner")
    server = _start(site / "g")
    try:
        assert get(server.server_address[1], "/g/feed.xml")[2] == b"inner"
    finally:
        server.shutdown()
        server.server_close()


def test_start_up_lists_a_guide_folder_at_its_feeds_addresses(site):
    from audioguide.serve import entry_points

    (site / "g" / "feed.xml").write_text('<rss><channel><atom:link href="http://127.0.0.1:8000/g/feed.xml" '
                                         'rel="self" type="application/rss+xml"/></channel></rss>')
    assert entry_points(site / "g", "http://127.0.0.1:8000/") == [
        "kiosk: http://127.0.0.1:8000/g/kiosk/", "podcast feed: http://127.0.0.1:8000/g/feed.xml"]
    # Another port than the feed's: its links would not answer here, and the start-up list says so.
    [_, feed] = entry_points(site, "http://127.0.0.1:8001/")
    assert feed == ("podcast feed: http://127.0.0.1:8001/g/feed.xml (its links point at http://127.0.0.1:8000/g/: "
                    "build with --base-url http://127.0.0.1:8001/g/ to try them here)")


# --- a real build: the feed's "website" link answers ---------------------------------------------------------

@pytest.fixture(scope="module")
def built_guide(tmp_path_factory):
    """The fixture guide (no `link:`, no base URL) built as output/mini, with the silent engine."""
    from audioguide.build import build

    from conftest import DATA, have_tools, settings_for

    if not have_tools():
        pytest.skip("needs espeak-ng and ffmpeg")
    tmp = tmp_path_factory.mktemp("serve-build")
    result = build(DATA / "mini", settings_for(tmp, engine="silence", out_dir=tmp / "output" / "mini"))
    return result.out_dir


@pytest.mark.parametrize("served", ["output", "output/mini"])
def test_the_feeds_website_link_opens_the_guide_as_written(built_guide, served):
    from lxml import etree

    server = _start(built_guide.parent if served == "output" else built_guide)
    try:
        port = server.server_address[1]
        status, _, feed = get(port, "/mini/feed.xml")
        assert status == 200
        channel = etree.fromstring(feed).find("channel")
        link = channel.findtext("link")
        assert channel.findtext("image/link") == link
        # The local default address (port 8000); this server answers the same paths on its own port.
        assert link == "http://127.0.0.1:8000/mini/transcript.html"
        status, headers, body = get(port, link.removeprefix("http://127.0.0.1:8000"))
        assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
        assert body == (built_guide / "transcript.html").read_bytes() and b'lang="fr"' in body
    finally:
        server.shutdown()
        server.server_close()
