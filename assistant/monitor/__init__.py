"""The book monitor: a new month re-scored with the champion, its history month by month, the checks (PD jumps, band downgrades, new policy flags, control charts) and signals in new documents."""
