"""Documents -> clean text -> chunks -> embeddings -> FAISS index; similar-case search.

Filled by the retrieval issue. Never imports ``assistant``; receives an embedder.
"""
