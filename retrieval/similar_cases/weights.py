"""How a similar-case search weighs the tabular profile against the narrative (documents) vector."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class CaseWeights:
    tabular: float = 0.6
    text: float = 0.4

    def __post_init__(self) -> None:
        if self.tabular < 0 or self.text < 0 or not math.isclose(self.tabular + self.text, 1.0):
            raise ValueError(
                f"case weights must be non-negative and sum to 1, got {self.tabular} and {self.text}"
            )
