"""The layering of DESIGN.md and docs/architecture.md, and the size rules, checked on the source itself."""

import ast
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "retrieval", "prompts", "assistant")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_COMMAND_MODULE_LINES = 150


def source_files() -> list[Path]:
    """Every module of the product (tests and benchmarks excluded) and the launcher."""
    return [*sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py")), REPO / "app.py"]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function, by its full dotted name."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def importers(of: str, within: str) -> list[str]:
    """Files under ``within`` that import ``of`` or anything below it."""
    folder = REPO / within
    files = [folder] if folder.is_file() else sorted(folder.rglob("*.py"))
    return [
        str(path.relative_to(REPO))
        for path in files
        if any(name == of or name.startswith(of + ".") for name in imported_modules(path))
    ]


def test_lower_layers_never_import_assistant():
    assert [f for layer in ("models", "retrieval", "prompts") for f in importers("assistant", layer)] == []


def test_models_never_import_retrieval():
    assert importers("retrieval", "models") == []


def test_the_core_never_imports_what_sits_above_it():
    """case/ and memo/, and the chat, decisions and evaluation built on them, never reach up."""
    above = ("assistant.jobs", "assistant.spark", "assistant.cli", "assistant.ui", "assistant.service")
    found = {
        f"{core} -> {upper}": importers(upper, f"assistant/{core}")
        for core in ("case", "memo", "chat.py", "decisions.py", "eval")
        for upper in above
    }
    assert {k: v for k, v in found.items() if v} == {}


def test_jobs_sit_below_spark_the_cli_and_the_workbench():
    found = {
        upper: importers(upper, "assistant/jobs")
        for upper in ("assistant.spark", "assistant.cli", "assistant.ui")
    }
    assert {k: v for k, v in found.items() if v} == {}


def test_pyspark_is_imported_only_under_assistant_spark():
    offenders = [
        str(path.relative_to(REPO))
        for path in source_files()
        if any(n == "pyspark" or n.startswith("pyspark.") for n in imported_modules(path))
        and not path.is_relative_to(REPO / "assistant" / "spark")
    ]
    assert offenders == []


def test_no_module_over_400_lines_and_no_function_over_60():
    long_modules = {}
    long_functions = {}
    for path in source_files():
        text = path.read_text()
        where = str(path.relative_to(REPO))
        if len(text.splitlines()) > MAX_MODULE_LINES:
            long_modules[where] = len(text.splitlines())
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if size > MAX_FUNCTION_LINES:
                    long_functions[f"{where}:{node.lineno} {node.name}"] = size
    assert long_modules == {}
    assert long_functions == {}


def test_command_modules_stay_thin():
    commands = sorted((REPO / "assistant" / "cli").glob("*.py"))
    sizes = {p.name: len(p.read_text().splitlines()) for p in commands}
    assert {name: n for name, n in sizes.items() if n > MAX_COMMAND_MODULE_LINES} == {}


def strings_in_code(path: Path) -> list[str]:
    """The string constants of a module's code (docstrings, which may describe a layout, left out)."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_only_the_versioned_folder_helper_spells_out_its_layout():
    """``CURRENT`` (the live version's pointer file) is written and read by models/store/versioned.py alone."""
    offenders = [
        str(path.relative_to(REPO))
        for path in source_files()
        if path != REPO / "models" / "store" / "versioned.py"
        and any(re.search(r"\bCURRENT\b", text) for text in strings_in_code(path))
    ]
    assert offenders == []


def test_plain_import_needs_no_heavy_optional_dependency():
    code = (
        "import sys, models, assistant, retrieval, prompts\n"
        "import assistant.cli.main, assistant.settings, models.scoring.score, models.training.fit\n"
        "import assistant.jobs.index_build, models.backends.embedders, retrieval.vector_store.store\n"
        "import retrieval.similar_cases.library, retrieval.passages, retrieval.documents.ingest\n"
        "heavy = {'torch', 'transformers', 'sentence_transformers', 'gradio', 'faiss', 'langchain', 'pyspark'}\n"
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
