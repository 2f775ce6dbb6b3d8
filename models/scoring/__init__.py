"""Scoring and explaining: PD, grade, band and reason codes for a matrix, one typed explanation per row, recourse, and one partition of raw records scored (what a Spark task runs)."""
