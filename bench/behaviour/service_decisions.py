"""The decision service's answers for a fixed set of requests, for a renovation's "the service answers the
same decisions" check: run it with the old and the new code on PYTHONPATH over the same workspace (the one
``bench/behaviour/steps.sh`` built), then compare the two JSON files.

Run: ``PYTHONPATH=CHECKOUT python bench/behaviour/service_decisions.py WORKSPACE OUT.json``
The requests: the first 40 merchants of the demo portfolio as they are, and each with its first numeric
feature doubled and with a field missing (a refused request); request ids and timestamps are left out.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi.testclient import TestClient

from assistant.service.app import create_app
from assistant.service.keys import add_key
from assistant.settings import load_settings
from assistant.workspace import Workspace

VOLATILE = {"request_id", "decided_at", "created", "seconds", "latency_ms"}


def _bodies(workspace: Workspace, features: list[str], numeric: list[str]) -> list[dict[str, Any]]:
    frame = pd.read_csv(workspace.portfolio.merchants, dtype={"mcc": str}).head(40)
    bodies = []
    for _, row in frame.iterrows():
        body = {f: (row[f].item() if hasattr(row[f], "item") else row[f]) for f in features}
        bodies.append({**body, "case_id": str(row["merchant_id"])})
        bodies.append(
            {**body, numeric[0]: float(body[numeric[0]]) * 2, "case_id": f"{row['merchant_id']}-x2"}
        )
    bodies.append({k: v for k, v in bodies[0].items() if k != features[0]})
    return bodies


def _stable(answer: Any) -> Any:
    if isinstance(answer, dict):
        return {k: _stable(v) for k, v in sorted(answer.items()) if k not in VOLATILE}
    if isinstance(answer, list):
        return [_stable(v) for v in answer]
    return answer


def main(workspace_dir: Path, out: Path) -> None:
    settings = load_settings(None, workspace=workspace_dir)
    workspace = Workspace(settings)
    with workspace.open_audit() as audit:
        secret = add_key(audit, f"behaviour-{uuid.uuid4().hex[:6]}", "score")[1]
    app = create_app(settings)
    spec = app.state.service.registry.champion.model.spec  # type: ignore[attr-defined]
    answers = []
    with TestClient(app) as client:
        for body in _bodies(workspace, list(spec.features), list(spec.numeric)):
            got = client.post("/v1/decisions", json=body, headers={"X-API-Key": secret})
            answers.append({"status": got.status_code, "answer": _stable(got.json())})
    out.write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n")
    print(f"{len(answers)} requests -> {out}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python bench/behaviour/service_decisions.py WORKSPACE OUT.json")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
