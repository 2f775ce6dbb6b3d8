"""Probability calibration of the booster's margin (Platt scaling).

The booster is trained with class weights, so its raw probabilities are not
default rates. A two-parameter logistic map ``pd = sigmoid(a * margin + b)``
fitted on held-out data restores them while keeping the ranking (and so the
reason codes, which live in margin space) unchanged. Parameters are plain
JSON numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@dataclass(frozen=True)
class PlattCalibrator:
    a: float
    b: float

    @classmethod
    def fit(
        cls, margin: np.ndarray, y: np.ndarray, l2: float = 1e-4, iterations: int = 100
    ) -> PlattCalibrator:
        """Fit by Newton's method on the log loss, with a tiny ridge for separable data."""
        x = np.column_stack([np.asarray(margin, dtype=float), np.ones(len(margin))])
        y = np.asarray(y, dtype=float)
        w = np.array([1.0, 0.0])
        for _ in range(iterations):
            p = sigmoid(x @ w)
            grad = x.T @ (p - y) + l2 * w
            hess = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(2)
            step = np.linalg.solve(hess, grad)
            w -= step
            if np.max(np.abs(step)) < 1e-10:
                break
        return cls(a=float(w[0]), b=float(w[1]))

    def __call__(self, margin: np.ndarray) -> np.ndarray:
        return sigmoid(self.a * np.asarray(margin, dtype=float) + self.b)

    def to_dict(self) -> dict:
        return {"method": "platt", "a": self.a, "b": self.b}

    @classmethod
    def from_dict(cls, data: dict) -> PlattCalibrator:
        if data.get("method") != "platt":
            raise ValueError(f"unknown calibration method {data.get('method')!r}")
        return cls(a=float(data["a"]), b=float(data["b"]))
