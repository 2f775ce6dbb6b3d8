"""A new user's first run, timed from an empty workspace: when the workbench answers, when a case
opened at once shows its memo, when the background index build is done, and how fast a later
start is.

It starts ``python app.py`` exactly as ``make run`` does (install already done), on a free
loopback port, with the default demo size unless ``--merchants`` is given, then drives it
through its HTTP API with ``gradio_client``: the work queue, the riskiest applicant's case page
and its memo (the documents read on the spot, the index still building). Baseline in the same
run: the same workspace built in the foreground the way the previous release did before serving
(``--baseline``, portfolio + model + scores + every index; minutes).

Run: ``.venv/bin/python bench/bench_first_run.py [--merchants N] [--baseline]``
On a CPU with native bf16, prefix ``ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2
UNDERWRITER_INDEX__EMBEDDER_PRECISION=float32`` to time it as an AVX2-only CPU runs torch.
Writes bench/results/first_run.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.machine import describe, machine  # noqa: E402
from tests.ui_server import free_port  # noqa: E402

READY = re.compile(r"Underwriter workbench: (http://\S+)\s+\(ready in ([\d.]+) s")


def start(
    workspace: Path, log: Path, env: dict[str, str], timeout: float = 900
) -> tuple[subprocess.Popen, str, float]:
    """Start the app; returns it, its URL and the seconds until it printed its URL."""
    started = time.perf_counter()
    handle = open(log, "w")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(
        [sys.executable, str(REPO / "app.py"), "--workspace", str(workspace), "--port", str(free_port())],
        cwd=REPO,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
    )
    while time.perf_counter() - started < timeout:
        found = READY.search(log.read_text())
        if found:
            return process, found.group(1), time.perf_counter() - started
        if process.poll() is not None:
            raise SystemExit(f"the app exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the app did not answer within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def open_riskiest_case(url: str) -> dict[str, Any]:
    """Queue -> the riskiest applicant's case page -> its memo, timed as a user clicking at once would."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    queue = client.predict("applicant", "", "PD", api_name="/queue")
    merchant = str(queue["data"][0][0])
    started = time.perf_counter()
    page = client.predict(merchant, api_name="/open_case")
    opened = time.perf_counter() - started
    outputs = list(client.submit(merchant, api_name="/memo"))
    memo = outputs[-1][0] if outputs else ""
    return {
        "merchant": merchant,
        "case_page_s": round(opened, 2),
        "memo_s": round(time.perf_counter() - started, 2),
        "memo_recorded": "recorded in the audit trail" in str(memo),
        "documents_read_on_the_spot": any("still being built" in str(part) for part in page),
    }


def wait_for_index(workspace: Path, timeout: float) -> dict[str, Any]:
    status = workspace / "index" / "build.json"
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if status.is_file():
            state = json.loads(status.read_text())
            if state["state"] != "running":
                break
        time.sleep(1)
    return state


def first_run(env: dict[str, str], workdir: Path, index_timeout: float) -> dict[str, Any]:
    workspace = workdir / "ws"
    process, url, answered = start(workspace, workdir / "first.log", env)
    print(f"  workbench answered after {answered:.1f} s", flush=True)
    case = open_riskiest_case(url)
    print(
        f"  riskiest applicant's page {case['case_page_s']} s, memo {case['memo_s']} s after opening",
        flush=True,
    )
    state = wait_for_index(workspace, index_timeout)
    index_s = state.get("updated_at", 0) - state.get("started_at", 0)
    print(f"  background index build: {state.get('state')} after {index_s:.0f} s", flush=True)
    stop(process)
    process, _, again = start(workspace, workdir / "again.log", env)
    stop(process)
    print(f"  later start answered after {again:.1f} s", flush=True)
    manifest = json.loads((workspace / "demo" / "portfolio" / "portfolio.json").read_text())
    return {
        "answered_s": round(answered, 1),
        "case": case,
        "index_state": state.get("state"),
        "index_build_s": round(index_s, 1),
        "passages": state.get("chunks"),
        "merchants": manifest.get("merchants"),
        "documents": manifest.get("documents"),
        "later_start_s": round(again, 1),
    }


def foreground_baseline(env: dict[str, str], workdir: Path) -> float:
    """The previous release's first run: every index built before the first page is served."""
    started = time.perf_counter()
    code = (
        "from assistant.settings import load_settings; from assistant.jobs.prepare import prepare_workspace; "
        f"prepare_workspace(load_settings(None, workspace={str(workdir / 'base')!r}), progress=False)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--merchants", type=int, help="demo portfolio size (default: the settings' default)")
    parser.add_argument("--baseline", action="store_true", help="also time the foreground build (minutes)")
    parser.add_argument("--index-timeout", type=float, default=1800)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "first_run.json")
    args = parser.parse_args()
    info = machine()
    print(describe(info), flush=True)
    env = {**os.environ, "UNDERWRITER_THREADS": "2"}
    if args.merchants:
        env["UNDERWRITER_DEMO__MERCHANTS"] = str(args.merchants)
    with tempfile.TemporaryDirectory() as tmp:
        result: dict[str, Any] = {"machine": info, "merchants": args.merchants or "default"}
        print("first run from an empty workspace (serve first, index in the background):", flush=True)
        result["serve_first"] = first_run(env, Path(tmp), args.index_timeout)
        if args.baseline:
            seconds = foreground_baseline(env, Path(tmp))
            result["baseline_foreground_build_s"] = round(seconds, 1)
            ratio = seconds / result["serve_first"]["answered_s"]
            print(
                f"baseline: everything built before serving took {seconds:.0f} s "
                f"({ratio:.1f}x the time until the workbench answers now)"
            )
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
