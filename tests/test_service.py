"""The decision service through a real HTTP client against the running server (uvicorn on 127.0.0.1):
schema errors, auth, scopes, rate limits, size limits, idempotency, hot swap under load, shadow scoring,
memo jobs and similar cases."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pytest

from assistant.audit import AuditStore
from assistant.cli.main import main
from assistant.jobs.modeling import train_model
from assistant.service.app import create_app
from assistant.service.keys import add_key, revoke_key
from assistant.service.server import running_server
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.scoring.explanation import explain_row
from models.store.artifacts import load_model
from tests.fakes import ScriptedChat, fake_llm

pytestmark = pytest.mark.slow


@dataclass
class Service:
    url: str
    settings: Settings
    app: object
    keys: dict[str, str]
    fields: list[dict]
    """Real merchants of the portfolio, as request bodies."""
    case_ids: list[str]
    config: Path
    """A settings file naming the same champion and challenger, for the CLI."""


def _body(row: pd.Series, features: list[str]) -> dict:
    return {f: (row[f].item() if hasattr(row[f], "item") else row[f]) for f in features}


@pytest.fixture(scope="module")
def service(memo_workspace: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("service")
    workspace = Workspace(memo_workspace)
    champion, challenger = root / "champion", root / "scorecard"
    for out, kind in ((champion, "xgboost"), (challenger, "scorecard")):
        train_model(
            memo_workspace,
            spec="merchant_portfolio",
            data=workspace.portfolio.merchants,
            out=out,
            model=kind,
            progress=False,
        )
    settings = memo_workspace.model_copy(
        update={
            "service": memo_workspace.service.model_copy(
                update={"champion": str(champion), "challengers": {"scorecard": str(challenger)}}
            )
        }
    )
    tag = uuid.uuid4().hex[:6]
    with workspace.open_audit() as audit:
        keys = {
            role: add_key(audit, f"{role}-{tag}", scopes, rate)[1]
            for role, scopes, rate in (
                ("scorer", "score", None),
                ("writer", "score,memo", None),
                ("admin", "admin,score", None),
                ("slow", "score", 3),
                ("leaver", "score", None),
            )
        }
    app = create_app(settings, llm_factory=lambda: fake_llm(ScriptedChat(reply="Nothing to add."), "svc"))
    frame = pd.read_csv(workspace.portfolio.merchants, dtype={"mcc": str})
    spec = load_model(champion).spec
    fields = [_body(r, spec.features) for _, r in frame.head(40).iterrows()]
    config = root / "underwriter.toml"
    config.write_text(
        f'workspace = "{settings.workspace}"\n[service]\nchampion = "{champion}"\n'
        f'[service.challengers]\nscorecard = "{challenger}"\n'
    )
    with running_server(app) as url:  # type: ignore[arg-type]
        yield Service(url, settings, app, keys, fields, frame["merchant_id"].head(40).tolist(), config)


def _client(service: Service, role: str = "scorer") -> httpx.Client:
    return httpx.Client(base_url=service.url, headers={"X-API-Key": service.keys[role]}, timeout=30)


def _api_rows(settings: Settings) -> list[dict]:
    with Workspace(settings).open_audit() as audit:
        return audit.rows("api_requests")


def test_a_decision_is_the_models_score_with_reasons_and_is_recorded(service: Service) -> None:
    body = service.fields[0]
    with _client(service) as client:
        got = client.post("/v1/decisions", json={**body, "case_id": "CALLER-1"})
    assert got.status_code == 200, got.text
    answer = got.json()
    model = load_model(service.settings.service.champion or "")
    expected = explain_row(model, pd.DataFrame([body]), 1, with_recourse=False)
    assert answer["pd"] == pytest.approx(expected.pd) and answer["band"] == expected.band
    assert answer["model_id"] == model.model_id and answer["case_id"] == "CALLER-1"
    assert [r["code"] for r in answer["reasons"]] == [r.code for r in expected.reasons]
    [row] = [r for r in _api_rows(service.settings) if r["request_id"] == answer["request_id"]]
    assert row["key_name"].startswith("scorer-") and len(row["request_sha256"]) == 64
    assert json.loads(row["response"])["pd"] == answer["pd"]


def test_bad_input_is_a_4xx_listing_every_problem_never_a_500(service: Service) -> None:
    body = dict(service.fields[1])
    body.pop("refund_rate")
    body |= {"dispute_rate": "high", "tenure_mnths": 12, "country": "", "monthly_volume": None}
    with _client(service) as client:
        got = client.post("/v1/decisions", json=body)
        assert got.status_code == 422
        fields = {p["field"] for p in got.json()["problems"]}
        assert fields == {"refund_rate", "dispute_rate", "tenure_mnths", "country", "monthly_volume"}
        broken = client.post(
            "/v1/decisions", content=b'{"refund_rate": 0.1,', headers={"content-type": "application/json"}
        )
        assert broken.status_code == 422 and broken.json()["problems"]
        infinite = client.post(
            "/v1/decisions",
            content=json.dumps({**service.fields[1], "refund_rate": float("inf")}),
            headers={"content-type": "application/json"},
        )
        assert infinite.status_code == 422 and infinite.json()["problems"][0]["field"] == "refund_rate"
        assert client.post("/v1/decisions", json=[1, 2]).status_code == 422
        assert (
            client.post("/v1/decisions", json={**service.fields[1], "case_id": "x" * 300}).status_code == 422
        )


def test_duplicate_keys_are_refused_and_every_error_has_one_shape(service: Service) -> None:
    """A body giving a field twice would be scored on one value and hashed with both: it is refused, naming
    the field; the routing's own errors (unknown path, wrong method) come in the same shape as the rest."""
    body = json.dumps(service.fields[2])[:-1] + ', "refund_rate": 0.0, "case_id": "A", "case_id": "B"}'
    with _client(service) as client:
        twice = client.post("/v1/decisions", content=body, headers={"content-type": "application/json"})
        assert twice.status_code == 422, twice.text
        assert [p["field"] for p in twice.json()["problems"]] == ["refund_rate", "case_id"]
        assert [r for r in _api_rows(service.settings) if r["case_id"] in ("A", "B")] == []
        for got in (client.get("/v1/nowhere"), client.get("/v1/decisions"), client.post("/healthz")):
            assert got.status_code in (404, 405) and set(got.json()) == {"error", "problems"}, got.text


