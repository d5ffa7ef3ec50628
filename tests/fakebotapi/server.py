"""The FakeBotAPI: the state, faults, updates and methods, served over HTTP."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

from .faults import Faults
from .methods import Methods
from .protocol import (
    _DROP,
    _LOGGER,
    BOT_USERNAME,
    DOWNLOAD,
    BotAPIError,
    Call,
    MethodHandler,
    StoredFile,
    _Fault,
    _ParsedRequest,
)
from .updates import Updates
from .wire import _Handler, _HTTPServer


class FakeBotAPI(Faults, Updates, Methods):
    """A Telegram Bot API look-alike on 127.0.0.1, running in background threads."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = "DigitBot Test",
    ) -> None:
        super().__init__(host, port, bot_username, bot_first_name)
        for name, handler in (
            ("getMe", self._get_me),
            ("logOut", self._return_true),
            ("close", self._return_true),
            ("getUpdates", self._get_updates),
            ("setWebhook", self._set_webhook),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("setMyCommands", self._set_my_commands),
            ("getMyCommands", self._get_my_commands),
            ("deleteMyCommands", self._delete_my_commands),
            ("setMyDescription", self._set_my_description),
            ("getMyDescription", self._get_my_description),
            ("setMyShortDescription", self._set_my_short_description),
            ("getMyShortDescription", self._get_my_short_description),
            ("sendMessage", self._send_message),
            ("sendPhoto", self._send_photo),
            ("sendDocument", self._send_document),
            ("sendMediaGroup", self._send_media_group),
            ("sendChatAction", self._send_chat_action),
            ("getFile", self._get_file),
            ("answerCallbackQuery", self._answer_callback_query),
            ("editMessageText", self._edit_message_text),
            ("editMessageReplyMarkup", self._edit_message_reply_markup),
            ("deleteMessage", self._delete_message),
        ):
            self.set_handler(name, handler)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeBotAPI:
        if self._server is not None:
            raise RuntimeError("FakeBotAPI is already running")
        with self._cond:
            self._stopping = False
        server = _HTTPServer((self._host, self._port), _Handler, self)
        self._server = server
        self._thread = threading.Thread(
            # A short poll interval keeps shutdown() (and therefore stop()) fast.
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeBotAPI:{server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()  # releases pending long-polls and delays
        server.shutdown()
        # Idle keep-alive connections block their handler thread in readline(); shutting the
        # sockets down unblocks them so server_close() can join every handler thread.
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeBotAPI is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:PORT``; PTB's base_url is ``f"{url}/bot"``."""
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # ------------------------------------------------------------------ request handling

    def _handle_api_request(
        self, token: str, method: str, http_method: str, parsed: _ParsedRequest
    ) -> tuple[int, dict[str, Any]]:
        with self._cond:
            canonical, handler = self._handlers.get(method.lower(), (method, None))
            call = Call(
                method=canonical,
                params=parsed.params,
                files=parsed.files,
                token=token,
                time=time.time(),
                file_names=parsed.file_names,
                file_mime_types=parsed.file_mime_types,
                http_method=http_method,
            )
            if token not in self._tokens:
                self._tokens.append(token)
            else:
                # Keep the most recent token last so `.token` reflects the latest caller.
                self._tokens.remove(token)
                self._tokens.append(token)
            index = len(self._calls)
            self._calls.append(call)
            self._cond.notify_all()
            fault = self._take_fault(method.lower())
            delays = self._delays.get(method.lower())
            delay = delays.pop(0) if delays else 0.0

        if delay:
            self._sleep(delay)
        status, payload = self._answer(call, handler, fault)
        with self._cond:
            # Replaced by position; clear_calls() in the meantime leaves the list alone.
            if index < len(self._calls) and self._calls[index] is call:
                self._calls[index] = replace(call, status=status)
            self._cond.notify_all()
        return status, payload

    def _answer(
        self, call: Call, handler: MethodHandler | None, fault: _Fault | None
    ) -> tuple[int, dict[str, Any]]:
        if handler is None:
            return 404, BotAPIError(404, "Not Found: method not found").payload()
        if fault is not None:
            if fault.status == _DROP:
                return _DROP, {}
            params = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
            return fault.status, BotAPIError(fault.status, fault.description, params).payload()
        try:
            result = handler(call)
        except BotAPIError as err:
            return err.error_code, err.payload()
        return 200, {"ok": True, "result": result}

    def _serve_file(self, token: str, path: str) -> tuple[int, StoredFile | BotAPIError]:
        """The download's status and file (or error); faults and delays of DOWNLOAD apply."""
        with self._cond:
            if token not in self._tokens:
                self._tokens.append(token)
            fault = self._take_fault(DOWNLOAD)
            delays = self._delays.get(DOWNLOAD)
            delay = delays.pop(0) if delays else 0.0
        if delay:
            self._sleep(delay)
        if fault is not None:
            return fault.status, BotAPIError(fault.status, fault.description)
        with self._cond:
            stored = self._files_by_path.get(path)
            if stored is None:
                return 404, BotAPIError(404, "Not Found")
            self._downloads.append(path)
            return 200, stored

    def _record_server_error(self, description: str) -> None:
        with self._cond:
            self.server_errors.append(description)
        _LOGGER.error("FakeBotAPI: %s", description)
