"""Workbench benchmark: cold start and time to first render of a case page.

Baseline, measured in the same run: a bare Gradio app (one text box, one echo event) started
the same way. Reported:

* cold start: process start -> first HTTP 200 on ``/`` (target < 10 s), median of 3, and its
  ratio to the bare app's;
* case page, server: the ``/open_case`` event through ``gradio_client`` (score, attribution,
  similar cases, evidence, three plots) on a warm server, p50 of 10 applicants, against the
  bare app's echo round trip;
* case page, browser: a click on a queue row in headless Chromium -> the PD shown, and ->
  the attribution plot shown (target < 2 s), p50 of 5, before any LLM text.

Run: ``.venv/bin/python bench/bench_ui.py`` (uses the demo workspace; builds it if missing).
Results: ``bench/results/ui.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.jobs.prepare import prepare_workspace  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from assistant.workspace import Workspace  # noqa: E402
from bench.machine import describe, machine  # noqa: E402
from tests.ui_server import free_port  # noqa: E402

RUNS = 3
CHROMIUM = "/usr/bin/chromium"
BARE_APP = """
import os, sys
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
import gradio as gr
with gr.Blocks() as app:
    box = gr.Textbox()
    out = gr.Textbox()
    box.submit(lambda s: s, box, out, api_name="echo")
app.queue().launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), quiet=True, footer_links=[], ssr_mode=False)
"""


def wait_http(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


def cold_start(command: list[str], port: int) -> tuple[float, subprocess.Popen]:
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
    )
    wait_http(f"http://127.0.0.1:{port}/", started + 120)
    return time.monotonic() - started, process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def main() -> None:
    print(describe(), flush=True)
    from gradio_client import Client

    settings = load_settings()
    if not Workspace(settings).ready():
        prepare_workspace(settings)
    bare_script = Path(tempfile.mkdtemp()) / "bare_app.py"
    bare_script.write_text(BARE_APP)
    bare_starts, app_starts = [], []
    for _ in range(RUNS):
        port = free_port()
        seconds, process = cold_start([sys.executable, str(bare_script), str(port)], port)
        bare_starts.append(seconds)
        stop(process)
        port = free_port()
        seconds, process = cold_start([sys.executable, "app.py", "--no-prepare", "--port", str(port)], port)
        app_starts.append(seconds)
        stop(process)

    port = free_port()
    _, bare = cold_start([sys.executable, str(bare_script), str(port)], port)
    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
    echo = []
    for i in range(10):
        t = time.perf_counter()
        client.predict(f"x{i}", api_name="/echo")
        echo.append(time.perf_counter() - t)
    stop(bare)

    port = free_port()
    _, app = cold_start([sys.executable, "app.py", "--no-prepare", "--port", str(port)], port)
    url = f"http://127.0.0.1:{port}/"
    try:
        client = Client(url, verbose=False)
        queue = client.predict("applicant", "", "PD", api_name="/queue")
        ids = [row[0] for row in queue["data"]]
        first_open = time.perf_counter()
        client.predict(ids[0], api_name="/open_case")
        first_open = time.perf_counter() - first_open
        server = []
        for case_id in ids[1:11]:
            t = time.perf_counter()
            client.predict(case_id, api_name="/open_case")
            server.append(time.perf_counter() - t)
        browser_pd, browser_plot = browser_render(url)
    finally:
        stop(app)

    result = {
        "machine": machine(),
        "cold_start_s": {
            "workbench_median": statistics.median(app_starts),
            "workbench_all": app_starts,
            "bare_gradio_median": statistics.median(bare_starts),
            "ratio": statistics.median(app_starts) / statistics.median(bare_starts),
        },
        "case_page_server_s": {
            "first_after_start": first_open,
            "p50": statistics.median(server),
            "max": max(server),
            "bare_echo_p50": statistics.median(echo),
            "ratio": statistics.median(server) / statistics.median(echo),
        },
        "case_page_browser_s": {
            "pd_shown_p50": statistics.median(browser_pd) if browser_pd else None,
            "attribution_shown_p50": statistics.median(browser_plot) if browser_plot else None,
            "all_attribution": browser_plot,
        },
    }
    out = ROOT / "bench" / "results" / "ui.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    c, s, b = result["cold_start_s"], result["case_page_server_s"], result["case_page_browser_s"]
    print(
        f"cold start: workbench {c['workbench_median']:.2f} s vs bare Gradio {c['bare_gradio_median']:.2f} s "
        f"({c['ratio']:.2f}x; target < 10 s)"
    )
    print(
        f"case page (server): p50 {s['p50']:.3f} s, max {s['max']:.3f} s vs bare echo {s['bare_echo_p50']:.3f} s "
        f"({s['ratio']:.1f}x); first case after start {s['first_after_start']:.2f} s"
    )
    if b["pd_shown_p50"] is not None:
        print(
            f"case page (Chromium): PD shown p50 {b['pd_shown_p50']:.2f} s, attribution plot shown p50 "
            f"{b['attribution_shown_p50']:.2f} s (target < 2 s)"
        )
    print(f"wrote {out}")


def browser_render(url: str) -> tuple[list[float], list[float]]:
    if not shutil.which(CHROMIUM):
        print(f"no {CHROMIUM}: browser timings skipped")
        return [], []
    from playwright.sync_api import sync_playwright

    pd_times, plot_times = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.goto(url)
        cells = page.locator("#queue [role=row]")
        cells.nth(1).wait_for()
        for row in range(1, 6):
            merchant = cells.nth(row).locator("[role=gridcell]").first
            name = merchant.inner_text().strip()
            before = page.evaluate("() => document.querySelector('#attribution img')?.src || ''")
            t = time.perf_counter()
            merchant.click()
            page.locator("#case-head", has_text=name).wait_for(timeout=30_000)
            pd_times.append(time.perf_counter() - t)
            page.wait_for_function(
                "(old) => { const i = document.querySelector('#attribution img');"
                " return i && i.src !== old && i.complete && i.naturalWidth > 0; }",
                arg=before,
            )
            plot_times.append(time.perf_counter() - t)
            page.locator("#memo", has_text="recorded in the audit trail").wait_for(
                timeout=120_000
            )  # LLM idle again
        browser.close()
    return pd_times, plot_times


if __name__ == "__main__":
    main()
