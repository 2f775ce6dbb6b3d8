"""The champion and its challengers: which model decides (registry and promotion), the shadow queue that scores challengers beside it, their comparison and the shadow report."""
