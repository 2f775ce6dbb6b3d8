"""The synthetic merchant portfolio: the embedded, seeded demo dataset (never real merchants).

``generate.generate_portfolio`` writes merchants (tabular), their monthly series, their
documents in several formats, and a ground-truth file of what the documents plant (hidden
risk facts, contradictions, injections, personal data).
"""
