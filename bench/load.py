"""Load: many users sending photos at once, and one user flooding while others wait.

    python -m bench.load                          # 50 users x 20 photos, then the flood
    python -m bench.load --users 10 --photos 5 --flood 100 --normal 10
    python -m bench.load --telegram-limits        # with the default pacing to Telegram's limits
    python -m bench.load --processes 0            # photos read in threads of the bot's process

The bot runs as its own process, `digitbot serve`, so the memory and CPU figures are the bot's
alone, its worker processes included (peak RSS and CPU from /proc, Linux only). It talks over
HTTP on 127.0.0.1 to the test suite's fake Bot API, which runs in threads of this process, with
a lightweight `sendPhoto` (the fake's own one re-encodes every answer's thumbnails, which would
make the fake the bottleneck).

The photos are the photo benchmark's rendered 1280x960 phone photos of held-out handwriting,
offered at Telegram's sizes (90, 320, 800 px and the original), so the bot downloads the 800 px
one. All photos of a scenario are queued at once, as fast as the fake server can take them, and
latency is measured from a photo being queued on the server to the bot's answer arriving there.

By default the bot paces nothing (SEND_RATE_PER_SECOND=0): the fake has no flood limits and the
run measures what the bot itself can do. Against Telegram the pacing caps one bot at about 30
messages a second: the answers, and the "sending a photo…" actions of slow ones.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bot_latency import TOKEN, fake_bot_api, percentile
from bench.photos import BASIC, bench_cases
from bot.settings import DEFAULT_RECOGNITION_PROCESSES
from tests.fakebotapi import telegram_sizes

PHOTO_VARIETY = 40
READY_TIMEOUT = 60.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Outcome:
    """What one scenario measured."""

    name: str
    sent: int
    seconds: float  # from the first photo queued to the last answer
    latencies: list[float]  # per answered photo of the users measured, in seconds
    answers: Counter[str] = field(default_factory=Counter)  # method -> count, all users
    texts: Counter[str] = field(default_factory=Counter)  # text replies, by their first line
    bot_cpu: float = 0.0  # CPU seconds the bot process used during the scenario
    fake_cpu: float = 0.0  # CPU seconds of this process (fake server and driver)


class Photos:
    """Distinct photos stored on the fake server once, each offered as Telegram's size ladder."""

    def __init__(self, api: Any, count: int, seed: int) -> None:
        self.sizes: list[list[dict[str, Any]]] = []
        for case in bench_cases("single", count, seed, BASIC):
            ladder = []
            for data, width, height in telegram_sizes(case.jpeg):
                file_id = api.add_file(data)
                stored = api.get_stored_file(file_id)
                ladder.append(
                    {
                        "file_id": file_id,
                        "file_unique_id": stored.file_unique_id,
                        "file_size": len(data),
                        "width": width,
                        "height": height,
                    }
                )
            self.sizes.append(ladder)
        self._next = itertools.cycle(range(len(self.sizes)))

    def message(self, user_id: int, message_id: int) -> dict[str, Any]:
        """A photo message from `user_id` in their private chat."""
        user = {"id": user_id, "is_bot": False, "first_name": "Load"}
        return {
            "message_id": message_id,
            "from": user,
            "chat": {"id": user_id, "type": "private", "first_name": "Load"},
            "date": int(time.time()),
            "photo": self.sizes[next(self._next)],
        }


