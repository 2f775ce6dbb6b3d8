"""The application layer: settings, workflows, the command line (and later the memo engine and UI)."""
