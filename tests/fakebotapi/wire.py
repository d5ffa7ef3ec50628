"""HTTP: the threaded server, its request handler, and the parsing of request bodies."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import traceback
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from .protocol import (
    _BOT_PATH_RE,
    _DROP,
    _FILE_PATH_RE,
    _HEADER_PARAM_RE,
    _HTML5_ESCAPE_RE,
    _JSON_START_CHARS,
    _LOGGER,
    _STRING_PARAMS,
    BotAPIError,
    StoredFile,
    _ParsedRequest,
)

if TYPE_CHECKING:
    from .server import FakeBotAPI


class _HTTPServer(ThreadingHTTPServer):
    # Non-daemon handler threads let server_close() join them, so nothing outlives stop().
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 resets connections when a bot opens many at once.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        api: FakeBotAPI,
    ) -> None:
        self.api = api
        self._connections: set[socket.socket] = set()
        self._answering: set[socket.socket] = set()
        self._connections_changed = threading.Condition()
        super().__init__(address, handler)

    def track(self, connection: socket.socket, active: bool) -> None:
        with self._connections_changed:
            if active:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    @contextlib.contextmanager
    def answering(self, connection: socket.socket) -> Iterator[None]:
        """Mark a connection as busy with a request until its answer is written."""
        with self._connections_changed:
            self._answering.add(connection)
        try:
            yield
        finally:
            with self._connections_changed:
                self._answering.discard(connection)
                self._connections_changed.notify_all()

    def close_connections(self, drain: float = 1.0) -> None:
        """Shut every connection down once the answers in flight are written.

        stop() releases pending long-polls; cutting their sockets while the answer is being
        written would hand the client half a response. Waits at most `drain` seconds.
        """
        with self._connections_changed:
            self._connections_changed.wait_for(lambda: not self._answering, timeout=drain)
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the peer
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (cancelled long-polls, stop()) raise OSErrors and are normal;
        # anything else is a bug in the fake and is surfaced through api.server_errors.
        if isinstance(sys.exc_info()[1], OSError):
            return
        self.api._record_server_error(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like api.telegram.org
    # Headers and body go out in separate writes; with Nagle on, delayed ACKs add ~40 ms each.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, active=True)

    def finish(self) -> None:
        self.server.track(self.connection, active=False)
        with contextlib.suppress(OSError):  # the client may already be gone
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        _LOGGER.debug("FakeBotAPI %s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, http_method: str) -> None:
        with self.server.answering(self.connection):
            self._answer(http_method)

    def _answer(self, http_method: str) -> None:
        api = self.server.api
        split = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(split.path)
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self._send_json(400, BotAPIError(400, "Bad Request: unreadable body").payload())
            return
        file_match = _FILE_PATH_RE.match(path)
        if file_match and http_method == "GET":
            status, served = api._serve_file(file_match["token"], file_match["path"])
            if status == _DROP:
                self.close_connection = True
            elif isinstance(served, StoredFile):
                self._send_bytes(200, served.data, "application/octet-stream")
            else:
                self._send_json(status, served.payload())
            return
        api_match = _BOT_PATH_RE.match(path)
        if api_match is None:
            self._send_json(404, BotAPIError(404, "Not Found").payload())
            return
        try:
            parsed = _parse_request(self.headers.get("Content-Type", ""), body, split.query)
        except ValueError as err:
            self._send_json(400, BotAPIError(400, f"Bad Request: {err}").payload())
            return
        try:
            status, payload = api._handle_api_request(
                api_match["token"], api_match["method"], http_method, parsed
            )
        except Exception:
            api._record_server_error(traceback.format_exc())
            status, payload = 500, BotAPIError(500, "Internal Server Error: fake bug").payload()
        if status == _DROP:
            self.close_connection = True  # no answer at all: the client sees the connection close
            return
        self._send_json(status, payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # skip trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, payload: Mapping[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self._send_bytes(status, body, "application/json")

    def _send_bytes(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


# ---------------------------------------------------------------------- body parsing


def _parse_request(content_type: str, body: bytes, query: str) -> _ParsedRequest:
    """Parse query string plus a JSON, urlencoded or multipart body (body wins on clashes)."""
    parsed = _ParsedRequest()
    for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        parsed.params[key] = _decode_value(key, value)
    mime, ctype_params = _split_header(content_type)
    if not body:
        return parsed
    if mime == "application/json":
        try:
            data = json.loads(body)
        except ValueError as err:
            raise ValueError("can't parse JSON body") from err
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        parsed.params.update(data)
    elif mime == "multipart/form-data":
        boundary = ctype_params.get("boundary")
        if not boundary:
            raise ValueError("multipart body without boundary")
        for headers, content in _parse_multipart(body, boundary.encode("latin-1")):
            _, disposition = _split_header(headers.get("content-disposition", ""))
            name = disposition.get("name")
            if name is None:
                continue
            filename = disposition.get("filename")
            if filename is None:
                try:
                    parsed.params[name] = _decode_value(name, content.decode("utf-8"))
                    continue
                except UnicodeDecodeError:
                    pass  # binary without a filename is still a file upload
            parsed.files[name] = content
            if filename is not None:
                parsed.file_names[name] = filename
            parsed.file_mime_types[name] = _split_header(headers.get("content-type", ""))[0]
    else:
        # application/x-www-form-urlencoded, and Telegram's fallback for unknown types.
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError("can't parse form body") from err
        for key, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
            parsed.params[key] = _decode_value(key, value)
    return parsed


def _parse_multipart(body: bytes, boundary: bytes) -> list[tuple[dict[str, str], bytes]]:
    """Split a multipart/form-data body into (lower-cased headers, raw content) parts.

    Hand-written rather than via the ``email`` package so binary content stays byte-exact.
    """
    delimiter = b"--" + boundary
    start = body.find(delimiter)
    if start < 0:
        raise ValueError("multipart boundary not found")
    parts = []
    pos = start + len(delimiter)
    while not body.startswith(b"--", pos):
        line_end = body.find(b"\r\n", pos)  # skips transport padding after the delimiter
        if line_end < 0:
            raise ValueError("truncated multipart body")
        headers_end = body.find(b"\r\n\r\n", line_end)
        if headers_end < 0:
            raise ValueError("truncated multipart headers")
        headers: dict[str, str] = {}
        raw_headers = body[line_end + 2 : headers_end] if headers_end > line_end else b""
        for line in raw_headers.decode("utf-8", errors="replace").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        content_start = headers_end + 4
        content_end = body.find(b"\r\n" + delimiter, content_start)
        if content_end < 0:
            raise ValueError("unterminated multipart part")
        parts.append((headers, body[content_start:content_end]))
        pos = content_end + 2 + len(delimiter)
    return parts


def _split_header(value: str) -> tuple[str, dict[str, str]]:
    """``'form-data; name="a"'`` -> ``("form-data", {"name": "a"})`` (RFC 5987 aware)."""
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    extended: dict[str, str] = {}
    for match in _HEADER_PARAM_RE.finditer(";" + rest):
        key, raw = match.group(1).lower(), match.group(2).strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = _HTML5_ESCAPE_RE.sub(_unescape_param, raw[1:-1])
        if key.endswith("*"):
            charset, _, encoded = raw.partition("''")
            extended[key[:-1]] = urllib.parse.unquote(encoded, encoding=charset or "utf-8")
        else:
            params[key] = raw
    params.update(extended)
    return main.strip().lower(), params


def _unescape_param(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return match.group(1)
    return chr(int(match.group(2), 16))


def _decode_value(key: str, value: str) -> Any:
    if key in _STRING_PARAMS or not value or value[0] not in _JSON_START_CHARS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
