"""A new application entered by hand: its fields checked against the model's spec, and its case id."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from models.data.spec import DatasetSpec
from models.errors import UnderwriterError


def application_row(spec: DatasetSpec, fields: dict[str, Any]) -> dict[str, Any]:
    """Every feature of the spec, typed; a clear error names the first field that is missing or wrong."""
    row: dict[str, Any] = {}
    for feature in spec.features:
        value = fields.get(feature)
        label = spec.display_name(feature)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise UnderwriterError(f"{label}: a value is required")
        if feature in spec.numeric:
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise UnderwriterError(f"{label}: a number is required, got {value!r}") from None
            if not np.isfinite(number):
                raise UnderwriterError(f"{label}: {value!r} is not a finite number")
            row[feature] = number
        else:
            row[feature] = str(value)
    return row


def application_id(row: dict[str, Any], uploads: list[Path]) -> str:
    """``NEW-`` and a hash of the fields and uploaded files: the same application gets the same id."""
    digest = hashlib.sha256(repr(sorted(row.items())).encode())
    for path in uploads:
        digest.update(Path(path).read_bytes())
    return f"NEW-{digest.hexdigest()[:8]}"
