"""The case page's tables: the work queue's columns, key metrics, similar past cases, decision history."""

from __future__ import annotations

from typing import Any

import pandas as pd

from assistant.ui.workbench import CaseView

QUEUE_COLUMNS = [
    "merchant",
    "name",
    "PD",
    "grade",
    "band",
    "requested",
    "flags",
    "industry",
    "country",
    "reasons",
]


def metrics_table(view: CaseView) -> pd.DataFrame:
    return pd.DataFrame(
        [{"metric": f.name, "value": f.text()} for f in view.case.facts] or [{"metric": "—", "value": ""}]
    ).astype(str)


def similar_table(view: CaseView) -> pd.DataFrame:
    outcome = {None: "not yet known", 1: "defaulted", 0: "performed"}
    rows = [
        {
            "tag": s.tag,
            "case": s.case_id,
            "decided": s.decided_at,
            "outcome": outcome[s.outcome],
            "PD": "—" if s.pd is None else f"{s.pd:.2%}",
            "grade": s.grade or "—",
            "similarity": f"{s.similarity:.3f}",
            "matches on": ", ".join(s.closest),
        }
        for s in view.case.similar
    ]
    return pd.DataFrame(
        rows
        or [
            {
                "tag": "",
                "case": view.similar_note or "no similar-case library",
                "decided": "",
                "outcome": "",
                "PD": "",
                "grade": "",
                "similarity": "",
                "matches on": "",
            }
        ]
    )


def decision_history(history: list[tuple[str, Any]]) -> pd.DataFrame:
    rows = [
        {
            "recorded": at,
            "decision": d.decision + (" (override)" if d.is_override else ""),
            "underwriter": d.underwriter,
            "conditions": "; ".join(d.conditions),
            "note": d.note,
            "override reason": d.override_reason,
            "memo": d.memo_id,
        }
        for at, d in history
    ]
    columns = ["recorded", "decision", "underwriter", "conditions", "note", "override reason", "memo"]
    return pd.DataFrame(rows, columns=columns)
