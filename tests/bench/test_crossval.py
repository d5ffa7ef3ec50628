"""How cross-validation reads the configurations it compares."""

from __future__ import annotations

import numpy as np
import pytest

from bench.crossval import FOLDS, _value, main, mnist_fold


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


def test_mnist_folds_split_every_label_into_disjoint_fifths() -> None:
    labels = np.repeat(np.arange(10), 400)
    folds = [mnist_fold(labels, fold) for fold in range(FOLDS)]
    assert np.array_equal(np.sum(folds, axis=0), np.ones(len(labels)))
    for mask in folds:
        assert np.array_equal(np.bincount(labels[mask]), np.full(10, 80))
