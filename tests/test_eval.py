"""The evaluation harness: case sets, scorers on crafted memos, cached runs, compare, gate, judge."""

from __future__ import annotations

import json
import shutil

import pytest

from assistant.backends import open_llm
from assistant.eval.case_sets import demo_cases, read_case_set, write_case_set
from assistant.eval.compare import compare, gate
from assistant.eval.judge import agreement, judge_memo, labelled_examples
from assistant.eval.runner import load_run, outcome_alignment, parse_variants, run_eval
from assistant.eval.scorers import SCORERS, score_output
from assistant.memo.calls import CallBook
from assistant.memo.compose import compose_memo
from assistant.memo.config import MemoConfig
from models.errors import UnderwriterError
from tests.fakes import ObeyingChat, ScriptedChat, fake_llm
from tests.test_cli import underwrite


@pytest.fixture(scope="module")
def case_set(memo_workspace, tmp_path_factory):
    cases = demo_cases(memo_workspace, 4) + demo_cases(memo_workspace, 2, adversarial=True)
    return write_case_set(cases, tmp_path_factory.mktemp("cases"), "mixed")


def test_case_sets_are_versioned_and_checked(memo_workspace, case_set, tmp_path):
    header, cases = read_case_set(case_set)
    assert header["version"] == 1 and len(cases) == 6 and {c.set for c in cases} == {"demo", "adversarial"}
    assert all(c.truth.band == c.case.score.band for c in cases)
    assert any(c.truth.injected_documents for c in cases) and all(c.truth.personal_data for c in cases)
    assert any(c.truth.outcome is not None for c in cases)
    folder = case_set.parent
    assert write_case_set(cases, folder, "mixed") == case_set  # same content: same version
    assert write_case_set(cases[:3], folder, "mixed").name == "mixed-v2.jsonl"
    tampered = tmp_path / "t.jsonl"
    lines = case_set.read_text().splitlines()
    tampered.write_text("\n".join([lines[0], lines[1].replace('"band":"', '"band":"x'), *lines[2:]]) + "\n")
    with pytest.raises(UnderwriterError, match="do not match the header"):
        read_case_set(tampered)


def crafted(case_set, index: int = 0):
    _, cases = read_case_set(case_set)
    case = cases[index]
    memo = compose_memo(case.case, CallBook.live(fake_llm(ObeyingChat(), "o")), MemoConfig())
    return case, memo


def test_scorers_give_the_known_score_on_crafted_memos(case_set):
    case, memo = crafted(case_set)
    clean = score_output(memo, case, [])
    assert clean["figures_supported"] == 1.0 and clean["citations_valid"] == 1.0
    assert clean["decision_consistent"] == 1.0 and clean["reasons_match_model"] == 1.0
    assert clean["personal_data_leaked"] == 0.0 and clean["sections_complete"] == 1.0

    finding = memo.findings[0]
    bad = finding.summary.model_copy(
        update={"sentences": ["Revenue was $9,999,999 last year [C1].", "Refunds rose [C99]."]}
    )
    opposite = {"approve": "declined", "refer": "approved", "decline": "approved"}[case.truth.band]
    broken = memo.model_copy(
        update={
            "findings": [finding.model_copy(update={"summary": bad})],  # the only narrative with figures
            "comparison": memo.comparison.model_copy(
                update={"sentences": [f"The merchant should be {opposite}."]}
            ),
            "reasons": list(reversed(memo.reasons)) if len(memo.reasons) > 1 else [],
            "integrity": [*memo.integrity, f"Contact {case.truth.personal_data[0]}"],
        }
    )
    got = score_output(broken, case, [])
    assert got["figures_supported"] == 0.0  # the one figure is invented
    assert got["citations_valid"] == 0.5  # C1 exists, C99 does not
    assert got["decision_consistent"] == 0.0
    assert got["reasons_match_model"] == 0.0
    assert got["personal_data_leaked"] == pytest.approx(1 / len(case.truth.personal_data))
    assert got["injection_resisted"] is None  # a clean case


def test_injection_resistance_needs_the_attempt_reported(case_set):
    _, cases = read_case_set(case_set)
    index = next(i for i, c in enumerate(cases) if c.truth.injected_documents)
    case, memo = crafted(case_set, index)
    assert SCORERS["injection_resistance"].fn(memo, case, [])["injection_resisted"] == 1.0
    silent = memo.model_copy(update={"integrity": []})
    assert SCORERS["injection_resistance"].fn(silent, case, [])["injection_resisted"] == 0.0


def test_outcome_alignment_measures_what_the_memo_adds():
    rows = [{"outcome": i % 2, "pd": 0.1, "risk_weight": i % 2 + 1} for i in range(20)]
    got = outcome_alignment(rows)
    assert got["auc_pd"] == 0.5 and got["auc_risk_language"] == 1.0 and got["blend_gain"] > 0.4
    assert outcome_alignment(rows[:5])["auc_pd"] is None  # too few cases


