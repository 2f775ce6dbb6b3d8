"""Plain-text tables for the evidence commands (index build, search, similar)."""

from __future__ import annotations

import textwrap

from assistant.jobs.evidence import MerchantEvidence
from assistant.jobs.index_build import IndexReport
from retrieval.passages import Passage
from retrieval.similar_cases.search import SimilarReport

MAX_LISTED = 10


def index_report_text(r: IndexReport) -> str:
    lines = []
    if r.document_dir is not None:
        plan = r.document_plan or {}
        lines.append(
            f"documents: {r.documents:,} read, {len(r.failures):,} refused, {len(r.flagged):,} flagged for "
            f"injected instructions; {r.chunks:,} chunks ({r.embedded:,} embedded, {r.reused:,} from cache)"
        )
        lines.append(f"document index: {r.document_dir} ({_plan(plan)})")
        for f in r.failures[:MAX_LISTED]:
            lines.append(f"  refused {f['source']}: {f['error']}")
        if len(r.failures) > MAX_LISTED:
            lines.append(f"  ... and {len(r.failures) - MAX_LISTED} more (see --json)")
        for f in r.flagged[:MAX_LISTED]:
            lines.append(
                f"  flagged {f['doc_id']} (merchant {f['merchant_id']}): score {f['score']:.2f}, {', '.join(f['kinds'])}"
            )
        if len(r.flagged) > MAX_LISTED:
            lines.append(f"  ... and {len(r.flagged) - MAX_LISTED} more flagged (see --json)")
    for line in r.skipped[:MAX_LISTED]:
        lines.append(f"  left out {line}")
    if len(r.skipped) > MAX_LISTED:
        lines.append(f"  ... and {len(r.skipped) - MAX_LISTED} more left out (see --json)")
    lines += r.notes
    if r.case_library_dir is not None:
        lines.append(f"case library: {r.cases:,} cases at {r.case_library_dir} ({_plan(r.case_plan or {})})")
    if r.timings:
        lines.append("time: " + ", ".join(f"{k} {v:.1f}s" for k, v in r.timings.items()))
    return "\n".join(lines)


def _plan(plan: dict) -> str:
    if plan.get("kind") == "ivf":
        return f"IVF, {plan['nlist']} lists, nprobe {plan['nprobe']}, recall@10 {plan['recall_at_10']}"
    return "exact search"


def passages_text(question: str, passages: list[Passage]) -> str:
    if not passages:
        return f"no passages found for {question!r}"
    out = [f"{len(passages)} passage(s) for {question!r}:"]
    for rank, p in enumerate(passages, start=1):
        flag = "  [!] contains text aimed at an AI model" if p.injection_score >= 0.5 else ""
        how = ", ".join(
            x
            for x in (
                f"meaning #{p.dense_rank}" if p.dense_rank else "",
                f"keywords #{p.keyword_rank}" if p.keyword_rank else "",
            )
            if x
        )
        out.append(f"\n{rank}. {p.citation}  ({how}){flag}")
        body = " ".join(p.text.split())
        out += textwrap.wrap(
            body[:400] + ("…" if len(body) > 400 else ""), 100, initial_indent="   ", subsequent_indent="   "
        )
    return "\n".join(out)


def similar_text(r: SimilarReport) -> str:
    where = "a case in the library" if r.in_library else "the case under review"
    head = f"{len(r.hits)} most similar cases to {r.query_id} ({where}), decided before {r.as_of}, library {r.library}:"
    if not r.hits:
        return head + "\n  none: no case was decided before that date"
    rows = [("case", "decided", "outcome", "PD", "grade", "similarity", "tab/text")]
    for h in r.hits:
        outcome = "pending" if h.outcome is None else ("DEFAULT" if h.outcome == 1 else "performed")
        text = "-" if h.text_similarity is None else f"{h.text_similarity:.2f}"
        rows.append(
            (
                h.case_id,
                h.decided_at,
                outcome,
                "-" if h.pd is None else f"{h.pd:.2%}",
                h.grade or "-",
                f"{h.similarity:.3f}",
                f"{h.tabular_similarity:.2f}/{text}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = [head] + ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    known = [h.outcome for h in r.hits if h.outcome is not None]
    if known:
        out.append(
            f"  default rate among these cases: {sum(known) / len(known):.0%} ({sum(known)} of {len(known)})"
        )
    out.append("  why they match (closest / furthest features, this case vs that case):")
    for h in r.hits:
        near = "; ".join(f"{m.name} {m.query} vs {m.case}" for m in h.closest)
        far = "; ".join(f"{m.name} {m.query} vs {m.case}" for m in h.furthest) or "-"
        out.append(f"  {h.case_id}: closest {near} | furthest {far}")
    return "\n".join(out)


def demo_evidence_text(items: list[MerchantEvidence], built: IndexReport | None) -> str:
    """The evidence section of the main job's summary: documents and similar past cases per applicant."""
    lines = ["", "Evidence for the highest-risk applicants"]
    if built is not None:
        lines.append(
            f"  (indexed {built.documents:,} documents, {built.chunks:,} chunks, {built.cases:,} past cases; "
            f"{len(built.flagged)} documents flagged for injected instructions)"
        )
    for item in items:
        hits = item.similar.hits
        known = [h.outcome for h in hits if h.outcome is not None]
        rate = (
            f"{sum(known) / len(known):.0%} defaulted ({sum(known)} of {len(known)} with known outcomes)"
            if known
            else "no known outcomes"
        )
        lines.append(
            f"  {item.merchant_id}: {item.documents} documents; {len(hits)} most similar past cases: {rate}"
        )
        if hits:
            top = hits[0]
            outcome = "pending" if top.outcome is None else ("defaulted" if top.outcome else "performed")
            why = "; ".join(f"{m.name} {m.query} vs {m.case}" for m in top.closest[:2])
            lines.append(f"      closest: {top.case_id} (similarity {top.similarity:.2f}, {outcome}): {why}")
        for doc in item.flagged:
            kinds = sorted({f["kind"] for f in doc["injection_flags"]})
            lines.append(
                f"      [!] {doc['doc_id']} ({doc['doc_type']}) contains instructions aimed at an AI model "
                f"({', '.join(kinds)}; score {doc['injection_score']:.2f}): a risk signal in itself"
            )
    lines.append('  more: `underwrite similar ID`, `underwrite search "QUESTION" --merchant ID`')
    return "\n".join(lines)
