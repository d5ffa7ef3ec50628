"""The pure parts of corrections: callback data, keyboards, texts, settings, the test backends."""

from __future__ import annotations

import io
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot import texts
from bot.feedback.database import DatabaseUnavailable, DatabaseURLError, database_url
from bot.feedback.handlers import crop_png, model_version, open_store
from bot.feedback.keyboard import Tap, answer_keyboard, pad_keyboard, parse_tap
from bot.feedback.store import AnswerState, Forgotten, Stats, Tally, new_token
from bot.settings import Settings, SettingsError
from model.shipped import SHIPPED_MODEL_SHA256
from tests.bot.bot_harness import TOKEN
from tests.bot.feedback.feedback_harness import postgresql_url

TOKEN16 = "abcDEF_-12345678"


def every_button(state: AnswerState) -> list[tuple[str, str]]:
    markups = [answer_keyboard(state)]
    markups += [pad_keyboard(state, p) for p in range(len(state.predicted))]
    return [
        (button.text, str(button.callback_data))
        for markup in markups
        for row in markup.inline_keyboard
        for button in row
    ]


@pytest.mark.parametrize("predicted", [(7,), (2, 0, 2, 5), tuple(range(10))])
def test_every_button_carries_short_data_that_parses_back(predicted: tuple[int, ...]) -> None:
    state = AnswerState(new_token(), predicted, (None,) * len(predicted))
    for _, data in every_button(state):
        assert len(data.encode()) <= 64
        tap = parse_tap(data)
        assert tap is not None and tap.token == state.token and tap.data == data


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "ok",
        f"fb:{TOKEN16}:ok ",
        f"fb:{TOKEN16[:-1]}:ok",  # a token of the wrong length
        f"fb:{TOKEN16}x:ok",
        f"fb:{TOKEN16}:d0=10",
        f"fb:{TOKEN16}:d10=1",
        f"fb:{TOKEN16}:p",
        f"fb:{TOKEN16}:pick",
        f"fb:{TOKEN16[:-1]}%:ok",
        f"fb:{TOKEN16}:ok\n",
        "x" * 64,
    ],
)
def test_malformed_data_is_not_a_tap(data: str | None) -> None:
    assert parse_tap(data) is None


def test_taps_parse() -> None:
    assert parse_tap(f"fb:{TOKEN16}:ok") == Tap(TOKEN16, "ok")
    assert parse_tap(f"fb:{TOKEN16}:back") == Tap(TOKEN16, "back")
    assert parse_tap(f"fb:{TOKEN16}:p3") == Tap(TOKEN16, "pick", 3)
    assert parse_tap(f"fb:{TOKEN16}:d3=8") == Tap(TOKEN16, "digit", 3, 8)


def labels(markup: object) -> list[list[str]]:
    return [[b.text for b in row] for row in markup.inline_keyboard]  # type: ignore[attr-defined]


def test_a_ten_digit_number_keeps_the_keyboard_small() -> None:
    state = AnswerState(TOKEN16, tuple(range(10)), (None,) * 10)
    assert labels(answer_keyboard(state)) == [
        ["✅ right: 0123456789"],
        ["0", "1", "2", "3", "4"],
        ["5", "6", "7", "8", "9"],
    ]
    assert len(every_button(state)) == 11 + 10 * 11


def test_keyboards_show_what_was_recorded() -> None:
    single = AnswerState(TOKEN16, (7,), (1,))
    assert labels(answer_keyboard(single))[1][1] == "1 ✓"
    confirmed = AnswerState(TOKEN16, (7,), (7,))
    assert labels(answer_keyboard(confirmed))[0] == ["✅ right – recorded"]
    assert "✓" not in "".join(labels(answer_keyboard(confirmed))[2])
    number = AnswerState(TOKEN16, (4, 2), (None, 3))
    assert labels(answer_keyboard(number)) == [["✅ the rest is right: 43"], ["4", "2→3"]]
    assert labels(pad_keyboard(number, 1))[0][3] == "3 ✓"


