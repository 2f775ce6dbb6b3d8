"""The ``evidence`` scorer: are the signals the generator planted found, and the statement figures it wrote
spread exactly? Scored from the memo's evidence against the case set's truth (never by re-running a detector).

Registered on import (the runner imports this module)."""

from __future__ import annotations

from assistant.eval.case_sets import EvalCase
from assistant.eval.evidence_truth import found_types, spread_matches
from assistant.eval.scorers import Metric, scorer
from assistant.memo.calls import BookedCall
from assistant.memo.schema import Memo


@scorer(
    "evidence",
    Metric("signal_recall", description="share of the planted risk signals the memo's evidence lists"),
    Metric("signal_precision", description="share of the checked signal types listed that were planted"),
    Metric("spread_accuracy", description="share of the generator's statement figures spread exactly"),
)
def evidence_scores(memo: Memo, case: EvalCase, calls: list[BookedCall]) -> dict[str, float | None]:
    truth = case.truth
    if not truth.signals and not truth.statements:
        return {"signal_recall": None, "signal_precision": None, "spread_accuracy": None}
    doc_types = {d.doc_id: d.doc_type for d in case.memo_case().documents}
    found = found_types(memo.signals, doc_types)
    planted = [t for t, v in truth.signals.items() if v]
    listed = [t for t in truth.signals if found.get(t)]
    matches = spread_matches(memo.spread, truth.statements)
    return {
        "signal_recall": sum(found.get(t, False) for t in planted) / len(planted) if planted else None,
        "signal_precision": sum(truth.signals[t] for t in listed) / len(listed) if listed else None,
        "spread_accuracy": sum(matches.values()) / len(matches) if matches else None,
    }
