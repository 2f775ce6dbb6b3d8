"""Launcher for the Underwriter workbench (Gradio): settings -> build the app -> launch.

Thin by design: everything lives in ``assistant.ui``. ``python app.py --help`` lists the flags.
"""

from __future__ import annotations

import sys

from assistant.ui.launch import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
