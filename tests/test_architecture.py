"""The layering of DESIGN.md and docs/architecture.md, and the size rules, checked on the source itself."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.code_shape import FMT_SKIP, PACKAGES, circles, formatted_copy, function_sizes, import_graph

REPO = Path(__file__).resolve().parents[1]
DATA_TABLES = {
    "retrieval/evidence/taxonomy.py",
    "retrieval/evidence/signal_rules.py",
    "models/data/formats.py",
}
"""The modules whose tables of data keep one row a line with ``# fmt: skip``."""
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


@pytest.fixture(scope="module")
def formatted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The product formatted by the project's ruff settings with every ``# fmt: skip`` removed: the
    sizes below are the code's own, not what packing lines hides."""
    return formatted_copy(REPO, tmp_path_factory.mktemp("formatted"))


def test_no_module_over_400_lines_and_no_function_over_60(formatted: Path):
    long_modules = {}
    long_functions = {}
    for path in sorted(p for package in PACKAGES for p in (formatted / package).rglob("*.py")):
        text = path.read_text()
        where = str(path.relative_to(formatted))
        if len(text.splitlines()) > MAX_MODULE_LINES:
            long_modules[where] = len(text.splitlines())
        sizes = function_sizes(ast.parse(text), where)
        long_functions |= {name: size for name, size in sizes.items() if size > MAX_FUNCTION_LINES}
    assert long_modules == {}
    assert long_functions == {}


def test_the_workbench_only_composes(formatted: Path):
    """The workbench's services hold the case page and the memo stream; queues, views, models and
    decisions have modules of their own, so it stays small."""
    assert len((formatted / "assistant" / "ui" / "workbench.py").read_text().splitlines()) <= 200


def test_fmt_skip_only_on_data_tables():
    """A ``# fmt: skip`` keeps a table of data readable (one row a line); code is formatted."""
    marked = {
        str(path.relative_to(REPO))
        for path in [
            *source_files(),
            *sorted((REPO / "tests").rglob("*.py")),
            *sorted((REPO / "bench").rglob("*.py")),
        ]
        if FMT_SKIP.search(path.read_text())
    }
    assert marked <= DATA_TABLES, sorted(marked - DATA_TABLES)


def test_no_import_circles():
    assert circles(import_graph(REPO)) == []


def test_faces_never_write_memos_by_hand():
    """The workbench, the CLI, batch and Spark reach the memo through memo.record's writer, never its parts."""
    found = {
        f"{face} -> {inner}": importers(inner, face)
        for face in (
            "assistant/ui",
            "assistant/cli",
            "assistant/jobs",
            "assistant/spark",
            "assistant/service",
        )
        for inner in ("assistant.memo.calls", "assistant.memo.record.record_memo", "assistant.memo.compose")
    }
    assert {k: v for k, v in found.items() if v} == {}


def test_the_service_and_the_monitor_never_build_case_files():
    """Online scoring and the book monitor use models/ and retrieval/ services, not assistant/case."""
    found = {face: importers("assistant.case", face) for face in ("assistant/service", "assistant/monitor")}
    assert {k: v for k, v in found.items() if v} == {}


def test_audit_workspace_and_settings_sit_at_the_bottom():
    """The foundations import no other part of assistant/: everything may build on them."""
    bottom = ("assistant.settings", "assistant.workspace", "assistant.audit")
    found = {}
    for where in ("assistant/settings.py", "assistant/workspace.py", "assistant/audit"):
        folder = REPO / where
        for path in [folder] if folder.is_file() else sorted(folder.rglob("*.py")):
            up = {
                n
                for n in imported_modules(path)
                if n.startswith("assistant.") and not any(n == b or n.startswith(b + ".") for b in bottom)
            }
            if up:
                found[str(path.relative_to(REPO))] = sorted(up)
    assert found == {}


def test_settings_import_no_numerical_library():
    """51 modules import the settings: loading them must not pull in xgboost, pandas or torch."""
    code = "import sys, assistant.settings\nprint(sorted({'xgboost', 'pandas', 'torch', 'sklearn'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


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
