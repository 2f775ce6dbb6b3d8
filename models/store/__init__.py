"""Stored artifacts and their integrity: a model version on disk, versioned folders with manifests, file hashes."""
