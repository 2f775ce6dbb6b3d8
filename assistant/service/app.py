"""The decision service: FastAPI routes over the same services the CLI and the workbench call.

``POST /v1/decisions``   a case's fields -> PD, grade, band, policy flags, reasons, model id (scope ``score``)
``POST /v1/memos``       start a memo job for a portfolio case (scope ``memo``)
``GET  /v1/memos/{id}``  the job's status, then the memo (scope ``memo``)
``GET  /v1/cases/{id}/similar``  similar past cases with their outcomes (scope ``score``)
``POST /v1/admin/reload``        swap in the champion the settings and promotions name (scope ``admin``)
``GET  /healthz``, ``GET /readyz``, ``/docs`` (OpenAPI)

Every error is JSON ``{"error": ..., "problems": [{"field", "problem"}]}`` with a 4xx status; the decision
request's schema is built from the champion's dataset spec (:mod:`assistant.service.schemas`).
"""

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.audit import AuditStore
from assistant.backends import open_llm
from assistant.champion.shadow_queue import ShadowJob, ShadowScorer
from assistant.service.keys import ApiKey, KeyRing
from assistant.service.limits import BodyLimit, DuplicateKeys, RateLimiter
from assistant.service.memo_jobs import MemoJobs
from assistant.service.registry import ModelRegistry
from assistant.service.requests import IDEMPOTENCY_KEY_RE, RequestLog, new_request_id
from assistant.service.schemas import (
    DecisionResponse,
    ErrorBody,
    MemoJob,
    MemoRequest,
    decision_request_model,
)
from assistant.service.scoring import case_id_of, request_row, request_sha256, score_request
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.backends.llm import LLM
from models.errors import UnderwriterError

LOG = logging.getLogger("underwriter.service")
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 409, 413, 422, 429, 503)
}


class ServiceState:
    """Everything one running service holds: the audit trail (one connection, one lock), keys, models."""

    def __init__(self, settings: Settings, llm_factory: "Callable[[], LLM] | None" = None):
        self.settings = settings
        self.audit: AuditStore = Workspace(settings).open_audit()
        self.audit_lock = threading.Lock()
        self.keys = KeyRing(self.audit, self.audit_lock)
        self.limiter = RateLimiter()
        self.log = RequestLog(self.audit, self.audit_lock)
        self.registry = ModelRegistry(settings, self.audit, self.audit_lock)
        self.shadow = ShadowScorer(self.audit, self.audit_lock, settings.service.shadow_queue)
        self.memos = MemoJobs(settings, llm_factory or (lambda: open_llm(settings, threads=1)))
        self.workers = ThreadPoolExecutor(settings.service.workers, thread_name_prefix="decide")
        self.auth_lock = threading.Lock()
        self.auth_failures = 0
        """Requests refused for a missing, unknown or revoked key since the service started (``/readyz``)."""

    def refused_auth(self, request: Request, why: str) -> None:
        """Count and log a failed authentication: where from, on which route and why, never the secret."""
        with self.auth_lock:
            self.auth_failures += 1
        client = request.client.host if request.client else "?"
        LOG.warning(
            "refused authentication (%s) from %s on %s %s", why, client, request.method, request.url.path
        )

    def close(self) -> None:
        self.registry.stop()
        self.shadow.stop()
        self.memos.shutdown()
        self.workers.shutdown(wait=False, cancel_futures=True)
        with self.audit_lock:
            self.audit.close()


