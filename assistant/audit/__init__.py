"""The audit trail: append-only, hash-chained records of scores, LLM calls, memos and decisions."""

from assistant.audit.store import AuditError, AuditStore, VerifyReport

__all__ = ["AuditError", "AuditStore", "VerifyReport"]