class Driver:
    """Queues photos on the fake server and collects the bot's answers to them."""

    def __init__(self, api: Any, photos: Photos, bot_pid: int) -> None:
        self.api = api
        self.photos = photos
        self.bot_pid = bot_pid
        self._message_ids = itertools.count(1)
        self._seen = 0
        self.answers: list[Any] = []  # successful answers, in arrival order

    def queue(self, users: Iterable[int]) -> dict[int, list[float]]:
        """Queue one photo per entry of `users` (in order); returns user -> queue times."""
        queued: dict[int, list[float]] = {}
        for user in users:
            self.api.enqueue_update({"message": self.photos.message(user, next(self._message_ids))})
            queued.setdefault(user, []).append(time.time())
        return queued

    def collect(self) -> None:
        """Take in the answers that arrived since the last call."""
        calls = self.api.calls
        for call in calls[self._seen :]:
            if call.method in ("sendPhoto", "sendMessage") and call.params.get("chat_id"):
                self.answers.append(call)
        self._seen = len(calls)

    def wait(self, expected: dict[int, int], timeout: float) -> None:
        """Wait until each user has `expected[user]` answers."""
        deadline = time.monotonic() + timeout
        while True:
            time.sleep(0.05)
            self.collect()
            got = Counter(call.params["chat_id"] for call in self.answers)
            if all(got[user] >= count for user, count in expected.items()):
                return
            if time.monotonic() > deadline:
                missing = {u: c - got[u] for u, c in expected.items() if got[u] < c}
                raise SystemExit(f"bench.load: answers missing after {timeout:.0f}s: {missing}")

    def answered(self, users: Iterable[int], since: int) -> dict[int, list[Any]]:
        wanted = set(users)
        by_user: dict[int, list[Any]] = {}
        for call in self.answers[since:]:
            if call.params["chat_id"] in wanted:
                by_user.setdefault(call.params["chat_id"], []).append(call)
        return by_user

    def cpu(self) -> tuple[float, float]:
        """CPU seconds so far: the bot's processes (its workers too), and this one's."""
        own = resource.getrusage(resource.RUSAGE_SELF)
        return process_cpu(self.bot_pid), own.ru_utime + own.ru_stime

    def scenario(
        self,
        name: str,
        flood: dict[int, int],
        measured: dict[int, int],
        expected: dict[int, int],
        timeout: float,
    ) -> Outcome:
        """Queue the flood first, then the measured users' photos; wait for every answer."""
        self.collect()
        since = len(self.answers)
        bot_cpu, own_cpu = self.cpu()
        started = time.time()
        self.queue(_interleaved(flood))
        queued = self.queue(_interleaved(measured))
        self.wait(expected, timeout)
        seconds = max(call.time for call in self.answers[since:]) - started
        latencies = []
        for user, answers in self.answered(measured, since).items():
            # Answers of one user arrive about in the order of their photos.
            for sent_at, answer in zip(
                sorted(queued[user]), sorted(a.time for a in answers), strict=True
            ):
                latencies.append(answer - sent_at)
        bot_after, own_after = self.cpu()
        return Outcome(
            name=name,
            sent=sum(flood.values()) + sum(measured.values()),
            seconds=seconds,
            latencies=latencies,
            answers=Counter(call.method for call in self.answers[since:]),
            texts=Counter(
                call.params["text"].splitlines()[0]
                for call in self.answers[since:]
                if call.method == "sendMessage"
            ),
            bot_cpu=bot_after - bot_cpu,
            fake_cpu=own_after - own_cpu,
        )


def _interleaved(counts: dict[int, int]) -> list[int]:
    """Users in round-robin order, each as often as counted: everyone sends at the same time."""
    rounds = [[user] * count for user, count in counts.items()]
    return [user for batch in itertools.zip_longest(*rounds) for user in batch if user is not None]


_SENT_IDS = itertools.count(1)


def light_send_photo(call: Any) -> dict[str, Any]:
    """sendPhoto without the fake's thumbnail work: the answer's shape is all PTB needs."""
    chat_id = int(call.params["chat_id"])
    return {
        "message_id": next(_SENT_IDS),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group", "title": "Load"},
        "photo": [
            {"file_id": "AgACAgIAAxkLOAD", "file_unique_id": "AQADLOAD", "width": 1, "height": 1}
        ],
        "caption": call.params.get("caption", ""),
    }


def start_bot(api: Any, workdir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`digitbot serve` against the fake server."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))
    }
    environment |= {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.url,
        "LOG_LEVEL": "WARNING",
        "HEARTBEAT_FILE": str(workdir / "heartbeat"),
        "PTB_TIMEDELTA": "true",
        **env,
    }
    command = [sys.executable, "-m", "bot.cli", "serve"]
    stderr = (workdir / "bot.log").open("ab")
    with stderr:
        return subprocess.Popen(command, cwd=workdir, env=environment, stderr=stderr)


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


def process_cpu(pid: int) -> float:
    """CPU seconds used so far by the process and its children that still run."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return own + sum(process_cpu(child) for child in _children(pid))


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory so far (VmHWM) of the process and its children, in MB."""
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            total += int(line.split()[1]) / 1024
    return total + sum(peak_rss_mb(child) for child in _children(pid))


def report(outcome: Outcome) -> None:
    ms = sorted(v * 1000 for v in outcome.latencies)
    answered = outcome.answers["sendPhoto"]
    print(f"\n{outcome.name}")
    print(f"  photos queued        {outcome.sent}")
    print(
        f"  answers              {answered} readings, {outcome.answers['sendMessage']} texts "
        f"in {outcome.seconds:.1f} s"
    )
    for text, count in outcome.texts.most_common():
        print(f"    {count} x {text[:70]}")
    if answered:
        print(f"  throughput           {answered / outcome.seconds:.1f} photos/s")
        print(
            f"  CPU per photo        bot {outcome.bot_cpu / answered * 1000:.1f} ms, "
            f"fake server and driver {outcome.fake_cpu / answered * 1000:.1f} ms"
        )
    if ms:
        print(
            f"  latency (ms)         p50 {percentile(ms, 50):.0f}  p95 {percentile(ms, 95):.0f}  "
            f"max {ms[-1]:.0f}  (n={len(ms)})"
        )


