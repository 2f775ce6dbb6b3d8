"""Versioned prompt templates (YAML package data) and the loader that renders them.

Never imports ``assistant``. Untrusted document text only ever enters a prompt
through :func:`prompts.loader.spotlight`, below the instructions.
"""
