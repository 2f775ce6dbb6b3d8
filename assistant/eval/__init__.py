"""The prompt evaluation harness: case sets -> memo runs (prompt variants x models) -> scorers ->
comparison, regression gate and reports."""
