"""The vector store: FAISS index + SQLite sidecar (items), the index plan, top-k search, versioned files."""
