"""Running in a container: the image's invariants, the heartbeat and health check, a clean stop.

The image itself is not built here (that needs a container engine; README.md's "Run your own" shows
how); these tests check what the build relies on, and drive `digitbot serve` as a process the
way `docker stop` does.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from telegram.ext import Application

from bot.cli import build_parser, main
from bot.heartbeat import Heartbeat
from model.store import load_stored_model
from tests.fakebotapi import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ_0123-45"
DIGIT_PHOTO = ROOT / "model" / "examples" / "digit-7.jpg"
# Every variable Settings.from_env reads, straight from its source.
SETTING_NAMES = sorted(
    set(re.findall(r'get\(\s*"([A-Z0-9_]+)"', (ROOT / "bot" / "settings.py").read_text()))
)


# ---------------------------------------------------------------------------- the Dockerfile


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile as stages of (INSTRUCTION, arguments), continuations joined."""
    stages: list[list[tuple[str, str]]] = []
    logical = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        instruction, _, arguments = (logical + stripped).partition(" ")
        logical = ""
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def final_stage() -> list[tuple[str, str]]:
    return dockerfile_stages()[-1]


def exec_form(arguments: str) -> list[str]:
    """Parse an exec-form (JSON array) CMD/ENTRYPOINT/HEALTHCHECK CMD; fail on shell form."""
    assert arguments.startswith("["), f"shell form, not exec form: {arguments}"
    words = json.loads(arguments)
    assert isinstance(words, list) and all(isinstance(w, str) for w in words)
    return words


def console_scripts() -> set[str]:
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"])


def assert_runs_digitbot(command: list[str]) -> None:
    """The command is one of the project's console scripts with a subcommand it has."""
    assert command[0] in console_scripts(), f"{command[0]} is not a console script in pyproject"
    build_parser().parse_args(command[1:])  # exits (fails the test) on an unknown subcommand


def test_every_stage_uses_the_slim_python_base_and_no_versioned_python_path() -> None:
    assert [args.split()[0] for args in (s[0][1] for s in dockerfile_stages())] == [
        "python:3.11-slim",
        "python:3.11-slim",
    ]
    # The venv is found through PATH; a path like /usr/local/lib/python3.12 breaks on other bases.
    assert not re.search(r"python3\.\d+", (ROOT / "Dockerfile").read_text())


def test_runs_as_a_fixed_numeric_non_root_user() -> None:
    users = [args for instruction, args in final_stage() if instruction == "USER"]
    assert users, "the runtime stage has no USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0, users[-1]
    assert not gid or (gid.isdigit() and int(gid) != 0), users[-1]


def test_cmd_is_exec_form_serve_and_output_is_unbuffered() -> None:
    stage = final_stage()
    cmds = [exec_form(args) for instruction, args in stage if instruction == "CMD"]
    entrypoints = [exec_form(args) for instruction, args in stage if instruction == "ENTRYPOINT"]
    command = (entrypoints[-1] if entrypoints else []) + (cmds[-1] if cmds else [])
    assert command[-1] == "serve"
    assert_runs_digitbot(command)
    env = " ".join(args for instruction, args in stage if instruction == "ENV")
    assert "PYTHONUNBUFFERED=1" in env
    assert "/opt/venv/bin" in env


def test_healthcheck_runs_the_healthcheck_subcommand() -> None:
    checks = [args for instruction, args in final_stage() if instruction == "HEALTHCHECK"]
    assert len(checks) == 1
    options, _, command = checks[0].partition("CMD ")
    assert "--interval=" in options and "--timeout=" in options
    assert exec_form(command.strip()) == ["digitbot", "healthcheck"]
    assert_runs_digitbot(["digitbot", "healthcheck"])


def test_data_dir_is_a_volume_the_bot_user_owns() -> None:
    stage = final_stage()
    env = " ".join(args for instruction, args in stage if instruction == "ENV")
    data_dir = re.search(r"\bDATA_DIR=(\S+)", env)
    assert data_dir, "DATA_DIR is not set: the default is relative to the working directory"
    volumes = [args for instruction, args in stage if instruction == "VOLUME"]
    assert any(data_dir[1] in v for v in volumes), f"{data_dir[1]} is not a VOLUME"
    uid = [args for instruction, args in stage if instruction == "USER"][-1].split(":")[0]
    runs = " ".join(args for instruction, args in stage if instruction == "RUN")
    assert re.search(rf"chown {uid}(:\d+)? {re.escape(data_dir[1])}\b", runs), runs