def problem_list(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for error in exc.errors():
        where = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header")]
        message = error.get("msg", "invalid")
        if error.get("type") == "extra_forbidden":
            message = "not a field of this model's spec (misspelt?)"
        out.append({"field": ".".join(where) or "body", "problem": message})
    return out


def error(
    status: int,
    message: str,
    problems: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse({"error": message, "problems": problems or []}, status_code=status, headers=headers)


def create_app(settings: Settings, *, llm_factory: Callable[[], LLM] | None = None) -> FastAPI:
    """The service over a workspace: its champion must exist (``underwrite demo`` or ``model train``)."""
    state = ServiceState(settings, llm_factory)
    spec = state.registry.champion.model.spec
    app = FastAPI(
        title="Underwriter decision service",
        version="1",
        description=f"Online credit decisions with reasons for the `{spec.name}` dataset spec.",
        on_shutdown=[state.close],
    )
    app.state.service = state
    app.add_middleware(DuplicateKeys)  # inside the size limit: only a body within it is parsed
    app.add_middleware(BodyLimit, max_bytes=int(settings.service.max_request_kb * 1024))
    _error_handlers(app)
    caller = _auth(state)
    _decision_route(app, state, caller, decision_request_model(spec))
    _memo_routes(app, state, caller)
    _other_routes(app, state, caller)
    state.registry.start_watching()
    return app


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = problem_list(exc)
        return error(422, f"invalid request: {len(problems)} problem(s)", problems)

    @app.exception_handler(StarletteHTTPException)  # the routing's own 404 and 405 too: one error shape
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))

    @app.exception_handler(UnderwriterError)
    async def refused(request: Request, exc: UnderwriterError) -> JSONResponse:
        return error(422, str(exc))


def _auth(state: ServiceState) -> Callable[[str], Any]:
    """A dependency per scope: the caller's key, checked for the scope and its rate."""

    def needs(scope: str) -> Any:
        async def check(
            request: Request,
            authorization: Annotated[str | None, Header()] = None,
            x_api_key: Annotated[str | None, Header()] = None,
        ) -> ApiKey:
            secret = x_api_key or (authorization or "").removeprefix("Bearer ").strip()
            if not secret:
                state.refused_auth(request, "no key")
                raise HTTPException(401, "an API key is required (X-API-Key or Authorization: Bearer)")
            key = state.keys.lookup(secret)
            if key is None:
                state.refused_auth(request, "unknown or revoked key")
                raise HTTPException(401, "unknown or revoked API key")
            if scope not in key.scopes:
                raise HTTPException(403, f"key {key.name!r} lacks the {scope!r} scope")
            wait = state.limiter.take(key.name, key.rate_per_minute or state.settings.service.rate_per_minute)
            if wait > 0:
                raise HTTPException(
                    429, f"rate limit of key {key.name!r} reached", {"Retry-After": f"{wait:.0f}"}
                )
            return key

        return Depends(check)

    return needs


def _idempotency(value: str | None) -> str | None:
    if value is not None and not IDEMPOTENCY_KEY_RE.match(value):
        raise HTTPException(422, "Idempotency-Key: 1-128 visible ASCII characters")
    return value


def _replayed(state: ServiceState, key: ApiKey, idem: str | None, digest: str) -> JSONResponse | None:
    found = state.log.find(key.name, idem)
    if found is None:
        return None
    if found.request_sha256 != digest:
        raise HTTPException(422, f"Idempotency-Key {idem!r} was used for a different request")
    return JSONResponse(found.response, headers={"Idempotent-Replayed": "true"})


