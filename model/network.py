"""A fitted ReLU MLP as plain arrays: the arithmetic of reading, without scikit-learn.

The digit classifier, the whole-digit verifier and the digit/writing/mark check are trained as
scikit-learn `MLPClassifier`s (the digit classifier as several, read as one `Ensemble`). Reading
needs only their weights: `Network.of` takes them out of a fitted classifier, `Network.arrays`
gives them as named arrays for a model file (`model.weights`) and `Network.from_arrays` takes
them back, so neither the bot nor its worker processes import scikit-learn.

`Network.predict_proba` is the arithmetic `model.recognize.probabilities` has always done for a
ReLU MLP, in the same order, so readings are bit-identical either way.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class Network:
    """The layers of a fitted ReLU MLP classifier and its class labels."""

    coefs_: tuple[np.ndarray, ...]
    intercepts_: tuple[np.ndarray, ...]
    classes_: np.ndarray
    out_activation_: str  # "softmax", or "logistic" for two classes (one output)

    @functools.cached_property
    def layers(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """Each layer's weights and biases in float64, the precision it computes in.

        The file keeps them as trained, in float32; converting once rather than at every call
        saves a third of the time, and changes no number (float32 to float64 is exact).
        """
        return tuple(
            (np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
            for w, b in zip(self.coefs_, self.intercepts_, strict=True)
        )

    @classmethod
    def of(cls, estimator: Any) -> Any:
        """The estimator's weights as a `Network` when it is a plain ReLU MLP classifier (or
        already a `Network`), an `Ensemble` of such as an `Ensemble` of `Network`s; any other
        estimator as it is."""
        if isinstance(estimator, Ensemble):
            return Ensemble(tuple(cls.of(member) for member in estimator.members))
        if isinstance(estimator, Network) or not is_relu_mlp(estimator):
            return estimator
        return cls(
            coefs_=tuple(np.asarray(w) for w in estimator.coefs_),
            intercepts_=tuple(np.asarray(b) for b in estimator.intercepts_),
            classes_=np.asarray(estimator.classes_),
            out_activation_=str(estimator.out_activation_),
        )

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities of `(n, features)` rows, as `MLPClassifier.predict_proba`."""
        return relu_mlp_probabilities(self, x)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The likeliest class of each of `(n, features)` rows."""
        return np.asarray(self.classes_[np.argmax(self.predict_proba(x), axis=1)])

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        """Its weights as arrays named `name.coef0`, `name.intercept0`, ... for a model file."""
        named = {
            f"{name}.classes": np.asarray(self.classes_),
            f"{name}.out_activation": np.array(self.out_activation_),
        }
        for layer, (weights, bias) in enumerate(zip(self.coefs_, self.intercepts_, strict=True)):
            named[f"{name}.coef{layer}"] = weights
            named[f"{name}.intercept{layer}"] = bias
        return named

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], name: str) -> Network:
        """The network `arrays(name)` gave; KeyError when `arrays` holds none by that name."""
        layers = sum(1 for key in arrays if key.startswith(f"{name}.coef"))
        if not layers:
            raise KeyError(name)
        return cls(
            coefs_=tuple(arrays[f"{name}.coef{layer}"] for layer in range(layers)),
            intercepts_=tuple(arrays[f"{name}.intercept{layer}"] for layer in range(layers)),
            classes_=arrays[f"{name}.classes"],
            out_activation_=str(arrays[f"{name}.out_activation"]),
        )


@dataclass(frozen=True, eq=False)
class Ensemble:
    """Several ReLU MLP classifiers of the same classes (`Network`s or `MLPClassifier`s), read
    as one: the mean of their probabilities.

    Networks trained alike from different seeds err on different digits, so their mean errs
    less than any of them (docs/training.md), at the cost of a few more small matrix products.
    """

    members: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.members:
            raise ValueError("an ensemble needs at least one member")
        first = np.asarray(self.members[0].classes_)
        for member in self.members[1:]:
            if not np.array_equal(np.asarray(member.classes_), first):
                raise ValueError("the members of an ensemble must have the same classes")

    @property
    def classes_(self) -> np.ndarray:
        """The class labels, the same for every member."""
        return np.asarray(self.members[0].classes_)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The mean of the members' class probabilities of `(n, features)` rows.

        Their first layers are one matrix product, most of the arithmetic: one call costs
        little more than one network's.
        """
        weights, bias, bounds = self._first_layers
        hidden = np.maximum(np.asarray(x, dtype=np.float64) @ weights + bias, 0.0)
        total = np.zeros((len(hidden), len(self.classes_)))
        for member, part in zip(self.members, np.split(hidden, bounds, axis=1), strict=True):
            total += _forward(_layers(member)[1:], member.out_activation_, part)
        return np.asarray(total / len(self.members))

    @functools.cached_property
    def _first_layers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The members' first layers side by side, and where each member's units start."""
        firsts = [_layers(member)[0] for member in self.members]
        widths = [w.shape[1] for w, _ in firsts]
        return (
            np.hstack([w for w, _ in firsts]).astype(np.float64),
            np.concatenate([b for _, b in firsts]).astype(np.float64),
            np.cumsum(widths)[:-1],
        )

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The likeliest class of each of `(n, features)` rows."""
        return np.asarray(self.classes_[np.argmax(self.predict_proba(x), axis=1)])


def is_relu_mlp(estimator: Any) -> bool:
    """Whether `estimator` is a fitted scikit-learn MLPClassifier with ReLU hidden layers.

    Told by its class name, so that this module never imports scikit-learn.
    """
    return (
        type(estimator).__name__ == "MLPClassifier"
        and type(estimator).__module__.startswith("sklearn.")
        and getattr(estimator, "activation", None) == "relu"
        and hasattr(estimator, "coefs_")
    )


def relu_mlp_probabilities(network: Any, x: np.ndarray) -> np.ndarray:
    """`predict_proba` of a ReLU MLP (a `Network` or an `MLPClassifier`), from its weights."""
    activation = np.asarray(x, dtype=np.float64)
    return _forward(_layers(network), network.out_activation_, activation)


def _layers(network: Any) -> Sequence[tuple[np.ndarray, np.ndarray]]:
    """The weights and biases of each layer of a `Network` or an `MLPClassifier`."""
    if isinstance(network, Network):
        return network.layers
    return list(zip(network.coefs_, network.intercepts_, strict=True))


def _forward(
    layers: Sequence[tuple[np.ndarray, np.ndarray]], out_activation: str, activation: np.ndarray
) -> np.ndarray:
    """The class probabilities from `activation` (float64) through `layers`: ReLU between
    them, then softmax, or the logistic function for two classes."""
    for weights, bias in layers[:-1]:
        activation = np.maximum(activation @ weights + bias, 0.0)
    weights, bias = layers[-1]
    logits = activation @ weights + bias
    if out_activation == "logistic":  # two classes: one output, P(second class)
        positive = 1.0 / (1.0 + np.exp(-logits))
        return np.hstack([1.0 - positive, positive])
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))
