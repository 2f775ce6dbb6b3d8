"""The one-screen text summary the main job prints."""

from __future__ import annotations

from assistant.jobs.demo import DemoReport, grade_distribution, highest_risk

BAR_WIDTH = 36


def _bar(count: int, total: int) -> str:
    filled = round(BAR_WIDTH * count / total) if total else 0
    return "█" * filled + "·" * (BAR_WIDTH - filled)


def demo_summary(report: DemoReport, reasons_shown: int = 2) -> str:
    meta, m, model = report.portfolio_meta, report.training_metrics, report.model
    t = m["test"]
    applicants = report.scored.merge(
        report.merchants[["merchant_id", "status"]], left_on="id", right_on="merchant_id"
    )
    applicants = applicants[applicants["status"] == "applicant"]
    lines = [
        "Underwriter: demo portfolio",
        "=" * 72,
        f"Portfolio  {meta['merchants']:,} merchants ({meta['historical']:,} historical, {meta['applicants']:,} applicants), "
        f"{meta['documents']:,} documents",
        f"           historical 12-month default rate {meta['default_rate_historical']:.1%}; "
        f"{meta['documents_with_injection']} documents carry planted prompt injections",
        f"Model      {model.label} ({'trained now' if report.trained_now else 'existing'}), {model.kind}"
        + (f", {m['trees']} trees" if m.get("trees") else "")
        + f", policy {model.policy.label}",
        f"           {m['split']}"
        + (
            f"; shipped refit on {m['shipped']['rows']:,} labelled rows"
            if m.get("shipped", {}).get("refit")
            else ""
        ),
        f"Test       AUC {t['auc']:.3f}  Gini {t['gini']:.3f}  KS {t['ks']:.3f}  "
        f"Brier {t['brier']:.4f} (raw {t['brier_uncalibrated']:.4f})  ECE {t['ece']:.4f}  "
        f"PSI {m['psi_train_vs_test']:.3f}",
        "",
        f"Applicants by grade ({len(applicants):,} scored)",
    ]
    grades = list(model.policy.grades)
    dist = grade_distribution(applicants, grades)
    by_grade = {r["grade"]: r for r in m["calibration_by_grade"]}
    for grade, count in dist.items():
        observed = by_grade.get(grade, {}).get("observed_default_rate")
        note = f"test default rate {observed:.1%}" if observed is not None else ""
        lines.append(f"  {grade}  {_bar(int(count), len(applicants))} {int(count):>6,}  {note}")
    bands = applicants["band"].value_counts()
    lines.append(
        "  bands: " + ", ".join(f"{b} {int(bands.get(b, 0)):,}" for b in ("approve", "refer", "decline"))
    )
    lines += ["", "Highest-risk applicants"]
    for _, row in highest_risk(report).iterrows():
        lines.append(
            f"  {row['id']}  {row['legal_name'][:28]:<28} {row['industry'][:20]:<20} "
            f"PD {row['pd']:.1%}  {row['grade']}  {row['band']}"
        )
        reasons = [row[f"reason_{k}"] for k in range(1, reasons_shown + 1) if row[f"reason_{k}"]]
        if row["policy_flags"]:
            lines.append(f"      policy: {row['policy_flags']}")
        lines += [f"      - {r}" for r in reasons]
    lines += [
        "",
        f"Scores     {report.portfolio.root.parent / 'scores.csv'}",
        f"Model card {model.path / 'model_card.md'} (plots in {model.path / 'plots'})",
        "Timings    " + ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items()),
    ]
    return "\n".join(lines)