def test_a_run_with_the_embedded_model_is_cached_comparable_and_gated(memo_workspace, case_set, tmp_path):
    variants = parse_variants("document_summary@1,document_summary@2")
    first = run_eval(
        memo_workspace,
        case_set,
        variants=variants,
        models=["llamacpp"],
        out=tmp_path / "a",
        progress=False,
        llms={"llamacpp": open_llm(memo_workspace)},
    )
    a = load_run(first)
    assert len(a["rows"]) == 12 and a["timing"]["cache_misses"] > 0
    assert a["summary"]["document_summary@1 · llamacpp"]["means"]["decision_consistent"] == 1.0
    again = load_run(
        run_eval(
            memo_workspace,
            case_set,
            variants=variants,
            models=["llamacpp"],
            out=tmp_path / "b",
            progress=False,
            llms={"llamacpp": open_llm(memo_workspace)},
        )
    )
    assert again["timing"]["cache_misses"] == 0 and again["timing"]["llm_seconds_spent"] == 0
    assert [r["metrics"] for r in again["rows"]] == [r["metrics"] for r in a["rows"]]  # a rerun diffs clean
    assert (first / "memos" / a["rows"][0]["memo"].split("/")[1]).is_file()

    same = compare(f"{first}:document_summary@2", f"{tmp_path / 'b'}:document_summary@2")
    assert (
        all(m.mean_difference == 0 for m in same.metrics if m.mean_difference is not None)
        and not same.case_changes
    )
    assert gate(f"{first}:document_summary@2", f"{tmp_path / 'b'}:document_summary@2", 0.02) == (True, [])

    worse = tmp_path / "worse"
    shutil.copytree(first, worse)
    run = load_run(worse)
    for row in run["rows"]:
        row["metrics"]["figures_supported"] = 0.5
    (worse / "results.json").write_text(json.dumps(run))
    ws = ("--workspace", str(memo_workspace.workspace))
    failed = underwrite(
        *ws,
        "eval",
        "gate",
        f"{worse}:document_summary@2",
        "--baseline",
        f"{first}:document_summary@2",
        cwd=tmp_path,
    )
    assert failed.returncode == 1 and "REGRESSION figures_supported" in failed.stdout
    passed = underwrite(
        *ws,
        "eval",
        "gate",
        f"{first}:document_summary@2",
        "--baseline",
        f"{tmp_path / 'b'}:document_summary@2",
        cwd=tmp_path,
    )
    assert passed.returncode == 0 and "gate passed" in passed.stdout
    report = underwrite(*ws, "eval", "report", str(first), cwd=tmp_path)
    assert report.returncode == 0 and "<img" in (first / "report.html").read_text()
    assert "| figures_supported ↑ |" in (first / "report.md").read_text()
    ambiguous = underwrite(*ws, "eval", "compare", str(first), str(tmp_path / "b"), cwd=tmp_path)
    assert ambiguous.returncode == 2 and "choose one variant" in ambiguous.stderr


def test_bad_variants_and_models_are_clear_errors():
    with pytest.raises(UnderwriterError, match="no prompt document_summary v9"):
        parse_variants("document_summary@9")
    with pytest.raises(UnderwriterError, match="NAME@VERSION"):
        parse_variants("document_summary")


def test_the_judge_grades_and_its_agreement_is_measured(case_set):
    _, memo = crafted(case_set)
    fours = fake_llm(ScriptedChat(reply="4"), "judge-4")
    assert judge_memo(fours, memo, repeats=3, cache=None) == {"judge_score": 4.0, "judge_spread": 0.0}
    silent = fake_llm(ScriptedChat(reply="no idea"), "judge-mute")
    assert judge_memo(silent, memo, repeats=1, cache=None) == {"judge_score": None, "judge_spread": None}
    labels = [e["label"] for e in labelled_examples()]
    got = agreement(fours)
    assert got["answered"] == len(labels) and got["spearman"] is None  # a constant judge ranks nothing
    assert got["exact_agreement"] == pytest.approx(sum(label == 4 for label in labels) / len(labels))


def test_the_summary_task_runs_on_long_sec_items(memo_workspace, tmp_path):
    from assistant.eval.case_sets import sec_cases
    from tests.conftest import SHARED_DATA, require_file

    archive = require_file(SHARED_DATA / "sec_10k" / "filings_dev.zip")
    cases = sec_cases(1, archive)
    assert cases[0].task == "summary" and cases[0].document is not None and len(cases[0].document.chunks) >= 4
    path = write_case_set(cases, tmp_path, "sec")
    folder = run_eval(
        memo_workspace,
        path,
        variants=parse_variants(None),
        models=["llamacpp"],
        out=tmp_path / "run",
        progress=False,
        llms={"llamacpp": open_llm(memo_workspace)},
    )
    run = load_run(folder)
    metrics = run["rows"][0]["metrics"]
    assert run["task"] == "summary" and "decision_consistent" not in metrics
    assert (
        metrics["figures_supported"] == 1.0
        and metrics["citations_valid"] == 1.0
        and metrics["llm_calls"] == 4
    )
    assert (
        "Outcome alignment" not in (folder / "report.md").read_text()
        if (folder / "report.md").exists()
        else True
    )
