"""The optional model-graded rubric: any configured backend grades a memo's narrative 1-5.

A judge is only as good as its agreement with people, so :func:`agreement` scores the
judge on a few human-labelled narratives shipped in ``judge_labels.jsonl`` (Spearman
correlation and exact agreement), and repeats (new seeds) measure its variance.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from importlib import resources
from typing import Any

import numpy as np

from assistant.eval.scorers import Metric
from assistant.memo.calls import CallBook, CallCache
from assistant.memo.schema import Memo
from models.backends.llm import LLM, LLMError
from prompts.loader import load_prompt

JUDGE_METRICS = (
    Metric(
        "judge_score",
        gate=False,
        description="model-graded rubric, 1-5, mean over repeats (see judge agreement)",
    ),
    Metric(
        "judge_spread",
        higher_is_better=False,
        gate=False,
        description="standard deviation of the judge over repeats",
    ),
)


def grade(
    judge: LLM,
    narrative: str,
    decision: dict[str, Any],
    facts: str,
    *,
    repeats: int = 1,
    cache: CallCache | None = None,
) -> list[int | None]:
    prompt = load_prompt("memo_judge").render(
        band=decision["band"],
        grade=decision["grade"],
        pd=f"{decision['pd']:.2%}",
        facts=facts,
        narrative=narrative or "(empty)",
    )
    scores: list[int | None] = []
    for repeat in range(repeats):
        params = replace(
            judge.params,
            seed=judge.params.seed + repeat,
            temperature=max(judge.params.temperature, 0.7 if repeats > 1 else 0.0),
        )
        book = CallBook(
            judge.model_id, params, llm=LLM(judge.backend, judge.model_id, params, judge.chat), cache=cache
        )
        try:
            answer = book.ask("judge", prompt)
        except LLMError:
            scores.append(None)
            continue
        found = re.search(r"[1-5]", answer)
        scores.append(int(found.group(0)) if found else None)
    return scores


def judge_memo(judge: LLM, memo: Memo, *, repeats: int, cache: CallCache | None) -> dict[str, float | None]:
    narrative = " ".join(
        [*(s for f in memo.findings for s in f.summary.sentences), *memo.comparison.sentences]
    )
    facts = "; ".join(f"{f.name}: {f.value}" for f in memo.metrics)
    scores = [
        s
        for s in grade(judge, narrative, memo.decision, facts, repeats=repeats, cache=cache)
        if s is not None
    ]
    if not scores:
        return {"judge_score": None, "judge_spread": None}
    return {"judge_score": float(np.mean(scores)), "judge_spread": float(np.std(scores))}


def labelled_examples() -> list[dict[str, Any]]:
    text = resources.files("assistant.eval").joinpath("judge_labels.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def agreement(judge: LLM, *, repeats: int = 1, cache: CallCache | None = None) -> dict[str, Any]:
    """Spearman correlation and exact agreement between the judge and the human labels."""
    from scipy.stats import spearmanr

    human, machine = [], []
    for example in labelled_examples():
        got = [
            s
            for s in grade(
                judge,
                example["narrative"],
                example["decision"],
                example["facts"],
                repeats=repeats,
                cache=cache,
            )
            if s is not None
        ]
        human.append(example["label"])
        machine.append(float(np.mean(got)) if got else float("nan"))
    h, m = np.array(human, dtype=float), np.array(machine, dtype=float)
    ok = ~np.isnan(m)
    rho = float(spearmanr(h[ok], m[ok]).statistic) if ok.sum() >= 3 and np.ptp(m[ok]) > 0 else None
    return {
        "examples": len(human),
        "answered": int(ok.sum()),
        "spearman": None if rho is None or np.isnan(rho) else round(rho, 4),
        "exact_agreement": round(float(np.mean(np.round(m[ok]) == h[ok])), 4) if ok.any() else None,
        "judge_scores": [None if np.isnan(x) else round(float(x), 2) for x in m],
        "human_labels": human,
    }
