"""The memo's explanation sections as Markdown: risk rating with reasons, risk factors with mitigants,
and recourse. Pure functions of the memo, so replay reproduces the bytes."""

from __future__ import annotations

from typing import Any

from assistant.case.facts import pd_text
from assistant.memo.schema import Memo
from models.scoring.explanation import stated_reason


def reason_text(reason: dict[str, str]) -> str:
    """``High dispute (chargeback) rate: 1.43%, higher than 97% of past applicants``."""
    return stated_reason(reason["text"], reason.get("standing"))


def reason_line(reason: dict[str, str]) -> str:
    return f"- `{reason['code']}` {reason_text(reason)}"


def risk_rating_lines(memo: Memo) -> list[str]:
    """PD, grade, band, the policy flags with their texts and the principal reasons with their values."""
    d = memo.decision
    flag_texts = {f.split(":", 1)[0]: f for f in d.get("policy_flag_texts", [])}
    flags = [flag_texts.get(f, f) for f in d["policy_flags"]]
    return [
        "## Risk rating",
        "",
        f"**Band: {d['band'].upper()}** · grade {d['grade']} · probability of default {pd_text(d['pd'])}",
        "",
        "Policy flags: " + ("; ".join(flags) or "none"),
        "",
        "Principal reasons (largest first, from the model's own attributions):",
        "",
        *([reason_line(r) for r in memo.reasons] or ["- none: no input raised this case's risk"]),
        "",
    ]


def risk_factor_lines(memo: Memo, signal_table: list[str]) -> list[str]:
    """Every risk (reasons, policy flags, contradictions, document signals), the signals' quotes, and the
    mitigants: features that lower this case's risk materially, each with its value and standing."""
    lines = ["## Risk factors and mitigants", "", *[f"- Risk: {r}" for r in memo.risks]]
    lines += [f"- Mitigant: {m}" for m in memo.mitigants]
    if not memo.mitigants:
        lines.append("- Mitigant: none: no input lowers this case's risk by a material amount")
    return [*lines, "", "Risk signals found in the documents:", "", *signal_table]


def recourse_lines(recourse: dict[str, Any], band: str) -> list[str]:
    lines = ["## Recourse", ""]
    if band == "approve":
        return [*lines, "None needed: the case is in the best band.", ""]
    if not recourse:
        return [*lines, "Not searched: no risk model scores this case.", ""]
    searched = "; ".join(recourse.get("searched_names") or recourse["searched"]) or "none"
    if not recourse["feasible"]:
        return [
            *lines,
            f"No change in what the applicant can change ({searched}), alone or in pairs, within the range past "
            f"applicants had, moves the band to {recourse['target']}.",
            "",
        ]
    head = f"Smallest changes that move the band to {recourse['target']}, each checked by re-scoring:"
    return [*lines, head, "", *[f"- {o['text']}." for o in recourse["options"]], ""]
