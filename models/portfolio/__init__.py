"""The synthetic merchant portfolio: the embedded, seeded default dataset.

``generate_portfolio`` writes merchants (tabular), their monthly series, their
documents in several formats, and a ground-truth file of what the documents
plant (hidden risk facts, contradictions, injections, personal data).
"""

from models.portfolio.generate import PortfolioFiles, generate_portfolio

__all__ = ["PortfolioFiles", "generate_portfolio"]
