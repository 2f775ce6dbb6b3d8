"""The English function words every word-level check of a sentence sets aside.

Each check adds the words it also ignores: summary support the names a summary gives its subject and
its reporting verbs (``claims.SUPPORT_STOPWORDS``), the figure reader the words that never say what a
number is of (``figure_context.FUNCTION``), the verdict trainer the modals and negations that carry no
phrase of their own (``verdict_training.FUNCTION_WORDS``).
"""

from __future__ import annotations

_CORE = """a an are as at be been by for from had has have her his in is its of on our than that the their
these this those to was were with"""
CORE_WORDS = frozenset(_CORE.split())


def words(text: str) -> frozenset[str]:
    """:data:`CORE_WORDS` and the words of ``text``."""
    return CORE_WORDS | frozenset(text.split())
