"""How the sweep lays out a fold's training data from the kept grids and reads its settings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench import sweep
from training.train import TrainingConfig


@pytest.fixture
def small_sources(monkeypatch: pytest.MonkeyPatch) -> dict[str, np.ndarray]:
    """Six load_digits images and nine MNIST glyphs; the kept grids number each image's copies."""
    digit_labels = np.arange(6) % 10
    glyph_labels = np.arange(9) % 10
    monkeypatch.setattr(
        "training.data.train_digits",
        lambda: (np.zeros((6, 8, 8)) + digit_labels[:, None, None], digit_labels),
    )
    monkeypatch.setattr("training.data.mnist_train", lambda: (np.zeros((9, 28, 28)), glyph_labels))
    # Grid values say where a row came from: 100 + glyph, 1000 + 10 * glyph + copy, ...
    mnist = np.repeat(100.0 + np.arange(9), 64).reshape((9, 64))
    mnist_variants = np.stack(
        [np.full((4, 64), 1000.0 + 10 * g) + np.arange(4)[:, None] for g in range(9)]
    )
    digit_variants = np.stack(
        [np.full((3, 64), 5000.0 + 10 * d) + np.arange(3)[:, None] for d in range(6)]
    )
    return {
        "mnist": mnist.astype(np.float32),
        "mnist_variants": mnist_variants.astype(np.float32),
        "digit_variants": digit_variants.astype(np.float32),
    }


def test_a_fold_trains_on_the_other_thirds_with_the_first_copies(
    small_sources: dict[str, np.ndarray],
) -> None:
    config = TrainingConfig(load_digits_copies=2, load_digits_variants=1, mnist_variants=2)
    grids, labels = sweep.fold_training(small_sources, config, fold=1)
    firsts = grids[:, 0].tolist()
    # fold 1 holds out load_digits images 2, 3 and MNIST glyphs 3, 4, 5
    assert firsts == [
        0, 1, 4, 5, 0, 1, 4, 5,  # load_digits images, twice
        100, 101, 102, 106, 107, 108,  # MNIST glyphs
        5000, 5010, 5040, 5050,  # one varied copy of each load_digits image
        1000, 1001, 1010, 1011, 1020, 1021, 1060, 1061, 1070, 1071, 1080, 1081,
    ]  # fmt: skip
    assert labels.tolist() == [
        0, 1, 4, 5, 0, 1, 4, 5, 0, 1, 2, 6, 7, 8, 0, 1, 4, 5,
        0, 0, 1, 1, 2, 2, 6, 6, 7, 7, 8, 8,
    ]  # fmt: skip


def test_held_out_is_the_folds_slice_and_block(small_sources: dict[str, np.ndarray]) -> None:
    digits, digit_labels, mnist, mnist_labels = sweep.held_out(small_sources, fold=1)
    assert digits[:, 0].tolist() == [2, 3] and digit_labels.tolist() == [2, 3]
    assert mnist[:, 0].tolist() == [103, 104, 105] and mnist_labels.tolist() == [3, 4, 5]


def test_more_copies_than_kept_are_refused(small_sources: dict[str, np.ndarray]) -> None:
    with pytest.raises(ValueError, match="at most 4 MNIST"):
        sweep.fold_training(small_sources, TrainingConfig(mnist_variants=5), fold=0)


def test_settings_take_the_fields_types() -> None:
    assert sweep.parse_setting("alpha=1e-4,hidden_layer_sizes=256x128,mnist_variants=2") == {
        "alpha": 1e-4,
        "hidden_layer_sizes": (256, 128),
        "mnist_variants": 2,
    }
    with pytest.raises(ValueError, match="not a TrainingConfig field"):
        sweep.parse_setting("alpha=1e-4,no_such_field=3")


class FirstValueIsLabel:
    """Reads a grid as its first value, minus 100 for glyphs and 1000 for varied copies."""

    def predict(self, grids: np.ndarray) -> np.ndarray:
        first = grids[:, 0]
        return np.where(
            first >= 1000, (first - 1000) // 10, np.where(first >= 100, first - 100, first)
        )


def test_scores_count_errors_on_the_slice_the_block_and_its_first_varied_copies(
    small_sources: dict[str, np.ndarray],
) -> None:
    small_sources["mnist_variants"][4, 0] = 1090.0  # glyph 4's first copy now reads as 9
    result = sweep.score(FirstValueIsLabel(), small_sources, fold=1)
    assert result["digits_errors"] == 0 and result["mnist_errors"] == 0
    assert result["varied_errors"] == 1 and result["varied_accuracy"] == round(2 / 3, 4)


def test_an_ensemble_is_scored_at_each_of_its_sizes(
    small_sources: dict[str, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sweep, "pool", lambda seed: small_sources)
    sweep.main(["--quick", "--try", "members=3,hidden_layer_sizes=4", "--try", "members=1"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["setting"], line["networks"]) for line in lines] == [
        ("members=3,hidden_layer_sizes=(4,)", 1),
        ("members=3,hidden_layer_sizes=(4,)", 2),
        ("members=3,hidden_layer_sizes=(4,)", 3),
        ("members=1", 1),
    ]
    # One fit per setting: its sizes share its time.
    assert len({line["seconds"] for line in lines[:3]}) == 1


def test_finer_inputs_count_the_same_bitmap_in_smaller_blocks() -> None:
    glyph = np.zeros((1, 28, 28))
    glyph[0, 4:24, 12:16] = 1.0  # a plain 1
    grid8, grid16, grid32 = (sweep.inputs_of(glyph, name) for name in ("8x8", "16x16", "32x32"))
    assert (grid8.shape, grid16.shape, grid32.shape) == ((1, 64), (1, 256), (1, 1024))
    # Each is the 32x32 bitmap counted in blocks, a full block 16: the same ink pixels in all.
    assert set(np.unique(grid32)) == {0.0, 16.0}
    pixels = grid32.sum() / 16
    assert grid8.sum() == pixels == grid16.sum() / 4 > 0
    assert sweep.inputs_of(glyph, "mnist").max() == 16.0
    with pytest.raises(ValueError, match="unknown input"):
        sweep.inputs_of(glyph, "64x64")


def test_inputs_fit_one_network_each_without_the_kept_grids(
    small_sources: dict[str, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def no_pool(seed: int) -> dict[str, np.ndarray]:
        raise AssertionError("the kept grids are not needed for --inputs")

    monkeypatch.setattr(sweep, "pool", no_pool)
    monkeypatch.setattr(
        sweep, "TrainingConfig", lambda: TrainingConfig(hidden_layer_sizes=(4,), members=3)
    )
    sweep.main(["--quick", "--inputs", "8x8,mnist"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["inputs"] for line in lines] == ["8x8", "mnist"]
    assert all(0 <= line["mnist_errors"] <= 3 for line in lines)  # fold 0 holds out 3 of 9


def test_an_unknown_input_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        sweep.main(["--inputs", "8x8,64x64"])
    assert "unknown input 64x64" in capsys.readouterr().err
