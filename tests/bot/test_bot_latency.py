"""The latency benchmark's measuring part, on a few photos, so `bench.bot_latency` keeps working."""

from __future__ import annotations

from bench.bot_latency import measure, percentile
from tests.bot.bot_harness import BotHarness
from tests.digit_photos import PhotoMaker
from tests.fakebotapi import FakeBotAPI, telegram_sizes


async def test_measure_times_every_photo(
    bot: BotHarness, fake_api: FakeBotAPI, photo: PhotoMaker
) -> None:
    photos = [telegram_sizes(photo([d])) for d in (1, 4)]
    assert [(w, h) for _, w, h in photos[0]] == [(90, 68), (320, 240), (800, 600), (1280, 960)]

    one_by_one = await measure(fake_api, photos, at_once=False)
    at_once = await measure(fake_api, photos, at_once=True)

    assert len(one_by_one) == len(at_once) == 2
    assert all(0 < seconds < 10 for seconds in one_by_one + at_once)
    assert len(fake_api.calls_for("sendPhoto")) == 4


def test_percentile() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile([float(v) for v in range(101)], 95) == 95.0