def _decision_route(app: FastAPI, state: ServiceState, caller: Callable[[str], Any], model: type) -> None:
    @app.post("/v1/decisions", response_model=DecisionResponse, responses=ERRORS, tags=["decisions"])
    async def post_decision(
        body: Annotated[model, Body()],  # type: ignore[valid-type]
        key: Annotated[ApiKey, caller("score")],
        recourse: Annotated[bool, Query(description="search the recourse of a refer or decline")] = False,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> Any:
        fields = body.model_dump()  # type: ignore[attr-defined]
        idem = _idempotency(idempotency_key)
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(
            state.workers, functools.partial(answer_decision, state, key, fields, recourse, idem)
        )
        return answer if isinstance(answer, JSONResponse) else JSONResponse(answer)


def answer_decision(
    state: ServiceState, key: ApiKey, fields: dict[str, Any], recourse: bool, idem: str | None
) -> dict[str, Any] | JSONResponse:
    """Score, record and hand to the shadow: on one of the service's few worker threads (as many as cores:
    more threads only queue for the interpreter lock, and latency suffers)."""
    scored: dict[str, Any] = {}

    def produce() -> dict[str, Any]:
        served = state.registry.champion  # this request's model, whatever is swapped in meanwhile
        scored["row"] = row = request_row(served.model, fields)
        return score_request(
            served.model, row, case_id_of(fields, served.model.spec.features), recourse=recourse
        )

    answer = answered_once(state, key, idem, "decisions", {**fields, "recourse": recourse}, produce)
    if isinstance(answer, dict):
        state.registry.remember(scored["row"])
        state.shadow.submit(
            ShadowJob(
                answer["request_id"], answer["case_id"], scored["row"], answer, state.registry.challengers
            )
        )
    return answer


def answered_once(
    state: ServiceState,
    key: ApiKey,
    idem: str | None,
    endpoint: str,
    body: dict[str, Any],
    produce: Callable[[], dict[str, Any]],
) -> dict[str, Any] | JSONResponse:
    """The recorded answer to a retried request (same idempotency key), else ``produce()``'s, given a request
    id and recorded in the audit trail before it is returned."""
    digest = request_sha256(endpoint, body)
    with state.log.guarded(key.name, idem):
        replay = _replayed(state, key, idem, digest)
        if replay is not None:
            return replay
        answer = {"request_id": new_request_id(), **produce()}
        state.log.record(
            key_name=key.name, endpoint=endpoint, idempotency_key=idem, request_sha256=digest, response=answer
        )
    return answer


def _memo_routes(app: FastAPI, state: ServiceState, caller: Callable[[str], Any]) -> None:
    @app.post("/v1/memos", response_model=MemoJob, status_code=202, responses=ERRORS, tags=["memos"])
    def post_memo(
        body: MemoRequest,
        key: Annotated[ApiKey, caller("memo")],
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> Any:
        def produce() -> dict[str, Any]:
            try:
                return state.memos.start(body.case_id)
            except UnderwriterError as exc:
                raise HTTPException(404, str(exc)) from None

        answer = answered_once(state, key, _idempotency(idempotency_key), "memos", body.model_dump(), produce)
        return answer if isinstance(answer, JSONResponse) else JSONResponse(answer, status_code=202)

    @app.get("/v1/memos/{job_id}", response_model=MemoJob, responses=ERRORS, tags=["memos"])
    def get_memo(job_id: str, key: Annotated[ApiKey, caller("memo")]) -> Any:
        with state.audit_lock:
            found = state.memos.get(job_id, state.audit)
        if found is None:
            raise HTTPException(404, f"no memo job or memo {job_id!r}")
        return found


def _other_routes(app: FastAPI, state: ServiceState, caller: Callable[[str], Any]) -> None:
    @app.get("/v1/cases/{case_id}/similar", responses=ERRORS, tags=["cases"])
    def similar(case_id: str, key: Annotated[ApiKey, caller("score")]) -> Any:
        try:
            report = state.memos.cases.similar(case_id)
        except UnderwriterError as exc:
            raise HTTPException(404, str(exc)) from None
        if report is None:
            raise HTTPException(503, "no similar-case library yet: build it with `underwrite index build`")
        return {"case_id": case_id, "library": report.library, "similar": [h.to_dict() for h in report.hits]}

    @app.post("/v1/admin/reload", responses=ERRORS, tags=["admin"])
    def reload(key: Annotated[ApiKey, caller("admin")]) -> Any:
        try:
            served = state.registry.swap()
        except UnderwriterError as exc:
            raise HTTPException(409, f"not swapped, the old model keeps deciding: {exc}") from None
        return {"model_id": served.model.model_id, "model_version": served.model.label, "path": served.path}

    @app.get("/healthz", tags=["health"])
    def healthz() -> Any:
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"model": ErrorBody}}, tags=["health"])
    def readyz() -> Any:
        champion = state.registry.champion.model
        try:
            with state.audit_lock:
                state.audit.count("api_keys")
        except Exception as exc:  # the trail must be writable, or no decision can be recorded
            return error(503, f"the audit trail cannot be read: {exc}")
        return {
            "status": "ready",
            "model_id": champion.model_id,
            "model_version": champion.label,
            "challengers": {n: m.model_id for n, m in state.registry.challengers.items()},
            "shadow": {
                "queued": state.shadow.jobs.qsize(),
                "scored": state.shadow.scored,
                "dropped": state.shadow.dropped,
            },
            "swaps": state.registry.swaps,
            "refused_authentications": state.auth_failures,
        }