def test_texts_of_stats_and_forget() -> None:
    tally = Tally(answers=4, answers_right=3, digits=9, digits_right=8)
    text = texts.stats_text(Stats(mine=tally, everyone=Tally(10, 7, 20, 16)))
    assert "I was right about 3 of 4 answers (75%), and 8 of 9 digits (89%)." in text
    assert "everyone checked: I was right about 7 of 10 answers (70%)" in text
    none = Tally(0, 0, 0, 0)
    assert texts.stats_text(Stats(none, none)).startswith("You haven't checked")
    assert texts.forget_text(Forgotten(samples=1, answers=0)) == (
        "Done: I deleted 1 labelled digit you gave me. Nothing about you is stored any more."
    )


def test_crops_are_pngs_and_versions_name_the_model() -> None:
    ink = np.zeros((30, 20), dtype=np.float32)
    ink[5:25, 8:12] = 1.0
    with Image.open(io.BytesIO(crop_png(ink))) as image:
        assert (image.format, image.mode, image.size) == ("PNG", "L", (20, 30))
        assert image.getpixel((10, 15)) == 0 and image.getpixel((0, 0)) == 255
    settings = Settings.embedded(token=TOKEN)
    assert model_version(settings) == SHIPPED_MODEL_SHA256[:16]
    assert (
        model_version(Settings.embedded(token=TOKEN, model_sha256="ABCDEF" * 11))
        == ("abcdef" * 3)[:16]
    )


def settings(**values: str) -> Settings:
    return Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, **values}, env_file=None)


def test_settings_default_to_sqlite_in_data() -> None:
    got = settings()
    assert (got.data_dir, got.database_url, got.keep_crops) == (Path("data"), None, False)
    assert database_url(got.database_url, got.data_dir).database == "data/digitbot.sqlite"
    assert Settings.embedded(token=TOKEN).data_dir is None  # built in code: corrections off


def test_settings_take_postgresql_and_keep_its_password_out_of_repr() -> None:
    got = settings(DATABASE_URL="postgresql://bot:s3cret@db:5432/digitbot", KEEP_CROPS="yes")
    assert got.keep_crops and "s3cret" not in repr(got)
    url = database_url(got.database_url, got.data_dir)
    assert url.drivername == "postgresql+psycopg" and url.host == "db"
    assert "s3cret" not in url.render_as_string(hide_password=True)


@pytest.mark.parametrize("url", ["mysql://u:s3cret@h/db", "s3cret", "redis://:s3cret@h"])
def test_settings_refuse_other_databases_without_echoing_them(url: str) -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL") as excinfo:
        settings(DATABASE_URL=url)
    assert "s3cret" not in str(excinfo.value)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "postgresql+psycopg2://:x@"])
def test_database_urls_must_name_a_file_or_a_server(url: str) -> None:
    if url.startswith("postgresql"):
        assert database_url(url, None).drivername == "postgresql+psycopg"
        return
    with pytest.raises(DatabaseURLError):
        database_url(url, None)


def test_keep_crops_must_be_a_flag() -> None:
    with pytest.raises(SettingsError, match="KEEP_CROPS must be true or false"):
        settings(KEEP_CROPS="maybe")


def test_postgresql_tests_skip_locally_but_fail_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL_TEST", raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="DATABASE_URL_TEST"):
        postgresql_url()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must test PostgreSQL"):
        postgresql_url()


def test_corrections_are_off_without_a_database() -> None:
    assert open_store(Settings.embedded(token=TOKEN)) is None


def test_an_unreachable_server_is_named_without_its_password() -> None:
    settings = Settings.embedded(
        token=TOKEN, database_url="postgresql://bot:s3cret@127.0.0.1:1/digitbot"
    )
    with pytest.raises(DatabaseUnavailable, match=r"cannot open the database postgresql") as exc:
        open_store(settings)
    assert "s3cret" not in str(exc.value) and "127.0.0.1:1" in str(exc.value)


def test_a_database_from_a_newer_bot_is_refused(tmp_path: Path) -> None:
    with closing(sqlite3.connect(tmp_path / "digitbot.sqlite")) as connection:
        connection.executescript(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);"
            "INSERT INTO alembic_version VALUES ('9999');"
        )
    with pytest.raises(DatabaseUnavailable, match="9999"):
        open_store(Settings.embedded(token=TOKEN, data_dir=tmp_path))
