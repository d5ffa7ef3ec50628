"""Model files as plain arrays: a `.npz` that NumPy reads without unpickling anything.

A model file is a zip of `.npy` arrays (`numpy.savez`'s format) holding only numbers and
strings, so loading it runs no code: `np.load(..., allow_pickle=False)`. Its sha256 is still
checked before it is read, so that the bot serves the weights it was told to trust. The zip is
written here rather than by `numpy.savez`, whose entries carry the time of writing: the same
arrays always give the same bytes, and so the same sha256.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from model.errors import ModelError
from model.network import Network

# The date of every zip entry: the earliest a zip can hold, so that no clock enters the file.
ENTRY_DATE = (1980, 1, 1, 0, 0, 0)
# What a model file holds besides its networks: how it was made, as one JSON string.
METADATA = "metadata"


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def arrays_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """The `.npz` file of `arrays`, the same bytes for the same arrays (entries in name order)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            array = np.asarray(arrays[name])
            if array.dtype.hasobject:
                raise ValueError(f"{name}: only numbers and strings go into a model file")
            npy = io.BytesIO()
            np.lib.format.write_array(npy, array, allow_pickle=False)
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=ENTRY_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, npy.getvalue(), compresslevel=6)
    return buffer.getvalue()


def model_file_arrays(
    networks: Mapping[str, Any], metadata: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """The arrays of a model file: `metadata` as JSON (METADATA) and the weights of each fitted
    ReLU MLP in `networks` under its name (`Network.arrays`)."""
    arrays = {METADATA: np.array(json.dumps(dict(metadata), sort_keys=True))}
    for name, estimator in networks.items():
        network = Network.of(estimator)
        if not isinstance(network, Network):
            raise ModelError(
                f"the {name} is a {type(estimator).__name__}, not a ReLU MLP classifier"
            )
        arrays |= network.arrays(name)
    return arrays


def write_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> str:
    """Write `arrays` to `path` as a `.npz` and return its sha256."""
    data = arrays_bytes(arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def read_arrays(path: Path, sha256: str | None) -> dict[str, np.ndarray]:
    """The arrays of the `.npz` at `path`, after its sha256 is found to be `sha256`."""
    if not path.is_file():
        raise ModelError(f"model file {path} not found")
    if not sha256:
        raise ModelError(f"no sha256 given for {path}: set MODEL_SHA256 to the value train printed")
    data = path.read_bytes()  # hashed and read from the same bytes
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256.lower():
        raise ModelError(f"model file {path} has sha256 {actual}, expected {sha256}: refusing it")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ModelError(
            f"model file {path} is not a model `digitbot train` wrote: models are arrays in a "
            ".npz now; make a .joblib model of earlier versions again with `digitbot train`, "
            "or convert it with `python -m training.convert`"
        )
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ModelError(f"model file {path} is not a model file of plain arrays ({exc})") from exc
