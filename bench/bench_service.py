"""Latency and throughput of the decision service, against the bare scoring path, on this machine.

The demo workspace's model and portfolio (``underwrite demo`` builds them) are copied to a scratch
workspace; ``underwrite serve`` runs there in its own process on 127.0.0.1 (uvicorn, one worker); a
bounded async client (httpx) sends ``POST /v1/decisions`` for real applicants, reasons included, at 1,
8 and 32 concurrent clients, a fixed number of requests each. Reported per level: p50, p99 and
requests/s. Baseline in the same run: the same decisions through :func:`models.scoring.explanation.explain_row`
in-process, one at a time, no HTTP, no audit write (the bare scoring path). Every answered decision
is written to the scratch audit trail, as in production. Target (DESIGN.md): p99 under 25 ms for one
decision with reasons on two cores.

Run: ``.venv/bin/python bench/bench_service.py [--workspace workspace] [--requests 600]``;
writes bench/results/service.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from assistant.service.keys import add_key
from assistant.service.server import free_port
from assistant.settings import load_settings
from assistant.workspace import Workspace
from bench.machine import describe, machine
from models.scoring.explanation import explain_row
from models.store.artifacts import load_model

OUT = Path(__file__).resolve().parent / "results" / "service.json"
LEVELS = (1, 8, 32)


def scratch_workspace(source: Path) -> Path:
    root = Path(tempfile.mkdtemp(prefix="bench-service-")) / "ws"
    shutil.copytree(Workspace(load_settings(None, workspace=source)).model_dir, root / "models" / "merchant")
    shutil.copytree(source / "demo" / "portfolio", root / "demo" / "portfolio")
    return root


def bodies(workspace: Path, features: list[str], n: int) -> list[dict]:
    frame = pd.read_csv(workspace / "demo" / "portfolio" / "merchants.csv", dtype={"mcc": str})
    rows = frame[frame["status"] == "applicant"].head(n)
    return [
        {f: (r[f].item() if hasattr(r[f], "item") else r[f]) for f in features} for _, r in rows.iterrows()
    ]


async def load(
    url: str, key: str, payloads: list[dict], concurrency: int, total: int
) -> tuple[list[float], float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers={"X-API-Key": key}, limits=limits, timeout=60
    ) as client:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(total):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                started = time.perf_counter()
                got = await client.post("/v1/decisions", json=payloads[i % len(payloads)])
                latencies.append(time.perf_counter() - started)
                if got.status_code != 200:
                    raise RuntimeError(f"{got.status_code}: {got.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, time.perf_counter() - started


def summary(latencies: list[float], seconds: float) -> dict:
    ms = np.asarray(latencies) * 1000
    return {
        "requests": len(ms),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "per_second": round(len(ms) / seconds, 1),
    }


def bare_path(model_dir: Path, payloads: list[dict], total: int) -> dict:
    model = load_model(model_dir, nthread=1)
    latencies = []
    started = time.perf_counter()
    for i in range(total):
        row = pd.DataFrame([payloads[i % len(payloads)]])
        t = time.perf_counter()
        explain_row(model, row, 1, with_recourse=False)
        latencies.append(time.perf_counter() - t)
    return summary(latencies, time.perf_counter() - started)


def start_server(workspace: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "UNDERWRITER_THREADS": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assistant.cli.main",
            "--workspace",
            str(workspace),
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the service did not start: {process.stderr.read() if process.stderr else ''}")


def main() -> None:
    print(describe(), flush=True)
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", type=Path, default=Path("workspace"))
    parser.add_argument("--requests", type=int, default=600, help="requests per concurrency level")
    args = parser.parse_args()
    workspace = scratch_workspace(args.workspace)
    settings = load_settings(None, workspace=workspace)
    model_dir = Workspace(settings).model_dir
    payloads = bodies(workspace, load_model(model_dir).spec.features, 200)
    with Workspace(settings).open_audit() as audit:
        _, key = add_key(audit, "bench", "score", rate_per_minute=10_000_000)
    bare = bare_path(model_dir, payloads, args.requests)
    print(f"bare scoring path: {bare}", flush=True)
    port = free_port()
    server = start_server(workspace, port)
    try:
        url = f"http://127.0.0.1:{port}"
        asyncio.run(load(url, key, payloads, 4, 100))  # warm-up, not reported
        levels = {}
        for concurrency in LEVELS:
            latencies, seconds = asyncio.run(load(url, key, payloads, concurrency, args.requests))
            levels[str(concurrency)] = summary(latencies, seconds)
            ratio = levels[str(concurrency)]["per_second"] / bare["per_second"]
            levels[str(concurrency)]["throughput_vs_bare"] = round(ratio, 3)
            print(f"{concurrency:>2} clients: {levels[str(concurrency)]}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    with Workspace(settings).open_audit() as audit:
        recorded = audit.count("api_requests")
    result = {
        "machine": machine(),
        "command": "python bench/bench_service.py " + " ".join(sys.argv[1:]),
        "bare_scoring_path": bare,
        "service": levels,
        "decisions_recorded": recorded,
        "target_p99_ms_one_client": 25,
        "meets_target": levels["1"]["p99_ms"] < 25,
    }
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    shutil.rmtree(workspace.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
