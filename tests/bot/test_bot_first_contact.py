"""What a new user meets first: the descriptions, /start, /privacy, captions in plain words."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import texts
from bot.settings import Settings
from model.recognize import Reading
from tests.bot.bot_harness import TOKEN, BotHarness
from tests.bot.test_bot_handlers import digit
from tests.fakebotapi import FakeBotAPI


def test_descriptions_fit_telegrams_limits() -> None:
    assert len(texts.DESCRIPTION) <= 512
    assert len(texts.SHORT_DESCRIPTION) <= 120


async def test_descriptions_and_menu_are_published_at_start_up(
    bot: BotHarness, fake_api: FakeBotAPI
) -> None:
    assert fake_api.description() == texts.DESCRIPTION
    assert fake_api.description(short=True) == texts.SHORT_DESCRIPTION
    assert {"command": "privacy", "description": dict(texts.COMMANDS)["privacy"]} in (
        fake_api.commands()
    )


class TestDescriptionsRefused:
    @pytest.fixture
    def fake_api(self, fake_api: FakeBotAPI) -> FakeBotAPI:
        fake_api.fail_next("setMyDescription", 400, description="Bad Request: try later")
        return fake_api

    async def test_the_bot_serves_all_the_same(self, bot: BotHarness) -> None:
        assert (await bot.answer(bot.text("/start"))).params["text"] == texts.START


async def test_start_points_at_privacy(bot: BotHarness) -> None:
    text = (await bot.answer(bot.text("/start"))).params["text"]
    assert "/privacy" in text
    assert "/privacy" in texts.HELP


async def test_privacy_without_corrections_says_nothing_is_kept(bot: BotHarness) -> None:
    answer = await bot.answer(bot.text("/privacy"))
    assert answer.params["text"] == texts.PRIVACY_NOTHING_KEPT


class TestPrivacyWithCorrections:
    @pytest.fixture
    def settings(self, fake_api: FakeBotAPI, tmp_path: Path) -> Settings:
        return Settings.embedded(
            token=TOKEN, api_url=fake_api.url, data_dir=tmp_path / "data", keep_crops=True
        )

    async def test_privacy_says_what_how_long_and_how_to_delete(self, bot: BotHarness) -> None:
        text = (await bot.answer(bot.text("/privacy"))).params["text"]
        assert text == texts.privacy_text(keeps_corrections=True, keeps_crops=True)
        for needed in ("numeric Telegram id", "8x8 grid", "7 days", "/forget", "photo around"):
            assert needed in text, needed


def test_privacy_mentions_crops_only_when_kept() -> None:
    assert "photo around" not in texts.privacy_text(keeps_corrections=True, keeps_crops=False)


@pytest.mark.parametrize(
    ("number", "said"),
    [
        *((d, f"a {d}") for d in (0, 1, 2, 3, 4, 5, 6, 7, 9)),
        (8, "an 8"),
        (11, "an 11"),
        (18, "an 18"),
        (80, "an 80"),
        (110, "a 110"),
        (800, "an 800"),
        (11_000, "an 11000"),
        (1_800, "a 1800"),
    ],
)
def test_articles(number: int, said: str) -> None:
    assert texts.with_article(number) == said


def test_every_caption_uses_the_right_article() -> None:
    assert texts.sample_caption(8) == "This is an 8"
    assert texts.sample_caption(3) == "This is a 3"


async def test_accuracy_caption_speaks_plainly(bot: BotHarness) -> None:
    caption = (await bot.answer(bot.text("/accuracy"))).params["caption"]
    for jargon in ("MLP", "original exercise", "held-out", "recall", "precision"):
        assert jargon not in caption, jargon
    assert "never saw these images" in caption


def test_an_unsure_eight_reads_right() -> None:
    caption = texts.reading_caption(Reading((digit(8, 0.55, runner_up=3),)))
    assert caption.startswith("I'm not sure – it might be an 8 (55%), or a 3 (45%).")
    caption = texts.reading_caption(Reading((digit(3, 0.55, runner_up=8),)))
    assert caption.startswith("I'm not sure – it might be a 3 (55%), or an 8 (45%).")
