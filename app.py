"""Launcher. The Gradio workbench arrives with its own issue; until then this runs the main job.

Thin by design: load settings, build, launch.
"""

from __future__ import annotations

import sys

from assistant.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))