def run(args: argparse.Namespace) -> None:
    env = {
        "SEND_RATE_PER_SECOND": "30" if args.telegram_limits else "0",
        "RATE_LIMIT_PER_MINUTE": str(args.rate_limit),
        "RECOGNITION_PROCESSES": str(args.processes),
    }
    api = fake_bot_api()
    api.set_handler("sendPhoto", light_send_photo)
    workdir = Path(tempfile.mkdtemp(prefix="digitbot-load-"))
    print(f"preparing {PHOTO_VARIETY} photos…", flush=True)
    photos = Photos(api, PHOTO_VARIETY, args.seed)
    bot = start_bot(api, workdir, env)
    try:
        api.wait_for_calls("getUpdates", timeout=READY_TIMEOUT)
        idle_mb = peak_rss_mb(bot.pid)
        driver = Driver(api, photos, bot.pid)
        users = range(100_001, 100_001 + args.users)
        normal = range(200_001, 200_001 + args.normal)
        flooder = 300_001
        warm_up = {u: 1 for u in range(1, 6)}
        driver.scenario("warm-up", {}, warm_up, warm_up, timeout=60)
        outcomes = [
            driver.scenario(
                f"{args.users} users x {args.photos} photos, all at once",
                {},
                dict.fromkeys(users, args.photos),
                dict.fromkeys(users, args.photos),
                timeout=600,
            ),
            driver.scenario(
                f"{args.normal} users, one photo each (no flood)",
                {},
                dict.fromkeys(normal, 1),
                dict.fromkeys(normal, 1),
                timeout=120,
            ),
        ]
        # Another minute's budget for the flooder and the normal users: new ids.
        normal_again = range(400_001, 400_001 + args.normal)
        limit = args.rate_limit or args.flood
        outcomes.append(
            driver.scenario(
                f"the same, while one user floods {args.flood} photos "
                f"(RATE_LIMIT_PER_MINUTE={args.rate_limit})",
                {flooder: args.flood},
                dict.fromkeys(normal_again, 1),
                {**dict.fromkeys(normal_again, 1), flooder: min(limit + 1, args.flood)},
                timeout=600,
            )
        )
        flooded = driver.answered([flooder], 0)[flooder]
        peak_mb = peak_rss_mb(bot.pid)
    finally:
        bot.send_signal(signal.SIGINT)
        try:
            bot.wait(timeout=30)
        except subprocess.TimeoutExpired:
            bot.kill()
        api.stop()

    print(
        "\nbot: `digitbot serve` as its own process, "
        f"RECOGNITION_PROCESSES={args.processes}, "
        f"SEND_RATE_PER_SECOND={env['SEND_RATE_PER_SECOND']}; "
        f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}"
    )
    print(
        f"bot memory (with its worker processes): {idle_mb:.0f} MB peak after start-up, "
        f"{peak_mb:.0f} MB peak at the end"
    )
    log = workdir / "bot.log"
    if log.stat().st_size:
        print(f"the bot logged warnings or errors: {log}")
    else:
        shutil.rmtree(workdir)
    for outcome in outcomes:
        report(outcome)
    methods = Counter(call.method for call in flooded)
    print(
        f"  the flooder got      {methods['sendPhoto']} readings and "
        f"{methods['sendMessage']} notice(s) for {args.flood} photos"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the load scenarios and print what they measured."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="users sending at once (50)")
    parser.add_argument("--photos", type=int, default=20, help="photos each of them sends (20)")
    parser.add_argument("--flood", type=int, default=400, help="photos the flooding user sends")
    parser.add_argument("--normal", type=int, default=20, help="users measured beside the flood")
    parser.add_argument("--rate-limit", type=int, default=20, help="RATE_LIMIT_PER_MINUTE (20)")
    parser.add_argument(
        "--telegram-limits", action="store_true", help="pace sending as against Telegram"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=DEFAULT_RECOGNITION_PROCESSES,
        help=f"RECOGNITION_PROCESSES ({DEFAULT_RECOGNITION_PROCESSES})",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.photos > args.rate_limit > 0:
        parser.error("--photos above --rate-limit: the users' own photos would be refused")
    if not Path("/proc/self/status").exists():
        parser.error("needs Linux's /proc for the bot's memory and CPU figures")
    run(args)


if __name__ == "__main__":
    main()