def test_failed_authentication_is_counted_and_logged_without_the_secret(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    with _client(service) as client:
        before = client.get("/readyz").json()["refused_authentications"]
    wrong = "uwk_a-guess-that-must-not-reach-the-log"
    with caplog.at_level("WARNING", logger="underwriter.service"):
        for headers in ({"X-API-Key": wrong}, {"Authorization": f"Bearer {wrong}"}, {}):
            with httpx.Client(base_url=service.url, headers=headers, timeout=30) as anonymous:
                assert anonymous.post("/v1/decisions", json=service.fields[0]).status_code == 401
    with _client(service) as client:
        assert client.get("/readyz").json()["refused_authentications"] == before + 3
    refused = [r.getMessage() for r in caplog.records if "refused authentication" in r.getMessage()]
    assert len(refused) == 3 and "/v1/decisions" in refused[0] and "127.0.0.1" in refused[0]
    assert not any(wrong in line or "a-guess" in line for line in caplog.text.splitlines())


def test_keys_scopes_and_revocation(service: Service) -> None:
    body = service.fields[2]
    with httpx.Client(base_url=service.url, timeout=30) as anonymous:
        assert anonymous.post("/v1/decisions", json=body).status_code == 401
        wrong = anonymous.post("/v1/decisions", json=body, headers={"X-API-Key": "uwk_not-a-key"})
        assert wrong.status_code == 401 and "unknown" in wrong.json()["error"]
        bearer = anonymous.post(
            "/v1/decisions", json=body, headers={"Authorization": f"Bearer {service.keys['scorer']}"}
        )
        assert bearer.status_code == 200
    with _client(service) as scorer:
        assert scorer.post("/v1/memos", json={"case_id": "M000001"}).status_code == 403
        assert scorer.post("/v1/admin/reload").status_code == 403
    with _client(service, "leaver") as leaver:
        assert leaver.post("/v1/decisions", json=body).status_code == 200
        with Workspace(service.settings).open_audit() as audit:
            name = next(k for k in _key_names(audit) if k.startswith("leaver-"))
            revoke_key(audit, name)
        time.sleep(2.2)
        assert leaver.post("/v1/decisions", json=body).status_code == 401


def _key_names(audit: AuditStore) -> list[str]:
    return [r["name"] for r in audit.rows("api_keys") if r["action"] == "add"]


def test_a_keys_rate_limit_answers_429_with_retry_after(service: Service) -> None:
    with _client(service, "slow") as slow:
        codes = [slow.post("/v1/decisions", json=service.fields[3]).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        limited = slow.post("/v1/decisions", json=service.fields[3])
        assert int(limited.headers["retry-after"]) >= 1
    with _client(service) as other:  # one key's limit is not another's
        assert other.post("/v1/decisions", json=service.fields[3]).status_code == 200


def test_a_body_over_the_size_limit_is_refused_unread(service: Service) -> None:
    limit = int(service.settings.service.max_request_kb * 1024)
    huge = {**service.fields[4], "name": "x" * (limit + 10)}
    with _client(service) as client:
        declared = client.post("/v1/decisions", json=huge)
        assert declared.status_code == 413 and f"{limit:,}" in declared.json()["error"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: the body streams in chunks
            yield b'{"name": "'
            for _ in range(limit // 1000 + 2):
                yield b"y" * 1000
            yield b'"}'

        streamed = client.post(
            "/v1/decisions", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413


def test_a_retried_request_is_answered_once(service: Service) -> None:
    body = service.fields[5]
    idem = f"retry-{uuid.uuid4().hex}"
    before = len(_api_rows(service.settings))
    with _client(service) as client:
        first = client.post("/v1/decisions", json=body, headers={"Idempotency-Key": idem})
        again = client.post("/v1/decisions", json=body, headers={"Idempotency-Key": idem})
        assert first.status_code == again.status_code == 200
        assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
        other = client.post("/v1/decisions", json=service.fields[6], headers={"Idempotency-Key": idem})
        assert other.status_code == 422 and "different request" in other.json()["error"]
        racing = f"race-{uuid.uuid4().hex}"
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(
                    lambda _: client.post("/v1/decisions", json=body, headers={"Idempotency-Key": racing}),
                    range(8),
                )
            )
    assert {a.json()["request_id"] for a in answers} == {answers[0].json()["request_id"]}
    assert len(_api_rows(service.settings)) == before + 2  # the first key once, the racing key once


def test_hot_swap_under_load_fails_no_request(service: Service) -> None:
    champion = Path(service.settings.service.champion or "")
    old = load_model(champion).model_id
    stop = threading.Event()
    seen: list[tuple[int, str]] = []

    def fire() -> None:
        with _client(service) as client:
            i = 0
            while not stop.is_set():
                got = client.post("/v1/decisions", json=service.fields[i % len(service.fields)])
                seen.append((got.status_code, got.json()["model_id"] if got.status_code == 200 else got.text))
                i += 1

    threads = [threading.Thread(target=fire) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    fewer = service.config.parent / "fewer.csv"  # a retrain on other data: surely another model
    pd.read_csv(Workspace(service.settings).portfolio.merchants).iloc[20:].to_csv(fewer, index=False)
    train_model(
        service.settings, spec="merchant_portfolio", data=fewer, out=champion, model="xgboost", progress=False
    )
    new = load_model(champion).model_id
    with _client(service, "admin") as admin:
        swapped = admin.post("/v1/admin/reload")
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert swapped.status_code == 200 and swapped.json()["model_id"] == new != old
    assert seen and all(code == 200 for code, _ in seen), {code for code, _ in seen}
    ids = [m for _, m in seen]
    assert ids[0] == old and ids[-1] == new and set(ids) == {old, new}


def test_a_tampered_version_is_refused_and_the_old_one_keeps_deciding(service: Service) -> None:
    champion = Path(service.settings.service.champion or "")
    serving = load_model(champion).model_id
    version = champion / "versions" / (champion / "CURRENT").read_text().strip()
    booster = version / "booster.ubj"
    original = booster.read_bytes()
    try:
        booster.write_bytes(original[:-8] + b"tampered")
        with _client(service, "admin") as admin:
            refused = admin.post("/v1/admin/reload")
        assert refused.status_code == 409 and "old model keeps deciding" in refused.json()["error"]
        with _client(service) as client:
            assert client.post("/v1/decisions", json=service.fields[0]).json()["model_id"] == serving
    finally:
        booster.write_bytes(original)


def test_challengers_score_in_shadow_beside_the_champion(service: Service) -> None:
    with _client(service) as client:
        ids = [
            client.post("/v1/decisions", json={**f, "case_id": case}).json()["request_id"]
            for f, case in zip(service.fields, service.case_ids, strict=True)
        ]
    state = service.app.state.service  # type: ignore[attr-defined]
    state.shadow.drain()
    assert state.shadow.dropped == 0 and set(state.registry.challengers) == {"scorecard"}
    with Workspace(service.settings).open_audit() as audit:
        rows = [r for r in audit.rows("shadow_scores") if r["request_id"] in ids]
        decided = {r["request_id"]: r for r in audit.rows("api_requests") if r["request_id"] in ids}
    assert {r["request_id"] for r in rows} == set(ids) and {r["challenger"] for r in rows} == {"scorecard"}
    for r in rows:
        assert r["champion_pd"] == pytest.approx(decided[r["request_id"]]["pd"])
        assert r["model_id"] != r["champion_model_id"] and 0 <= r["pd"] <= 1


def test_memo_jobs_run_in_the_background_and_are_recorded(service: Service) -> None:
    case_id = service.app.state.service.memos.cases.ids()[0]  # type: ignore[attr-defined]
    with _client(service, "writer") as client:
        started = client.post(
            "/v1/memos", json={"case_id": case_id}, headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        assert started.status_code == 202, started.text
        job = started.json()["job_id"]
        deadline = time.monotonic() + 180
        while (status := client.get(f"/v1/memos/{job}").json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.5)
        assert status["status"] == "done", status
        assert status["memo"]["case_id"] == case_id and status["markdown"].startswith("#")
        by_memo = client.get(f"/v1/memos/{status['memo_id']}")
        assert by_memo.status_code == 200 and by_memo.json()["memo_id"] == status["memo_id"]
        assert client.post("/v1/memos", json={"case_id": "NOPE-1"}).status_code == 404
        assert client.get("/v1/memos/job-unknown").status_code == 404


def test_similar_cases_health_and_a_typed_openapi(service: Service) -> None:
    with _client(service) as client:
        case_id = service.app.state.service.memos.cases.ids()[0]  # type: ignore[attr-defined]
        similar = client.get(f"/v1/cases/{case_id}/similar")
        assert similar.status_code == 200 and similar.json()["similar"]
        assert {"case_id", "outcome", "similarity"} <= set(similar.json()["similar"][0])
        assert client.get("/v1/cases/NOPE-1/similar").status_code == 404
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready" and set(ready["challengers"]) == {"scorecard"}
        schema = client.get("/openapi.json").json()["components"]["schemas"]
        request = schema["MerchantPortfolioDecisionRequest"]
        assert {"dispute_rate", "mcc", "requested_amount"} <= set(request["required"])
        assert request["properties"]["dispute_rate"]["type"] == "number"
        assert request["additionalProperties"] is False


def test_shadow_report_compares_on_known_outcomes(
    service: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    merchants = Workspace(service.settings).portfolio.merchants
    code = main(
        [
            "--config",
            str(service.config),
            "shadow",
            "report",
            "--outcomes",
            str(merchants),
            "--id-column",
            "merchant_id",
            "--outcome-column",
            "default_12m",
            "--plot",
            str(service.config.parent / "shadow.png"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "challenger scorecard:" in out and "band agreement" in out
    assert (
        "known outcomes" in out
        and "Brier" in out
        and (service.config.parent / "shadow.png").stat().st_size > 0
    )
    assert main(["--config", str(service.config), "shadow", "report", "--outcomes", str(service.config)]) == 2
    assert "no column(s)" in capsys.readouterr().err


def test_a_promotion_is_recorded_served_and_reversible(
    service: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = ["--config", str(service.config), "shadow"]
    assert main([*cli, "promote", "nobody", "--by", "kim", "--reason", "x"]) == 2
    assert "no challenger named 'nobody'" in capsys.readouterr().err
    assert main([*cli, "promote", "scorecard", "--by", "kim", "--reason", " "]) == 2
    old = load_model(service.settings.service.champion or "").model_id
    new = load_model(service.settings.service.challengers["scorecard"]).model_id
    try:
        assert main([*cli, "promote", "scorecard", "--by", "kim", "--reason", "better AUC in shadow"]) == 0
        assert _serving_within(service, new, 15)
        assert main([*cli, "rollback", "--by", "kim", "--reason", "complaints"]) == 0
        assert _serving_within(service, old, 15)
    finally:
        with Workspace(service.settings).open_audit() as audit:
            history = audit.rows("promotions")
    assert [r["action"] for r in history[-2:]] == ["promote", "rollback"]
    assert history[-1]["by_user"] == "kim" and history[-1]["model_id"] == old


def _serving_within(service: Service, model_id: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    with _client(service) as client:
        while time.monotonic() < deadline:
            if client.post("/v1/decisions", json=service.fields[0]).json()["model_id"] == model_id:
                return True
            time.sleep(0.5)
    return False
