"""How cross-validation reads the configurations it compares."""

from __future__ import annotations

import numpy as np
import pytest

from bench.crossval import FOLDS, _value, fold_mask, main, means_table, with_copies
from training.train import TrainingSet


def test_values_take_the_fields_type() -> None:
    assert _value(tuple, "256x128") == (256, 128)
    assert _value(tuple, "256") == (256,)
    assert _value(float, "0.3") == 0.3
    assert _value(int, "4") == 4


@pytest.mark.parametrize(
    ("vary", "message"),
    [
        ("no_such_field=1,2", "TrainingConfig field"),
        ("alpha=", "TrainingConfig field"),
        ("hidden_layer_sizes=256,2x5y", "hidden_layer_sizes: invalid literal"),
    ],
)
@pytest.mark.parametrize("option", ["--vary", "--set"])
def test_bad_settings_are_refused_before_training(
    option: str, vary: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([option, vary])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_folds_are_contiguous_disjoint_blocks_that_cover_everything() -> None:
    folds = [fold_mask(60000, fold) for fold in range(FOLDS)]
    assert np.array_equal(np.sum(folds, axis=0), np.ones(60000))
    for fold, mask in enumerate(folds):
        inside = np.flatnonzero(mask)
        assert inside.size == 20000 and inside[0] == 20000 * fold
        assert np.array_equal(inside, np.arange(inside[0], inside[-1] + 1))  # one block
    assert [int(fold_mask(1000, fold).sum()) for fold in range(FOLDS)] == [334, 333, 333]


def test_the_table_averages_accuracy_and_adds_errors_per_value() -> None:
    run = {"digits_errors": 3, "mnist_errors": 40, "seconds": 60.0}
    lines = [
        {"mnist_variants": 2, "digits_accuracy": 0.98, "mnist_accuracy": 0.99, **run},
        {"mnist_variants": 2, "digits_accuracy": 0.96, "mnist_accuracy": 0.97, **run},
        {"mnist_variants": 0, "digits_accuracy": 0.90, "mnist_accuracy": 0.95, **run},
    ]
    table = means_table("mnist_variants", lines).splitlines()
    assert table[2] == "| 2 | 2 | 97.00% | 6 | 98.00% | 80 | 1.0 |"
    assert table[3] == "| 0 | 1 | 90.00% | 3 | 95.00% | 40 | 1.0 |"


def test_copies_repeat_only_the_load_digits_images() -> None:
    grids = np.arange(5 * 64, dtype=np.float32).reshape((5, 64))
    one = TrainingSet(grids, np.arange(5), {"load_digits[:1000]": 2, "mnist": 3})
    tiled, labels = with_copies(one, 3)
    assert labels.tolist() == [0, 1, 0, 1, 0, 1, 2, 3, 4]
    assert np.array_equal(tiled[:6], np.tile(grids[:2], (3, 1)))
    assert np.array_equal(tiled[6:], grids[2:])