def test_no_secret_is_baked_in() -> None:
    for stage in dockerfile_stages():
        for instruction, args in stage:
            if instruction in ("ENV", "ARG"):
                assert not re.search(r"TOKEN|SECRET|PASSWORD", args, re.IGNORECASE), args


def copy_sources() -> list[str]:
    """The build-context paths the Dockerfile copies (not those copied from another stage)."""
    sources = []
    for stage in dockerfile_stages():
        for instruction, args in stage:
            if instruction not in ("COPY", "ADD"):
                continue
            words = json.loads(args) if args.startswith("[") else shlex.split(args)
            if any(w.startswith("--from=") for w in words):
                continue
            sources += [w for w in words if not w.startswith("--")][:-1]
    return sources


def test_every_copied_path_exists_and_is_in_the_build_context() -> None:
    sources = copy_sources()
    assert {"requirements.lock", "pyproject.toml"} <= set(sources)
    ignore = dockerignore_rules()
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such path"
        assert not ignored(source.rstrip("/"), ignore), f"COPY {source}: excluded by .dockerignore"
    # The shipped model is package data, so it reaches the image with model/.
    assert not ignored("model/digitbot.npz", ignore)


def test_dependencies_are_installed_before_the_source_is_copied() -> None:
    builder = [(i, a) for i, a in dockerfile_stages()[0] if i in ("COPY", "RUN")]
    installs = next(
        n for n, (i, a) in enumerate(builder) if i == "RUN" and "requirements.lock" in a
    )
    first_source = next(n for n, (i, a) in enumerate(builder) if i == "COPY" and "bot" in a)
    assert installs < first_source


# ---------------------------------------------------------------------------- .dockerignore


