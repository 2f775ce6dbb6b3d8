"""Backends registered by name and imported lazily: LLMs (llama.cpp, OpenAI-compatible, transformers) and embedders."""
