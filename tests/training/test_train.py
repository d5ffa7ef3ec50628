"""Training's progress report and its repeatability (on tiny data: no big model is trained here)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from model.network import Ensemble, Network
from model.recognize import Recognizer
from training.data import train_digits
from training.train import (
    Meter,
    TrainingConfig,
    duration,
    fit_classifier,
    fit_ensemble,
    for_prediction,
    grids_of,
)

TINY = TrainingConfig(hidden_layer_sizes=(16,), alpha=1e-3, schedule=((1e-2, 30), (1e-3, 5)))


def test_durations_read_as_people_say_them() -> None:
    assert duration(42.4) == "42 s"
    assert duration(200) == "3 min 20 s"


def test_the_meter_shows_a_bar_and_the_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([0.0, 10.0, 12.0, 40.0])
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock))
    lines: list[str] = []
    meter = Meter("fitting", 4, lines.append, every=5.0)
    meter(1)  # 10 s for one step of four: 30 s to go
    meter(2)  # 2 s after the last report: too soon to report again
    meter(4)
    assert lines == [
        "fitting [#####...............] 1/4, about 30 s left",
        "fitting [####################] 4/4, 40 s",
    ]


def test_fitting_is_repeatable_and_reports_each_epoch() -> None:
    images, labels = train_digits()
    grids = images.reshape((-1, 64))[:300].astype(np.float32)
    reports: list[str] = []
    first = fit_classifier(TINY, grids, labels[:300], reports.append)
    again = fit_classifier(TINY, grids, labels[:300], lambda _: None)
    assert len(reports) == 35 and reports[-1].startswith("fitting [####################] 35/35")
    for a, b in zip(
        first.coefs_ + first.intercepts_, again.coefs_ + again.intercepts_, strict=True
    ):
        assert np.array_equal(a, b)
    # It learns in float32 and keeps its seed, not a generator's state, as its random_state.
    assert first.coefs_[0].dtype == np.float32 and first.random_state == TINY.seed
    assert (first.predict(grids) == labels[:300]).mean() > 0.5  # it learns (chance: 0.1)
    # Each epoch shuffles afresh: another seed learns other weights.
    other = fit_classifier(TrainingConfig(**{**TINY.__dict__, "seed": 1}), grids, labels[:300])
    assert not np.array_equal(first.coefs_[0], other.coefs_[0])


def test_an_ensemble_is_its_networks_from_consecutive_seeds() -> None:
    images, labels = train_digits()
    grids = images.reshape((-1, 64))[:300].astype(np.float32)
    reports: list[str] = []
    config = TrainingConfig(**{**TINY.__dict__, "members": 2, "seed": 4})
    ensemble = for_prediction(fit_ensemble(config, grids, labels[:300], reports.append))
    assert isinstance(ensemble, Ensemble) and len(ensemble.members) == 2
    assert reports[0] == "network 1 of 2" and reports.count("network 2 of 2") == 1
    for seed, member in enumerate(ensemble.members, start=4):
        alone = fit_classifier(
            TrainingConfig(**{**TINY.__dict__, "seed": seed}), grids, labels[:300]
        )
        assert member.random_state == seed and not hasattr(member, "_optimizer")
        assert np.array_equal(member.coefs_[0], alone.coefs_[0])
    # One member is one network, not an ensemble of one.
    single = fit_ensemble(TrainingConfig(**{**TINY.__dict__, "members": 1}), grids, labels[:300])
    assert not isinstance(single, Ensemble)
    # What a worker process reads with: the same ensemble as plain arrays.
    weights = Recognizer(ensemble, check=None).weights()
    assert isinstance(weights.estimator, Ensemble)
    assert all(isinstance(member, Network) for member in weights.estimator.members)
    np.testing.assert_allclose(
        weights.estimator.predict_proba(grids), ensemble.predict_proba(grids), rtol=1e-12
    )


def test_grids_come_one_by_one_with_progress() -> None:
    ink = np.zeros((28, 28), np.float32)
    ink[4:24, 12:16] = 1.0
    counted: list[int] = []
    grids = grids_of((ink for _ in range(2000)), counted.append)
    assert grids.shape == (2000, 64) and counted == [1000, 2000]
    assert grids_of([]).shape == (0, 64)
