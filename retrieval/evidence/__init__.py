"""Evidence found in a case's own documents, in code: risk signals and financial spreads, each with its passage."""
