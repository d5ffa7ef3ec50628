"""The serving process stays lean: the bot and its reading import no scikit-learn."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.digit_photos import PhotoMaker

# The bot's start-up (its modules, the model, the held-out evaluation /accuracy shows) and one
# photo read, in a fresh interpreter; it prints the top-level packages it imported.
SERVING = """
import json, sys
from pathlib import Path

import bot.app, bot.cli, bot.handlers, bot.feedback.handlers
from bot.reading import read_photo
from bot.services import Services

services = Services.create()
reading, preview = read_photo(services.recognizer, Path(sys.argv[1]).read_bytes())
assert reading.text == "38" and preview, reading.text
print(json.dumps(sorted({name.partition(".")[0] for name in sys.modules})))
"""


@pytest.mark.slow  # a subprocess
def test_the_serving_process_imports_no_scikit_learn(photo: PhotoMaker, tmp_path: Path) -> None:
    image = tmp_path / "photo.jpg"
    image.write_bytes(photo([3, 8]))
    done = subprocess.run(
        [sys.executable, "-c", SERVING, str(image)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    packages = set(json.loads(done.stdout))
    assert {"numpy", "PIL", "model", "bot", "telegram"} <= packages
    assert not packages & {"sklearn", "joblib"}
