"""Versioned prompt templates (YAML package data) and their loader. Filled by the memo-engine issue."""
