"""The credit memo: composed from a case file, LLM narrative validated, rendered, recorded, replayed."""
