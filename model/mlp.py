"""Fitting the digit MLP with fresh noise on its inputs at every training step.

`MLPClassifier.fit` cannot perturb its inputs, so the weights are fitted here with the same
model, loss, L2 penalty, mini-batches and Adam as scikit-learn's, plus Gaussian noise on each
batch's grids, and then handed to an `MLPClassifier`: the model is the same kind of estimator,
and predicts exactly as one that scikit-learn fitted. Training with noise is a smoothness
penalty (Bishop 1995): the net should answer alike for grids a few ink counts apart.

It is off (`TrainingConfig.input_noise = 0`). With noise 3 (on the 0..16 scale), five-fold
cross-validation read fewer of the load_digits slices wrong on each of three seeds, and as many
MNIST fold glyphs, but the model trained once read the held-out 797 and the photos no better
(README).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

BATCH_SIZE = 200  # scikit-learn's default, min(200, n)
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-8  # scikit-learn's Adam defaults


def fitted_mlp(
    inputs: np.ndarray,
    labels: np.ndarray,
    *,
    hidden_layer_sizes: tuple[int, ...],
    alpha: float,
    schedule: tuple[tuple[float, int], ...],
    input_noise: float,
    seed: int,
    progress: Callable[[str], None],
) -> MLPClassifier:
    """Fit a ReLU MLP on `inputs` `(n, d)` and return it as a fitted `MLPClassifier`.

    `schedule` lists (learning rate, epochs) stages run in order; `input_noise` is the standard
    deviation of the Gaussian noise added to every batch's inputs (0: none).
    """
    classes = np.unique(labels)
    if len(classes) < 3:
        raise ValueError(f"fitted_mlp needs at least 3 classes, not {len(classes)}")
    rng = np.random.default_rng(seed)
    x = np.asarray(inputs, dtype=np.float32)
    targets = np.eye(len(classes), dtype=np.float32)[np.searchsorted(classes, labels)]
    sizes = [x.shape[1], *hidden_layer_sizes, len(classes)]
    weights, biases = [], []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = np.sqrt(6.0 / (fan_in + fan_out))  # scikit-learn's Glorot init for ReLU
        weights.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        biases.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    params = weights + biases
    first_moment = [np.zeros_like(p) for p in params]
    second_moment = [np.zeros_like(p) for p in params]
    step = 0
    loss_curve = []
    for learning_rate, epochs in schedule:
        progress(f"  {epochs} epochs at learning rate {learning_rate:g}")
        for _ in range(epochs):
            epoch_loss = 0.0
            order = rng.permutation(len(x))
            for start in range(0, len(x), BATCH_SIZE):
                batch = order[start : start + BATCH_SIZE]
                batch_x = x[batch]
                if input_noise:
                    batch_x = batch_x + rng.normal(0.0, input_noise, batch_x.shape).astype(
                        np.float32
                    )
                grads, loss = _gradients(weights, biases, batch_x, targets[batch], alpha)
                epoch_loss += loss * len(batch)
                step += 1
                rate = learning_rate * np.sqrt(1 - BETA_2**step) / (1 - BETA_1**step)
                for i, grad in enumerate(grads):
                    first_moment[i] = BETA_1 * first_moment[i] + (1 - BETA_1) * grad
                    second_moment[i] = BETA_2 * second_moment[i] + (1 - BETA_2) * grad * grad
                    params[i] -= rate * first_moment[i] / (np.sqrt(second_moment[i]) + EPSILON)
            loss_curve.append(epoch_loss / len(x))
    return _as_mlp_classifier(weights, biases, classes, x, alpha, seed, loss_curve)


def _gradients(
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    x: np.ndarray,
    targets: np.ndarray,
    alpha: float,
) -> tuple[list[np.ndarray], float]:
    """Gradients of one batch's mean log-loss plus `alpha / 2n * |W|²`, as scikit-learn's."""
    activations = [x]
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        activations.append(np.maximum(activations[-1] @ w + b, 0.0))
    logits = activations[-1] @ weights[-1] + biases[-1]
    logits -= logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    n = len(x)
    penalty = 0.5 * alpha * sum(float((w * w).sum()) for w in weights) / n
    loss = -float((targets * np.log(np.maximum(probabilities, 1e-10))).sum()) / n + penalty
    delta = probabilities - targets
    weight_grads: list[np.ndarray] = [np.empty(0)] * len(weights)
    bias_grads: list[np.ndarray] = [np.empty(0)] * len(weights)
    for layer in range(len(weights) - 1, -1, -1):
        weight_grads[layer] = (activations[layer].T @ delta + alpha * weights[layer]) / n
        bias_grads[layer] = delta.sum(axis=0) / n
        if layer:
            delta = (delta @ weights[layer].T) * (activations[layer] > 0)
    return weight_grads + bias_grads, loss


def _as_mlp_classifier(
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    classes: np.ndarray,
    x: np.ndarray,
    alpha: float,
    seed: int,
    loss_curve: list[float],
) -> MLPClassifier:
    """An `MLPClassifier` whose weights are these, fitted as far as scikit-learn can tell."""
    hidden_layer_sizes = tuple(w.shape[1] for w in weights[:-1])
    estimator = MLPClassifier(
        hidden_layer_sizes=hidden_layer_sizes, alpha=alpha, random_state=seed, max_iter=1
    )
    # One step on a few rows, one labelled as each class, sets up what a fitted MLPClassifier
    # has (classes_, layer counts, output activation); its weights are then replaced.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.partial_fit(x[: len(classes)], classes, classes=classes)
    estimator.coefs_ = [w.astype(np.float64) for w in weights]
    estimator.intercepts_ = [b.astype(np.float64) for b in biases]
    estimator.loss_curve_ = loss_curve
    estimator.loss_ = loss_curve[-1] if loss_curve else float("nan")
    estimator.best_loss_ = min(loss_curve, default=float("nan"))
    estimator.n_iter_ = len(loss_curve)
    estimator.t_ = len(loss_curve) * len(x)  # samples seen, as scikit-learn counts
    return estimator