def _pattern(text: str) -> re.Pattern[str]:
    """Docker's pattern syntax: `*` and `?` stay within a path segment, `**` spans segments."""
    regex, i = "", 0
    while i < len(text):
        if text.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif text.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif text[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif text[i] == "?":
            regex, i = regex + "[^/]", i + 1
        elif text[i] == "[":
            end = text.index("]", i)
            regex, i = regex + "[" + text[i + 1 : end].replace("!", "^", 1) + "]", end + 1
        else:
            regex, i = regex + re.escape(text[i]), i + 1
    return re.compile(regex)


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """(is an exception, pattern) for each rule of .dockerignore, in order."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rules.append((negated, _pattern(line.lstrip("!").strip("/"))))
    return rules


def ignored(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether Docker leaves `path` out: the last rule matching it or a parent folder decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    result = False
    for negated, pattern in rules:
        if any(pattern.fullmatch(prefix) for prefix in prefixes):
            result = not negated
    return result


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.local",
        "bot/.env",
        ".git/config",
        ".venv/bin/python",
        ".mypy_cache/3.11/bot/app.meta.json",
        "bot/__pycache__/app.cpython-311.pyc",
        "tests/test_container.py",
        "bench/photos.py",
        "bench/out/report.json",
        "model/examples/digit-7.jpg",
        "compose.yaml",
    ],
)
def test_dockerignore_keeps_secrets_and_dev_files_out(path: str) -> None:
    assert ignored(path, dockerignore_rules())


@pytest.mark.parametrize("path", ["bot/app.py", "model/store.py", "pyproject.toml"])
def test_dockerignore_lets_the_sources_in(path: str) -> None:
    assert not ignored(path, dockerignore_rules())


# ---------------------------------------------------------------------------- pins and config


def locked(name: str = "requirements.lock") -> dict[str, str]:
    """The lock's pins, {name: version}; every pin is exact and carries its hashes."""
    pins: dict[str, str] = {}
    for entry in re.split(r"\n(?=\S)", (ROOT / name).read_text()):
        if entry.strip() and not entry.startswith("#"):
            package, _, version = entry.split()[0].partition("==")
            assert version, f"not an exact pin: {entry}"
            assert "--hash=sha256:" in entry, f"{package} has no hash in {name}"
            pins[canonicalize_name(package)] = version
    return pins


def test_ci_installs_exactly_what_the_image_runs_plus_the_test_tools() -> None:
    runtime, dev = locked(), locked("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
    assert {"pytest", "ruff", "mypy", "uv"} <= set(dev)
    assert "--require-hashes -r requirements-dev.lock" in (ROOT / ".ci/run").read_text()
    assert "--require-hashes -r requirements.lock" in (ROOT / "Dockerfile").read_text()


def test_lock_pins_every_runtime_dependency_and_no_training_or_test_tool() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = locked()
    for text in project["dependencies"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])
    for extra in project["optional-dependencies"].values():
        for text in extra:
            name = canonicalize_name(Requirement(text).name)
            assert name == "digitbot" or name not in pins, f"{name} (an extra) is in the image"
    assert "mlxtend" not in pins


def test_lock_has_the_scikit_learn_the_shipped_model_was_made_with() -> None:
    # The loader refuses a model from another scikit-learn release: the image must match it.
    made_with = load_stored_model().metadata["sklearn_version"]
    assert locked()["scikit-learn"] == made_with


def test_env_example_lists_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", text, re.MULTILINE))
    assert set(SETTING_NAMES) <= listed, set(SETTING_NAMES) - listed
    assert re.search(r"^TELEGRAM_BOT_TOKEN=\s*$", text, re.MULTILINE), "the example holds a token"


def test_compose_restarts_checks_health_and_rotates_logs() -> None:
    text = (ROOT / "compose.yaml").read_text()
    for needle in (
        "env_file: .env",
        "restart: unless-stopped",
        '"digitbot", "healthcheck"',
        "driver: json-file",
        "max-size:",
        "max-file:",
    ):
        assert needle in text, needle


# ---------------------------------------------------------------------------- digitbot healthcheck


@pytest.fixture
def heartbeat_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Settings for the health check, with the heartbeat file in tmp_path; returns its path."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    path = tmp_path / "heartbeat"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("HEARTBEAT_FILE", str(path))
    monkeypatch.setenv("HEARTBEAT_INTERVAL", "10")
    return path


def healthcheck(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["healthcheck", *args])
    out = capsys.readouterr().out
    assert out.count("\n") == 1, f"not one line: {out!r}"
    return code, out


def test_healthcheck_fresh_heartbeat(
    heartbeat_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    heartbeat_env.touch()
    code, out = healthcheck(capsys)
    assert (code, out.split(":")[0]) == (0, "healthy")


@pytest.mark.parametrize(("age", "args"), [(31, ()), (6, ("--max-age", "5"))])
def test_healthcheck_stale_heartbeat(
    heartbeat_env: Path, capsys: pytest.CaptureFixture[str], age: float, args: tuple[str, ...]
) -> None:
    heartbeat_env.touch()
    then = time.time() - age  # default limit: 3 x HEARTBEAT_INTERVAL = 30 s
    os.utime(heartbeat_env, (then, then))
    code, out = healthcheck(capsys, *args)
    assert code == 1
    assert out.startswith("unhealthy:") and "stuck" in out and "unreachable" in out


def test_healthcheck_missing_heartbeat(
    heartbeat_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = healthcheck(capsys)
    assert code == 1
    assert out.startswith(f"unhealthy: no heartbeat at {heartbeat_env}")


def test_healthcheck_with_bad_settings_is_unhealthy(
    heartbeat_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    heartbeat_env.touch()
    monkeypatch.setenv("HEARTBEAT_INTERVAL", "0")
    code, out = healthcheck(capsys)
    assert code == 1
    assert out.startswith("unhealthy: configuration error: HEARTBEAT_INTERVAL")


# ---------------------------------------------------------------------------- the heartbeat writer

INTERVAL = 0.2


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB 22's timedelta `retry_after`; the int form warns, and warnings fail tests."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@asynccontextmanager
async def polling(api: FakeBotAPI) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A bare Application (no handlers needed) long-polling the fake server."""
    app = Application.builder().token(TOKEN).base_url(api.base_url).build()
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield app
    finally:
        if app.updater.running:
            await app.updater.stop()
        await app.stop()
        await app.shutdown()


@asynccontextmanager
async def beating(
    app: Application[Any, Any, Any, Any, Any, Any], path: Path
) -> AsyncIterator[Heartbeat]:
    heartbeat = Heartbeat(app, path, INTERVAL)
    heartbeat.start()
    try:
        yield heartbeat
    finally:
        await heartbeat.stop()
    assert mtime(path) is None, "a stopped bot left its heartbeat behind"


def mtime(path: Path) -> float | None:
    """The file's modification time, None if there is no file (a stat() is too quick to await)."""
    return path.stat().st_mtime if path.exists() else None


async def refreshed(path: Path, after: float, within: float = 3.0) -> bool:
    """Wait until the file's mtime is later than `after`; False if it is not, `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if (mtime(path) or 0) > after:
            return True
        await asyncio.sleep(INTERVAL / 4)
    return False


@pytest.mark.slow
async def test_heartbeat_beats_while_the_api_answers(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    path = tmp_path / "heartbeat"
    path.touch()  # left over from an earlier run: removed, not trusted
    stale = mtime(path) or 0
    async with polling(fake_api) as app, beating(app, path) as heartbeat:
        assert mtime(path) is None
        assert await refreshed(path, 0)
        first = mtime(path) or 0
        assert await refreshed(path, first), "the heartbeat was not refreshed"
        assert (mtime(path) or 0) > stale
        assert await heartbeat.problem() is None
        assert fake_api.calls_for("getMe")


@pytest.mark.slow
@pytest.mark.parametrize("outage", ["errors", "down"])
async def test_heartbeat_stops_when_the_api_fails(
    fake_api: FakeBotAPI, tmp_path: Path, outage: str
) -> None:
    path = tmp_path / "heartbeat"
    async with polling(fake_api) as app, beating(app, path) as heartbeat:
        assert await refreshed(path, 0)
        if outage == "errors":
            fake_api.fail_next("getMe", 502, count=1000)
        else:
            fake_api.stop()
        await asyncio.sleep(INTERVAL)  # a beat already under way may still land
        last = mtime(path) or 0
        assert not await refreshed(path, last, within=5 * INTERVAL), "beat without the API"
        problem = await heartbeat.problem()
        assert problem is not None and "getMe" in problem


@pytest.mark.slow
async def test_heartbeat_stops_when_the_updater_stops(fake_api: FakeBotAPI, tmp_path: Path) -> None:
    path = tmp_path / "heartbeat"
    async with polling(fake_api) as app, beating(app, path) as heartbeat:
        assert await refreshed(path, 0)
        assert app.updater is not None
        await app.updater.stop()
        await asyncio.sleep(INTERVAL)
        last = mtime(path) or 0
        assert not await refreshed(path, last, within=5 * INTERVAL)
        assert "updater" in (await heartbeat.problem() or "")


@pytest.mark.slow
async def test_heartbeat_goes_stale_while_the_loop_is_stuck_and_recovers(
    fake_api: FakeBotAPI,
    heartbeat_env: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with polling(fake_api) as app, beating(app, heartbeat_env):
        assert await refreshed(heartbeat_env, 0)
        time.sleep(5 * INTERVAL)  # noqa: ASYNC251 -- on purpose: a handler blocking the loop
        code, out = healthcheck(capsys, "--max-age", str(3 * INTERVAL))
        assert code == 1, out
        assert await refreshed(heartbeat_env, time.time() - INTERVAL / 2)
        code, out = healthcheck(capsys, "--max-age", str(3 * INTERVAL))
        assert code == 0, out


# ---------------------------------------------------------------------------- stopping the bot


@pytest.fixture
def serve_env(fake_api: FakeBotAPI, tmp_path: Path) -> dict[str, str]:
    """The environment of a `digitbot serve` process talking to the fake Bot API."""
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    return env | {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": fake_api.url,
        "HEARTBEAT_FILE": str(tmp_path / "heartbeat"),
        "HEARTBEAT_INTERVAL": "1",
        "PTB_TIMEDELTA": "true",
    }


@pytest.fixture
def serving(serve_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`digitbot serve` running as a process (killed if a test leaves it running)."""
    with (tmp_path / "stderr.log").open("wb") as stderr:
        # tmp_path as the working directory: no stray .env is read.
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve"], cwd=tmp_path, env=serve_env, stderr=stderr
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def run_healthcheck(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "healthcheck"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.returncode, done.stdout


def wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_sigterm_finishes_the_update_in_flight_and_confirms_it(
    fake_api: FakeBotAPI, serving: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    fake_api.wait_for_calls("getUpdates", timeout=30)
    # Telegram answering getFile slowly keeps the photo's handler in flight when SIGTERM comes.
    fake_api.delay_next("getFile", 1.5)
    photo = fake_api.send_photo(DIGIT_PHOTO.read_bytes())
    fake_api.wait_for_calls("getFile", timeout=10)

    serving.send_signal(signal.SIGTERM)
    started = time.monotonic()
    late = fake_api.send_text("/help")  # arrives while the bot stops: must not be lost either
    code = serving.wait(timeout=20)
    took = time.monotonic() - started

    log = (tmp_path / "stderr.log").read_text()
    assert code == 0, log
    assert took < 5, f"took {took:.1f}s to stop"
    [reply] = fake_api.calls_for("sendPhoto")
    assert reply.params["chat_id"] == photo["message"]["chat"]["id"]
    pending = [u["update_id"] for u in fake_api.pending_updates]
    # The photo's update was confirmed (getUpdates with a later offset), so it is not redelivered.
    assert photo["update_id"] not in pending
    assert fake_api.calls_for("getUpdates")[-1].params["offset"] > photo["update_id"]
    # The late one was either answered or is still waiting for the next start.
    assert late["update_id"] in pending or fake_api.calls_for("sendMessage")
    assert not (tmp_path / "heartbeat").exists()


@pytest.mark.slow
def test_serve_is_healthy_while_serving_and_not_when_the_api_fails(
    fake_api: FakeBotAPI,
    serving: subprocess.Popen[bytes],
    serve_env: dict[str, str],
    tmp_path: Path,
) -> None:
    heartbeat = tmp_path / "heartbeat"
    fake_api.wait_for_calls("getUpdates", timeout=30)
    wait_until(heartbeat.exists, timeout=10)
    assert run_healthcheck(serve_env, tmp_path)[0] == 0

    fake_api.fail_next("getMe", 502, count=1000)
    beat = heartbeat.stat().st_mtime
    wait_until(lambda: time.time() - beat > 3.5, timeout=10)  # past 3 x HEARTBEAT_INTERVAL
    code, out = run_healthcheck(serve_env, tmp_path)
    assert code == 1 and "unreachable" in out, out
    assert "heartbeat skipped" in (tmp_path / "stderr.log").read_text()

    serving.send_signal(signal.SIGTERM)
    assert serving.wait(timeout=20) == 0
    code, out = run_healthcheck(serve_env, tmp_path)
    assert code == 1 and "no heartbeat" in out, out


def handles_sigterm(pid: int) -> bool:
    """Whether the process has a SIGTERM handler installed (Linux: /proc's caught-signals mask)."""
    status = Path(f"/proc/{pid}/status").read_text()
    caught = re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.MULTILINE)
    assert caught is not None
    return bool(int(caught[1], 16) >> (signal.SIGTERM - 1) & 1)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_sigterm_while_starting_exits_at_once(
    fake_api: FakeBotAPI, serving: subprocess.Popen[bytes]
) -> None:
    # As PID 1 in a container a signal without a handler is dropped, so the handler must be
    # there from the first moment: SIGTERM is sent as soon as it is, while the bot still loads.
    wait_until(lambda: handles_sigterm(serving.pid), timeout=10)
    serving.send_signal(signal.SIGTERM)
    assert serving.wait(timeout=5) == 0
    assert not fake_api.calls, "the bot got as far as the Bot API: the handler came late"
