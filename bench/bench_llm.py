"""LLM stack benchmark: decode speed against bare llama-cpp-python, memo latency, batch throughput.

Baselines measured in the same run:
* decode: bare ``llama_cpp.Llama.create_chat_completion`` on the same GGUF, prompt, threads and
  sampling settings, against ``models.backends.llm.stream`` (LangChain chat model, timeout guard);
* memo latency: merchants with exactly 5 documents, each memo with a fresh audit store so no
  summary is cached;
* batch: ``run_batch`` with 1 and 2 worker processes on the same merchants (fresh output folder
  and audit store each time);
* chat: time to the first shown (validated) piece of a document answer.

Run: ``.venv/bin/python bench/bench_llm.py`` (about 6 minutes on 2 cores; builds the demo
workspace first if needed). Writes ``bench/results/llm.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.audit import AuditStore  # noqa: E402
from assistant.backends import open_embedder, open_llm  # noqa: E402
from assistant.case.source import CaseSource  # noqa: E402
from assistant.chat import ChatSession  # noqa: E402
from assistant.jobs.demo import run_demo  # noqa: E402
from assistant.jobs.index_build import build_indexes  # noqa: E402
from assistant.jobs.memo_batch import run_batch  # noqa: E402
from assistant.memo.config import memo_config  # noqa: E402
from assistant.memo.record import generate_memo  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from assistant.workspace import Workspace  # noqa: E402
from bench.machine import describe, machine  # noqa: E402
from models.backends.llm import embedded_gguf_path, stream  # noqa: E402
from retrieval.passages import DocumentIndex  # noqa: E402

DECODE_MESSAGES = [
    ("system", "You are a helpful assistant for a credit underwriter."),
    (
        "user",
        "Explain in detail how refunds, chargebacks and delivery delays create credit risk for a payments company.",
    ),
]


def decode_rate(pieces_and_times: list[float]) -> float:
    """Tokens per second after the first token (decode only, prompt excluded)."""
    first, last = pieces_and_times[0], pieces_and_times[-1]
    return (len(pieces_and_times) - 1) / (last - first) if last > first else 0.0


def bare_decode(tokens: int, threads: int, repeat_penalty: float, seed: int) -> float:
    from llama_cpp import Llama

    llama = Llama(
        model_path=str(embedded_gguf_path()),
        n_ctx=4096,
        n_threads=threads,
        n_threads_batch=threads,
        seed=seed,
        verbose=False,
    )
    stamps = []
    for part in llama.create_chat_completion(
        messages=[{"role": r, "content": c} for r, c in DECODE_MESSAGES],
        max_tokens=tokens,
        temperature=0.0,
        seed=seed,
        repeat_penalty=repeat_penalty,
        stream=True,
    ):
        if part["choices"][0]["delta"].get("content"):  # type: ignore[index]
            stamps.append(time.perf_counter())
    return decode_rate(stamps)


def stack_decode(llm, tokens: int) -> float:  # type: ignore[no-untyped-def]
    stamps = [time.perf_counter() for _ in stream(llm, DECODE_MESSAGES, max_tokens=tokens)]
    return decode_rate(stamps)


def main() -> None:
    print(describe(), flush=True)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memos", type=int, default=10, help="memos timed for latency (default 10)")
    parser.add_argument("--batch", type=int, default=12, help="merchants per batch run (default 12)")
    parser.add_argument("--repeats", type=int, default=5, help="decode runs per side (default 5)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "llm.json")
    args = parser.parse_args()

    settings = load_settings(None, threads=2)
    if not Workspace(settings).has_model() or not Workspace(settings).indexes_current():
        run_demo(settings, progress=False)
        build_indexes(settings, progress=False)
    results: dict = {"machine": machine(), "threads": settings.threads}

    # 1. decode through the whole stack vs bare llama-cpp-python, interleaved
    llm = open_llm(settings)
    bare, ours = [], []
    for _ in range(args.repeats):
        bare.append(bare_decode(200, settings.threads, llm.params.repeat_penalty, llm.params.seed))
        ours.append(stack_decode(llm, 200))
    results["decode"] = {
        "baseline": "bare llama_cpp.Llama.create_chat_completion, same GGUF/prompt/threads/sampling",
        "bare_tokens_per_s_median": round(statistics.median(bare), 1),
        "stack_tokens_per_s_median": round(statistics.median(ours), 1),
        "stack_over_bare": round(statistics.median(ours) / statistics.median(bare), 3),
        "runs": args.repeats,
        "max_tokens": 200,
    }
    print("decode", results["decode"], flush=True)

    # 2. memo latency, merchants with exactly 5 documents, nothing cached
    files = Workspace(settings).portfolio
    docs = pd.read_csv(files.documents, dtype=str)
    counts = docs.groupby("merchant_id").size()
    five = sorted(counts[counts == 5].index)[: args.memos]
    source = CaseSource(settings)
    config = memo_config(settings)
    latencies, calls, tokens = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i, merchant in enumerate(five):
            with AuditStore.open(Path(tmp) / f"audit{i}.sqlite") as audit:
                started = time.perf_counter()
                result = generate_memo(source, merchant, llm, audit, config)
                latencies.append(time.perf_counter() - started)
                calls.append(result.calls)
                tokens.append(result.tokens)
    q = statistics.quantiles(latencies, n=20, method="inclusive")  # never beyond the largest sample
    results["memo_latency"] = {
        "merchants": len(five),
        "documents_each": 5,
        "summaries_cached": False,
        "p50_s": round(statistics.median(latencies), 2),
        "p95_s": round(q[18], 2),
        "max_s": round(max(latencies), 2),
        "llm_calls_mean": round(statistics.mean(calls), 1),
        "tokens_mean": round(statistics.mean(tokens), 1),
        "target_p50_s": 15,
    }
    print("memo", results["memo_latency"], flush=True)

    # 3. chat: time to the first shown piece of a document answer
    index = DocumentIndex.load(Workspace(settings).documents_index_dir, open_embedder(settings))
    firsts, answers = [], []
    for merchant in five[:5]:
        chat = ChatSession(source, merchant, llm, None, document_index=index)
        started = time.perf_counter()
        stamps = [
            time.perf_counter() - started
            for _ in chat.ask("What do the documents say about refunds, complaints or losses?")
        ]
        firsts.append(stamps[0])
        answers.append(stamps[1])
    results["chat_first_piece"] = {
        "questions": len(firsts),
        "first_piece_p50_s": round(statistics.median(firsts), 2),
        "first_piece_note": "the passages found, with citations (search included)",
        "first_answer_sentence_p50_s": round(statistics.median(answers), 2),
        "first_answer_sentence_max_s": round(max(answers), 2),
        "first_answer_note": "first validated LLM sentence, or the quoted fallback once no sentence survived",
        "target_s": 1.5,
    }
    print("chat", results["chat_first_piece"], flush=True)
    del llm

    # 4. batch throughput with 1 and 2 workers on the same merchants
    merchants = source.ids("applicant")[: args.batch]
    results["batch"] = {"merchants": len(merchants), "target_memos_per_min": 10}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            run_settings = settings.model_copy(
                update={"audit": settings.audit.model_copy(update={"url": f"{tmp}/audit.sqlite"})}
            )
            summary = run_batch(run_settings, merchants, Path(tmp) / "memos", workers=workers, progress=False)
            assert summary.done == len(merchants), summary.failures
            results["batch"][f"workers_{workers}"] = {
                "memos_per_min": round(summary.memos_per_minute, 1),
                "tokens_per_s": round(summary.tokens_per_second, 1),
                "seconds": round(summary.seconds, 1),
                "threads_per_worker": max(1, settings.threads // workers),
            }
        print("batch", workers, results["batch"][f"workers_{workers}"], flush=True)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
