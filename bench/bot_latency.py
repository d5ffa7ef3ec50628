"""How long a user waits for the answer to a photo: from the update being queued on the Bot API
server to the bot's sendPhoto arriving there.

    python -m bench.bot_latency              # 30 photos one after another, then 30 at once
    python -m bench.bot_latency --n 100

The real Application (polling, as `digitbot serve` runs it) talks over HTTP on 127.0.0.1 to the
fake Bot API server of the test suite, which runs in threads of this same process. The photos
are the photo benchmark's rendered 1280x960 phone photos of held-out handwriting, offered at
Telegram's sizes (90, 320, 800 px and the original), so the bot downloads the 800 px one.
Network time to Telegram's servers is not included.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Sequence
from typing import Any

from bench.photos import BASIC, bench_cases
from bot.app import ALLOWED_UPDATES, build_application
from bot.services import Services
from bot.settings import Settings
from tests.fakebotapi import FakeBotAPI, telegram_sizes

TOKEN = "123456789:AAbench-token_for_the_latency_benchmark"


def fake_bot_api() -> FakeBotAPI:
    """A started fake Bot API server (the test suite's), in threads of this process."""
    return FakeBotAPI().start()


async def measure(
    api: Any, photos: Sequence[list[tuple[bytes, int, int]]], at_once: bool
) -> list[float]:
    """Send the photos (all at once, or each after the previous answer); return each latency."""
    since = api.mark()  # chats repeat between runs; only this run's answers count
    latencies = []
    queued: list[tuple[int, float]] = []
    for chat, sizes in enumerate(photos, start=50_000):
        api.send_photo(sizes, user_id=chat)
        queued.append((chat, time.time()))
        if not at_once:
            latencies.append(await _answered(api, chat, since) - queued[-1][1])
    if at_once:
        latencies = [await _answered(api, chat, since) - start for chat, start in queued]
    return latencies


async def _answered(api: Any, chat: int, since: int) -> float:
    """When the answer to the photo in `chat` reached the server."""

    def answer(calls: list[Any]) -> float | None:
        for call in calls[since:]:
            if call.method == "sendPhoto" and call.params.get("chat_id") == chat:
                return float(call.time)
        return None

    found: float = await api.await_for(answer, timeout=60)
    return found


async def run(n: int, seed: int) -> dict[str, list[float]]:
    """Start the bot against the fake server and measure sequential and concurrent photos."""
    photos = [telegram_sizes(case.jpeg) for case in bench_cases("single", n, seed, BASIC)]
    services = Services.create()
    api = fake_bot_api()
    try:
        app = build_application(Settings.embedded(token=TOKEN, api_url=api.url), services)
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0, timeout=10, allowed_updates=ALLOWED_UPDATES
        )
        try:
            await measure(api, photos[:3], at_once=False)  # warm-up: connections, first calls
            results = {
                "one after another": await measure(api, photos, at_once=False),
                "all at once": await measure(api, photos, at_once=True),
            }
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
    finally:
        api.stop()
    return results


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), interpolated between the closest ranks."""
    return float(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1])


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print p50/p95/max per scenario."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=30, help="photos per scenario (default 30)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.n < 2:
        parser.error("--n must be at least 2")

    results = asyncio.run(run(args.n, args.seed))
    print(f"photo → answer latency, {args.n} photos of 1280x960 per scenario (milliseconds)")
    print(f"{'scenario':<20} {'p50':>7} {'p95':>7} {'max':>7}")
    for name, values in results.items():
        ms = [v * 1000 for v in values]
        print(f"{name:<20} {percentile(ms, 50):7.0f} {percentile(ms, 95):7.0f} {max(ms):7.0f}")


if __name__ == "__main__":
    main()
