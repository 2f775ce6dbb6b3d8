"""End to end in a real headless browser: Debian's Chromium (``/usr/bin/chromium``, installed by
``.ci/run``) driven by Playwright. Opens the workbench, reviews a demo merchant, follows a
citation to its passage, records a decision, chats, runs a small batch, visits the
evaluation and portfolio views, and saves a screenshot of each to ``workspace/screenshots/``
(or ``$UNDERWRITER_SCREENSHOTS``). Every request the page makes must stay on 127.0.0.1.

Skipped only where Chromium is absent and ``UNDERWRITER_REQUIRE_BROWSER`` is not set (CI sets it).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from assistant.settings import Settings
from tests.ui_server import ROOT, RunningApp, copy_workspace, start_app

CHROMIUM = os.environ.get("UNDERWRITER_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("UNDERWRITER_SCREENSHOTS", ROOT / "workspace" / "screenshots"))
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.slow

if not shutil.which(CHROMIUM) and not os.environ.get("UNDERWRITER_REQUIRE_BROWSER"):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def app(memo_workspace: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    tmp = tmp_path_factory.mktemp("ui-browser")
    running = start_app(copy_workspace(memo_workspace.workspace, tmp / "ws"), tmp)
    yield running
    running.stop()


def test_review_cite_decide_chat_batch_in_chromium(app: RunningApp) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    hosts: set[str] = set()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.on("request", lambda request: hosts.add(urlparse(request.url).hostname or request.url))
        page.set_default_timeout(30_000)
        page.goto(app.url)

        # Case review: "Open case" with no id says what to do, and no panel turns red.
        first_cell = page.locator("#queue [role=gridcell]").first
        first_cell.wait_for()
        page.get_by_role("button", name="Open case").click()
        page.get_by_text("Type a merchant id").first.wait_for()
        assert page.get_by_text("Error", exact=True).count() == 0

        # A click on the riskiest applicant opens the case.
        merchant = first_cell.inner_text().strip()
        first_cell.click()
        page.locator("#case-pd").wait_for()
        assert merchant in page.locator("#case-head").inner_text()
        page.locator("#attribution img, #attribution canvas, #attribution svg").first.wait_for()
        page.screenshot(path=str(SHOTS / "1-case-review.png"), full_page=True)

        # The memo streams in; a citation opens and highlights its passage in the evidence panel.
        citation = page.locator("#memo a.cite").first
        citation.wait_for(timeout=120_000)
        page.locator("#memo", has_text="recorded in the audit trail").wait_for(timeout=120_000)
        tag = citation.get_attribute("data-tag")
        citation.click()
        passage = page.locator(f"#src-{tag}")
        sync_api.expect(passage).to_have_class("passage active")
        sync_api.expect(passage).to_be_visible()
        passage.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "2-citation-opened.png"), full_page=False)

        # Record a decision that follows the model's band (no override reason needed).
        band = page.locator("#case-head .band").inner_text().strip()
        page.locator("#decision-choice").get_by_label(band, exact=True).check()
        page.locator("#underwriter textarea, #underwriter input").first.fill("E2E Underwriter")
        page.locator("#conditions textarea").fill("monthly review")
        page.locator("#record-decision").click()
        page.locator("#decision-result", has_text="Recorded").wait_for()
        page.locator("#decision").screenshot(path=str(SHOTS / "3-decision.png"))

        # Chat about the case in view.
        page.locator("button[role=tab]:has-text('Chat')").click()
        page.locator("#question textarea").fill("/score")
        page.locator("#ask").click()
        page.locator("#chatbot", has_text="The model gives PD").wait_for()
        page.locator("#question textarea").fill("what does the bank statement say about the balance?")
        page.locator("#ask").click()
        page.locator("#chatbot", has_text="Passages: [C").wait_for(timeout=120_000)
        page.locator("#chatbot", has_text=re.compile("Citations|do not answer")).wait_for(timeout=120_000)
        page.screenshot(path=str(SHOTS / "4-chat.png"), full_page=True)

        # A small batch with a live progress bar and downloads.
        page.locator("button[role=tab]:has-text('Batch')").click()
        page.locator("#run-batch").wait_for()
        slider = page.locator("#batch-limit input[type=number]")
        slider.fill("2")
        slider.press("Enter")
        page.locator("#run-batch").click()
        page.locator("#batch-progress", has_text="Finished").wait_for(timeout=180_000)
        assert "2 of 2 memos done" in page.locator("#batch-progress").inner_text()
        with page.expect_download() as download:
            page.locator('#batch-downloads a[download="memos.zip"]').click()
        with zipfile.ZipFile(download.value.path()) as archive:
            assert len([n for n in archive.namelist() if n.endswith(".md")]) == 2
        page.screenshot(path=str(SHOTS / "5-batch.png"), full_page=True)

        # Evaluation runs side by side, and the portfolio's health.
        page.locator("button[role=tab]:has-text('Evaluation')").click()
        page.locator("#eval-run").wait_for()
        page.wait_for_timeout(3000)
        page.screenshot(path=str(SHOTS / "6-evaluation.png"), full_page=True)
        page.get_by_text("sections_complete").first.wait_for()
        page.screenshot(path=str(SHOTS / "6-evaluation.png"), full_page=True)
        page.locator("button[role=tab]:has-text('Portfolio')").click()
        page.locator("#portfolio-actions", has_text="Score drift").wait_for()
        page.screenshot(path=str(SHOTS / "7-portfolio.png"), full_page=True)
        browser.close()
    assert hosts == {"127.0.0.1"}, f"the page reached beyond this machine: {hosts}"
    assert app.outbound() == []


def test_a_first_run_serves_a_case_and_its_memo_while_the_index_builds(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """An empty workspace: the app serves once the model and scores exist; the background build is
    paused (SIGSTOP) so it is certainly still running while a case is opened, its memo written and a
    citation followed; resumed, the header says the index is ready and the case gains similar cases."""
    tmp = tmp_path_factory.mktemp("first-run")
    running = start_app(tmp / "ws", tmp)
    status = tmp / "ws" / "index" / "build.json"
    try:
        for _ in range(600):
            if status.is_file() and json.loads(status.read_text()).get("pid"):
                break
            time.sleep(0.05)
        pid = json.loads(status.read_text())["pid"]
        os.kill(pid, signal.SIGSTOP)
        try:
            with sync_api.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
                page = browser.new_page(viewport={"width": 1500, "height": 1100})
                page.set_default_timeout(30_000)
                page.goto(running.url)
                page.locator("#index-status", has_text="Building the document index").wait_for()
                first_cell = page.locator("#queue [role=gridcell]").first
                first_cell.wait_for()
                merchant = first_cell.inner_text().strip()
                first_cell.click()
                page.locator("#case-notes", has_text="still being built").wait_for()
                assert merchant in page.locator("#case-head").inner_text()
                page.locator("#similar", has_text="Not available yet").wait_for()
                page.locator("#memo", has_text="recorded in the audit trail").wait_for(timeout=120_000)
                citation = page.locator("#memo a.cite").first
                tag = citation.get_attribute("data-tag")
                citation.click()
                sync_api.expect(page.locator(f"#src-{tag}")).to_have_class("passage active")
                page.screenshot(path=str(SHOTS / "0-first-run-while-indexing.png"), full_page=True)
                assert json.loads(status.read_text())["state"] == "running"

                os.kill(pid, signal.SIGCONT)
                page.locator("#index-status", has_text="Document index ready").wait_for(timeout=300_000)
                page.locator("#open-case").click()
                page.locator("#similar", has_text=re.compile("performed|defaulted|not yet known")).wait_for()
                sync_api.expect(page.locator("#case-notes")).not_to_contain_text("still being built")
                browser.close()
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
    finally:
        running.stop()
    assert running.outbound() == []
