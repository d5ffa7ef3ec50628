"""Updates: what the tests send the bot, and how it gets them (getUpdates or its webhook)."""

from __future__ import annotations

import copy
import itertools
import mimetypes
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

import httpx

from .photos import telegram_sizes
from .protocol import (
    _ERROR_DESCRIPTIONS,
    _SECRET_TOKEN_RE,
    DEFAULT_USER_ID,
    MAX_LONG_POLL_SECONDS,
    BotAPIError,
    Call,
    _float,
    _int,
    _suffix,
    _update_body,
    _update_type,
    _user,
    _utf16_len,
)
from .state import _State


class Updates(_State):
    """Update builders for the tests; getUpdates and the webhook for the bot."""

    # ------------------------------------------------------------------ updates (test side)

    @property
    def waiting_polls(self) -> int:
        """Number of getUpdates requests currently blocked in a long-poll."""
        with self._cond:
            return self._waiting_polls

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates ``offset``."""
        with self._cond:
            return copy.deepcopy(self._updates)

    def enqueue_update(self, update: Mapping[str, Any]) -> dict[str, Any]:
        """Queue a raw update; assigns ``update_id`` when missing. Returns the queued update."""
        queued = copy.deepcopy(dict(update))
        with self._cond:
            if "update_id" in queued:
                # Keep ids monotonic like Telegram, or offsets would confirm the wrong updates.
                uid = int(queued["update_id"])
                self._update_ids = itertools.count(max(uid + 1, next(self._update_ids)))
            else:
                queued["update_id"] = next(self._update_ids)
            self._updates.append(queued)
            self._updates.sort(key=lambda u: int(u["update_id"]))
            self._cond.notify_all()
        return copy.deepcopy(queued)

    def send_text(
        self,
        text: str,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Tester",
        username: str | None = "tester",
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Queue a text message from a user; commands get a ``bot_command`` entity."""
        message = self._user_message(chat_id, user_id, first_name, username)
        message["text"] = text
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return self._enqueue_message(message, extra)

    def send_photo(
        self,
        photo: bytes | list[tuple[bytes, int, int]],
        caption: str | None = None,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Tester",
        username: str | None = "tester",
        media_group_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Queue a photo message.

        ``photo`` is either explicit sizes ``[(bytes, width, height), ...]`` (smallest first, as
        Telegram orders them) or one encoded image, offered at Telegram's sizes
        (:func:`tests.fakebotapi.photos.telegram_sizes`).
        """
        variants = telegram_sizes(photo) if isinstance(photo, bytes | bytearray) else photo
        message = self._user_message(chat_id, user_id, first_name, username)
        message["photo"] = self._photo_sizes(variants)
        if caption is not None:
            message["caption"] = caption
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        return self._enqueue_message(message, extra)

    def send_document(
        self,
        data: bytes,
        file_name: str = "file.bin",
        mime_type: str | None = None,
        file_size: int | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Tester",
        username: str | None = "tester",
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Queue a document; ``file_size`` may be inflated to simulate huge uploads."""
        if mime_type is None:
            mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = self._store_file(data, "document", file_size=file_size, suffix=_suffix(file_name))
        message = self._user_message(chat_id, user_id, first_name, username)
        message["document"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": stored.file_size,
        }
        if caption is not None:
            message["caption"] = caption
        return self._enqueue_message(message, extra)

    def send_sticker(
        self,
        data: bytes = b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        emoji: str = "\N{THUMBS UP SIGN}",
        width: int = 512,
        height: int = 512,
        is_animated: bool = False,
        is_video: bool = False,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Tester",
        username: str | None = "tester",
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        stored = self._store_file(data, "sticker")
        message = self._user_message(chat_id, user_id, first_name, username)
        message["sticker"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": width,
            "height": height,
            "is_animated": is_animated,
            "is_video": is_video,
            "emoji": emoji,
            "file_size": stored.file_size,
        }
        return self._enqueue_message(message, extra)

    def send_voice(
        self,
        data: bytes = b"OggS\x00fake-voice",
        duration: int = 1,
        mime_type: str = "audio/ogg",
        file_size: int | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Tester",
        username: str | None = "tester",
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        stored = self._store_file(data, "voice", file_size=file_size)
        message = self._user_message(chat_id, user_id, first_name, username)
        message["voice"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": mime_type,
            "file_size": stored.file_size,
        }
        if caption is not None:
            message["caption"] = caption
        return self._enqueue_message(message, extra)

    def send_callback_query(
        self,
        data: str,
        message_id: int | None = None,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Tester",
        username: str | None = "tester",
        message_text: str = "Choose:",
    ) -> dict[str, Any]:
        """Queue a button press on a bot message.

        When the bot sent ``message_id`` in that chat the stored message is attached (so
        editMessageText works on it); otherwise a bot message with that id is fabricated.
        """
        user = _user(user_id, first_name, username)
        chat = self._remember_chat(chat_id if chat_id is not None else user_id, user)
        with self._cond:
            stored = self._messages.get((chat["id"], message_id)) if message_id else None
            if stored is None:
                stored = {
                    "message_id": message_id or next(self._message_ids),
                    "from": self._bot_user(self.token),
                    "chat": chat,
                    "date": int(time.time()),
                    "text": message_text,
                }
                self._messages[(chat["id"], stored["message_id"])] = stored
            callback = {
                "id": str(next(self._callback_ids)),
                "from": user,
                "chat_instance": str(abs(hash(chat["id"])) % 10**18),
                "data": data,
                "message": copy.deepcopy(stored),
            }
        return self.enqueue_update({"callback_query": callback})

    def _user_message(
        self, chat_id: int | None, user_id: int, first_name: str, username: str | None
    ) -> dict[str, Any]:
        user = _user(user_id, first_name, username)
        chat = self._remember_chat(chat_id if chat_id is not None else user_id, user)
        with self._cond:
            message_id = next(self._message_ids)
        return {"message_id": message_id, "from": user, "chat": chat, "date": int(time.time())}

    def _enqueue_message(
        self, message: dict[str, Any], extra: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        if extra:
            message.update(extra)
        with self._cond:
            self._messages[(message["chat"]["id"], message["message_id"])] = message
        return self.enqueue_update({"message": message})

    # ------------------------------------------------------------------ webhook helpers

    @property
    def webhook(self) -> dict[str, Any]:
        """What the bot passed to setWebhook (empty when no webhook is set)."""
        with self._cond:
            return dict(self._webhook)

    async def post_update_to_webhook(
        self, url: str, update: Mapping[str, Any], secret: str | None = None
    ) -> int:
        """POST an update to the bot's webhook like Telegram does; returns the HTTP status.

        Async on purpose: PTB's webhook server runs on the test's own event loop, so a blocking
        POST from that loop would deadlock. Use :meth:`post_update_to_webhook_sync` from threads.
        """
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.post(url, content=_update_body(update), headers=headers)
        self._delivered(update, response.status_code)
        return response.status_code

    def post_update_to_webhook_sync(
        self, url: str, update: Mapping[str, Any], secret: str | None = None, timeout: float = 10.0
    ) -> int:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        request = urllib.request.Request(
            url, data=_update_body(update), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = int(response.status)
        except urllib.error.HTTPError as err:
            with err:
                status = int(err.code)
        self._delivered(update, status)
        return status

    def _delivered(self, update: Mapping[str, Any], status: int) -> None:
        # Telegram forgets an update once the webhook accepted it; keep the queue (and
        # getWebhookInfo's pending_update_count) consistent with that.
        if 200 <= status < 300:
            with self._cond:
                uid = update.get("update_id")
                self._updates = [u for u in self._updates if u["update_id"] != uid]

    def _get_updates(self, call: Call) -> list[dict[str, Any]]:
        offset = _int(call.params.get("offset"), 0)
        limit = min(max(_int(call.params.get("limit"), 100), 1), 100)
        timeout = min(max(_float(call.params.get("timeout"), 0.0), 0.0), MAX_LONG_POLL_SECONDS)
        allowed = call.params.get("allowed_updates") or None
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._webhook.get("url"):
                raise BotAPIError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            # Like Telegram, a newer getUpdates terminates an older pending one.
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            while True:
                if generation != self._poll_generation:
                    raise BotAPIError(409, _ERROR_DESCRIPTIONS[409])
                wanted = [u for u in self._updates if allowed is None or _update_type(u) in allowed]
                remaining = deadline - time.monotonic()
                if wanted or remaining <= 0 or self._stopping:
                    return copy.deepcopy(wanted[:limit])
                self._waiting_polls += 1
                self._cond.notify_all()  # lets tests wait for "the bot is now long-polling"
                try:
                    self._cond.wait(remaining)
                finally:
                    self._waiting_polls -= 1

    def _set_webhook(self, call: Call) -> bool:
        url = call.params.get("url") or ""
        secret = call.params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.match(str(secret)):
            raise BotAPIError(400, "Bad Request: secret token contains unallowed characters")
        with self._cond:
            if call.params.get("drop_pending_updates"):
                self._updates.clear()
            if not url:
                self._webhook = {}
            else:
                self._webhook = {
                    "url": url,
                    "secret_token": secret,
                    "max_connections": _int(call.params.get("max_connections"), 40),
                    "allowed_updates": call.params.get("allowed_updates"),
                    "ip_address": call.params.get("ip_address"),
                    "has_custom_certificate": "certificate" in call.files,
                }
            self._cond.notify_all()
        return True

    def _delete_webhook(self, call: Call) -> bool:
        with self._cond:
            self._webhook = {}
            if call.params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _get_webhook_info(self, call: Call) -> dict[str, Any]:
        with self._cond:
            info: dict[str, Any] = {
                "url": self._webhook.get("url", ""),
                "has_custom_certificate": bool(self._webhook.get("has_custom_certificate")),
                "pending_update_count": len(self._updates),
            }
            if self._webhook:
                info["max_connections"] = self._webhook["max_connections"]
                if self._webhook.get("allowed_updates"):
                    info["allowed_updates"] = self._webhook["allowed_updates"]
                if self._webhook.get("ip_address"):
                    info["ip_address"] = self._webhook["ip_address"]
        return info
