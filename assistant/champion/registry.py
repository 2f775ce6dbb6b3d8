"""Which model decides (the champion) and which score in shadow (the challengers); promotion and rollback.

Settings name the first champion (``[service] champion``, default the workspace's demo model) and the
challengers (``[service.challengers]``). A promotion is a row in the audit trail naming the model folder
that decides from then on, who promoted it, why, and the champion it replaced; a rollback is another row
that puts the replaced one back. The latest row wins, so every change is recorded and reversible.
The service, ``underwrite shadow`` and the book monitor all ask :func:`champion_path`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.audit import AuditStore
from assistant.settings import Settings
from assistant.workspace import Workspace
from models.errors import UnderwriterError
from models.store.artifacts import RiskModel, load_model


@dataclass(frozen=True)
class Promotion:
    action: str
    name: str
    model_path: str
    model_id: str
    previous_model_path: str
    previous_model_id: str
    by_user: str
    reason: str
    at: str


def promotions(audit: AuditStore) -> list[Promotion]:
    """Every promotion and rollback whose row verifies: a row appended without the audit key names no
    champion."""
    fields = [f for f in Promotion.__dataclass_fields__ if f != "at"]
    return [
        Promotion(**{f: r[f] or "" for f in fields}, at=str(r["created_at"]))
        for r in audit.verified_rows("promotions")[0]
    ]


def champion_path(settings: Settings, audit: AuditStore | None = None) -> str:
    """The model folder that decides now: the latest promotion or rollback, else the configured one."""
    if audit is not None:
        history = promotions(audit)
        if history:
            return history[-1].model_path
    return str(settings.service.champion or Workspace(settings).model_dir)


def challenger_paths(settings: Settings) -> dict[str, str]:
    return dict(settings.service.challengers)


def same_inputs(champion: RiskModel, other: RiskModel, name: str) -> None:
    """A clear error unless ``other`` takes the same fields as the champion (the API's schema)."""
    if champion.spec.features != other.spec.features:
        missing = sorted(set(champion.spec.features) ^ set(other.spec.features))
        raise UnderwriterError(
            f"{name} ({other.path}) does not take the champion's fields: they differ in {missing}"
        )


def load_for(path: str, what: str, threads: int) -> RiskModel:
    if not Path(path).exists():
        raise UnderwriterError(f"{what}: no model at {path}")
    return load_model(path, nthread=threads)


def promote(settings: Settings, audit: AuditStore, name: str, *, by: str, reason: str) -> Promotion:
    """Make challenger ``name`` the champion; verified (hashes, same inputs) before anything is recorded."""
    challengers = challenger_paths(settings)
    if name not in challengers:
        known = ", ".join(challengers) or "none configured ([service.challengers] in the settings)"
        raise UnderwriterError(f"no challenger named {name!r}; challengers: {known}")
    _require_text(by, reason)
    current_path = champion_path(settings, audit)
    current = load_for(current_path, "the champion", settings.threads)
    new = load_for(challengers[name], f"challenger {name}", settings.threads)
    same_inputs(current, new, f"challenger {name}")
    if new.model_id == current.model_id:
        raise UnderwriterError(f"challenger {name} is the champion already (model {new.model_id[:12]})")
    return _record(audit, "promote", name, (challengers[name], new), (current_path, current), by, reason)


def rollback(settings: Settings, audit: AuditStore, *, by: str, reason: str) -> Promotion:
    """Put back the champion the latest promotion replaced (a rollback of a rollback re-promotes)."""
    history = promotions(audit)
    if not history:
        raise UnderwriterError("nothing to roll back: no promotion has been recorded")
    _require_text(by, reason)
    last = history[-1]
    back = load_for(last.previous_model_path, "the previous champion", settings.threads)
    current = load_for(last.model_path, "the champion", settings.threads)
    return _record(
        audit,
        "rollback",
        f"before {last.name}",
        (last.previous_model_path, back),
        (last.model_path, current),
        by,
        reason,
    )


def _require_text(by: str, reason: str) -> None:
    if not by.strip():
        raise UnderwriterError("--by: say who makes this change")
    if not reason.strip():
        raise UnderwriterError("--reason: say why the champion changes (it is kept in the audit trail)")


def _record(
    audit: AuditStore,
    action: str,
    name: str,
    new: tuple[str, RiskModel],
    old: tuple[str, RiskModel],
    by: str,
    reason: str,
) -> Promotion:
    audit.append(
        "promotions",
        action=action,
        name=name,
        model_path=new[0],
        model_id=new[1].model_id,
        previous_model_path=old[0],
        previous_model_id=old[1].model_id,
        by_user=by.strip(),
        reason=reason.strip(),
    )
    return promotions(audit)[-1]
