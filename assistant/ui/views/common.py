"""What every view shares: readable errors, a guard that turns failures into messages, figures closed."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import gradio as gr
import matplotlib.pyplot as plt

from models.errors import UnderwriterError

HIDDEN: dict[str, Any] = {"api_visibility": "private"}
"""Event options for listeners that are not part of the app's API (chained steps, duplicates)."""


def readable(error: BaseException) -> str:
    if isinstance(error, UnderwriterError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Any failure becomes a message in a toast; the page and its other panels keep working."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:
            raise gr.Error(readable(exc), duration=None) from None

    return wrapper


def close_figure(fig: Any) -> Any:
    """Gradio renders the figure; pyplot must not keep it."""
    plt.close(fig)
    return fig
