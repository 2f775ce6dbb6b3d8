"""Argument types and flags shared by several command groups, and plain JSON of a report."""

from __future__ import annotations

import argparse
import dataclasses
from datetime import date
from pathlib import Path
from typing import Any


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from None


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_case_source_args(parser: argparse.ArgumentParser) -> None:
    """Flags that choose cases outside the demo portfolio (``--spec`` and its data, model, library)."""
    parser.add_argument(
        "--spec", help="a dataset spec for cases outside the demo portfolio (e.g. lending_club)"
    )
    parser.add_argument("--data", type=Path, help="with --spec: the CSV or Parquet file of cases")
    parser.add_argument("--model", type=Path, help="with --spec: the model directory that scores them")
    parser.add_argument("--library", help="with --spec: the similar-case library name (index build --spec)")


def case_source_args(args: argparse.Namespace) -> dict[str, Any]:
    """The case source the flags name: ``{}`` for the demo portfolio."""
    if not args.spec:
        return {}
    return {
        "spec": args.spec,
        "data": str(args.data) if args.data else None,
        "model": str(args.model) if args.model else None,
        "library": args.library,
    }


def iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def jsonable(obj: object) -> object:
    """Dataclasses (reports) to plain JSON types."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj
