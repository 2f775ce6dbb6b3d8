"""DESIGN.md's layering: lower layers never import assistant/, and a plain import stays light."""

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_lower_layers_never_import_assistant():
    offenders = [
        str(path.relative_to(REPO))
        for layer in ("models", "retrieval", "prompts")
        for path in (REPO / layer).rglob("*.py")
        if "assistant" in imported_modules(path)
    ]
    assert offenders == []


def test_plain_import_needs_no_heavy_optional_dependency():
    code = (
        "import sys, models, assistant, retrieval, prompts\n"
        "import assistant.cli, assistant.settings, models.scoring, models.training\n"
        "import assistant.jobs.index_build, models.backends.embedders, retrieval.vector_store.store, retrieval.similar_cases.library, retrieval.passages\n"
        "import retrieval.documents.ingest\n"
        "heavy = {'torch', 'transformers', 'sentence_transformers', 'gradio', 'faiss', 'langchain'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_retrieval_receives_an_embedder_and_never_builds_one():
    builders = ("load_embedder", "SentenceTransformer", "EMBEDDERS[")
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "retrieval").rglob("*.py")
        if any(name in path.read_text() for name in builders)
    ]
    assert offenders == []
