"""The Bot API methods the bot calls: its profile, commands, messages and files."""

from __future__ import annotations

import copy
import mimetypes
import time
from collections.abc import Mapping
from typing import Any

from .photos import telegram_sizes
from .protocol import (
    _CHAT_ACTIONS,
    _COMMAND_RE,
    _NOT_MODIFIED,
    MAX_CAPTION_LENGTH,
    MAX_DOWNLOAD_SIZE,
    MAX_TEXT_LENGTH,
    BotAPIError,
    Call,
    _commands_key,
    _int,
    _reply_to_id,
    _suffix,
    _suffix_name,
)
from .state import _State


class Methods(_State):
    """The answers to the bot's requests (other than getUpdates and the webhook's)."""

    # ------------------------------------------------------------------ Bot API methods

    def _get_me(self, call: Call) -> dict[str, Any]:
        return {
            **self._bot_user(call.token),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _return_true(self, call: Call) -> bool:
        return True

    def _set_my_commands(self, call: Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise BotAPIError(400, "Bad Request: commands must be a JSON array of BotCommand")
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            description = str(command.get("description", "")) if isinstance(command, dict) else ""
            if not _COMMAND_RE.match(name):
                raise BotAPIError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise BotAPIError(400, "Bad Request: command description is empty or too long")
        with self._cond:
            self._commands[_commands_key(call.params)] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    def _get_my_commands(self, call: Call) -> list[dict[str, Any]]:
        with self._cond:
            return copy.deepcopy(self._commands.get(_commands_key(call.params), []))

    def _delete_my_commands(self, call: Call) -> bool:
        with self._cond:
            self._commands.pop(_commands_key(call.params), None)
        return True

    def commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The command list the bot registered for ``scope``/``language_code``."""
        key = _commands_key({"scope": scope, "language_code": language_code})
        with self._cond:
            return copy.deepcopy(self._commands.get(key, []))

    def _describe(self, call: Call, field: str, limit: int) -> bool:
        text = call.params.get(field) or ""
        if not isinstance(text, str) or len(text) > limit:
            raise BotAPIError(400, f"Bad Request: {field} is too long (at most {limit} characters)")
        key = (field, str(call.params.get("language_code") or ""))
        with self._cond:
            if text:
                self._descriptions[key] = text
            else:
                self._descriptions.pop(key, None)  # an empty text removes it, as in Telegram
        return True

    def _set_my_description(self, call: Call) -> bool:
        return self._describe(call, "description", 512)

    def _set_my_short_description(self, call: Call) -> bool:
        return self._describe(call, "short_description", 120)

    def _get_my_description(self, call: Call) -> dict[str, str]:
        return {"description": self.description(str(call.params.get("language_code") or ""))}

    def _get_my_short_description(self, call: Call) -> dict[str, str]:
        language = str(call.params.get("language_code") or "")
        return {"short_description": self.description(language, short=True)}

    def description(self, language_code: str = "", short: bool = False) -> str:
        """The bot's description (or short description) as last set, "" if none."""
        field = "short_description" if short else "description"
        with self._cond:
            return self._descriptions.get((field, language_code), "")

    def _new_bot_message(self, call: Call, content: Mapping[str, Any]) -> dict[str, Any]:
        chat_id = call.params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise BotAPIError(400, "Bad Request: chat_id is empty")
        chat = self._chat(chat_id)
        with self._cond:
            message: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "from": self._bot_user(call.token),
                "chat": chat,
                "date": int(time.time()),
                **content,
            }
            reply_to = _reply_to_id(call.params)
            if reply_to is not None and (chat["id"], reply_to) in self._messages:
                message["reply_to_message"] = copy.deepcopy(self._messages[(chat["id"], reply_to)])
            markup = call.params.get("reply_markup")
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                message["reply_markup"] = markup  # Telegram echoes only inline keyboards
            self._messages[(chat["id"], message["message_id"])] = message
            return copy.deepcopy(message)

    def _send_message(self, call: Call) -> dict[str, Any]:
        text = _message_text(call)
        content: dict[str, Any] = {"text": text}
        if isinstance(call.params.get("entities"), list):
            content["entities"] = call.params["entities"]
        return self._new_bot_message(call, content)

    def _caption(self, value: Any) -> dict[str, Any]:
        if value is None or value == "":
            return {}
        caption = str(value)
        if len(caption) > MAX_CAPTION_LENGTH:
            raise BotAPIError(400, "Bad Request: message caption is too long")
        return {"caption": caption}

    def _resolve_media(self, call: Call, ref: Any, param: str) -> tuple[bytes, str | None, str]:
        """Bytes, uploaded file name and mime type behind a file parameter."""
        if isinstance(ref, str) and ref.startswith("attach://"):
            name = ref.removeprefix("attach://")
            if name not in call.files:
                raise BotAPIError(400, f"Bad Request: file for {ref} was not uploaded")
            return (
                call.files[name],
                call.file_names.get(name),
                call.file_mime_types.get(name, ""),
            )
        if ref is None and param in call.files:
            return (
                call.files[param],
                call.file_names.get(param),
                call.file_mime_types.get(param, ""),
            )
        if isinstance(ref, str) and ref:
            with self._cond:
                stored = self._files.get(ref)
            if stored is not None:
                return stored.data, None, ""
            if ref.startswith(("http://", "https://")):
                return b"", _suffix_name(ref), ""  # Telegram would download it; we cannot.
        raise BotAPIError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _photo_content(self, data: bytes) -> list[dict[str, Any]]:
        return self._photo_sizes(telegram_sizes(data))

    def _document_content(self, data: bytes, file_name: str | None, mime: str) -> dict[str, Any]:
        stored = self._store_file(data, "document", suffix=_suffix(file_name or ""))
        document: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if file_name:
            document["file_name"] = file_name
        mime = mime or (mimetypes.guess_type(file_name or "")[0] or "")
        if mime:
            document["mime_type"] = mime
        return document

    def _send_photo(self, call: Call) -> dict[str, Any]:
        data, _, _ = self._resolve_media(call, call.params.get("photo"), "photo")
        content = {"photo": self._photo_content(data), **self._caption(call.params.get("caption"))}
        return self._new_bot_message(call, content)

    def _send_document(self, call: Call) -> dict[str, Any]:
        data, name, mime = self._resolve_media(call, call.params.get("document"), "document")
        content = {
            "document": self._document_content(data, name, mime),
            **self._caption(call.params.get("caption")),
        }
        return self._new_bot_message(call, content)

    def _send_media_group(self, call: Call) -> list[dict[str, Any]]:
        media = call.params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise BotAPIError(400, "Bad Request: media group must contain 2-10 items")
        group_id = str(next(self._file_counter) * 7919 + 10**17)
        contents = []
        # Resolve everything first so a bad item fails the whole request, as Telegram does.
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in {
                "photo",
                "document",
                "video",
                "audio",
            }:
                raise BotAPIError(400, "Bad Request: wrong type of media in the media group")
            data, name, mime = self._resolve_media(call, item.get("media"), "media")
            contents.append((item, data, name, mime))
        messages = []
        for item, data, name, mime in contents:
            if item["type"] == "photo":
                content: dict[str, Any] = {"photo": self._photo_content(data)}
            else:
                # Videos and audio are rare for digitbot; a document-shaped object is enough.
                content = {item["type"]: self._document_content(data, name, mime)}
            content.update(self._caption(item.get("caption")))
            content["media_group_id"] = group_id
            messages.append(self._new_bot_message(call, content))
        return messages

    def _send_chat_action(self, call: Call) -> bool:
        if call.params.get("chat_id") in (None, ""):
            raise BotAPIError(400, "Bad Request: chat_id is empty")
        if call.params.get("action") not in _CHAT_ACTIONS:
            raise BotAPIError(400, "Bad Request: wrong parameter action in request")
        return True

    def _get_file(self, call: Call) -> dict[str, Any]:
        file_id = call.params.get("file_id")
        with self._cond:
            stored = self._files.get(str(file_id)) if file_id is not None else None
        if stored is None:
            raise BotAPIError(400, "Bad Request: invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise BotAPIError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    def _answer_callback_query(self, call: Call) -> bool:
        if not call.params.get("callback_query_id"):
            raise BotAPIError(400, "Bad Request: query is too old and response timeout expired")
        if len(str(call.params.get("text") or "")) > 200:
            raise BotAPIError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _edit(self, call: Call, changes: Mapping[str, Any]) -> dict[str, Any] | bool:
        if call.params.get("inline_message_id"):
            return True
        key = (self._chat(call.params.get("chat_id"))["id"], _int(call.params.get("message_id"), 0))
        with self._cond:
            message = self._messages.get(key)
            if message is None:
                raise BotAPIError(400, "Bad Request: message to edit not found")
            updated = {**message, **changes}
            if "reply_markup" not in call.params or not call.params["reply_markup"]:
                updated.pop("reply_markup", None)
            if updated == message:
                raise BotAPIError(400, _NOT_MODIFIED)
            updated["edit_date"] = int(time.time())
            self._messages[key] = updated
            return copy.deepcopy(updated)

    def _edit_message_text(self, call: Call) -> dict[str, Any] | bool:
        text = _message_text(call)
        changes: dict[str, Any] = {"text": text}
        markup = call.params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            changes["reply_markup"] = markup
        return self._edit(call, changes)

    def _edit_message_reply_markup(self, call: Call) -> dict[str, Any] | bool:
        markup = call.params.get("reply_markup")
        changes = {"reply_markup": markup} if isinstance(markup, dict) and markup else {}
        return self._edit(call, changes)

    def _delete_message(self, call: Call) -> bool:
        key = (self._chat(call.params.get("chat_id"))["id"], _int(call.params.get("message_id"), 0))
        with self._cond:
            if self._messages.pop(key, None) is None:
                raise BotAPIError(400, "Bad Request: message to delete not found")
        return True


def _message_text(call: Call) -> str:
    """The call's message text, refused as Telegram refuses it: empty, or too long."""
    text = call.params.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BotAPIError(400, "Bad Request: message text is empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise BotAPIError(400, "Bad Request: message is too long")
    return text
