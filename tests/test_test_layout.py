"""The layout of the test code itself (CONVENTIONS.md, "Tests"): builders live in
`factories.py`, helpers in `utils.py`, shared fixtures in plugin modules that the
root conftest lists in `pytest_plugins`; no test code imports a conftest or a test
module, and a directory's conftest.py holds only that directory's autouse fixtures.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = {".git", ".venv", "node_modules", "var", "staticfiles", "__pycache__"}


def files_of_the_tests() -> list[Path]:
    """Every Python file of the test code: under a `tests` folder, or a conftest."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if SKIPPED.intersection(parts):
            continue
        if "tests" in parts[:-1] or path.name == "conftest.py":
            found.append(path)
    return found


def forbidden(parts: list[str]) -> bool:
    """A conftest anywhere in a dotted name, or a test module (`test_…`) at its end."""
    return bool(parts) and ("conftest" in parts or parts[-1].startswith("test_"))


def imported_names(node: ast.AST, package: list[str]) -> list[list[str]]:
    """The dotted names (as lists of parts) that an import statement, or a call of
    importlib.import_module / __import__ with a literal, may load; relative imports
    are resolved from `package`."""
    if isinstance(node, ast.Import):
        return [alias.name.split(".") for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = package[: len(package) - node.level + 1] if node.level else []
        module = base + (node.module.split(".") if node.module else [])
        # `from x import y` imports the module x.y when y is one: check both.
        return [module] + [module + [alias.name] for alias in node.names]
    if (
        isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", None))
        in ("import_module", "__import__")
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return [node.args[0].value.split(".")]
    return []


def bad_imports(source: str, package: list[str]) -> list[str]:
    """`line: statement` of every import in `source` naming a conftest or a test
    module, wherever it is (top level, in a function, under `if`)."""
    return [
        f"{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(ast.parse(source))
        if any(forbidden(parts) for parts in imported_names(node, package))
    ]


def fixtures_of(source: str) -> list[tuple[str, bool]]:
    """(name, autouse) of every function in `source` decorated as a pytest fixture."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            if ast.unparse(call.func if call else decorator) not in (
                "pytest.fixture",
                "fixture",
            ):
                continue
            autouse = any(
                k.arg == "autouse"
                and isinstance(k.value, ast.Constant)
                and k.value.value is True
                for k in (call.keywords if call else [])
            )
            found.append((node.name, autouse))
    return found


def test_the_layout_checks_read_every_apps_tests_and_the_root_conftest():
    files = {path.relative_to(ROOT).as_posix() for path in files_of_the_tests()}

    assert {"conftest.py", "tests/test_test_layout.py"} <= files
    for folder in ("hourglass/tests", "systemmaps/tests", "metrics/tests", "tests"):
        assert any(f.startswith(f"{folder}/test_") for f in files), folder


def statement(kind: str, level: int, parts: list[str], names: str = "") -> str:
    """An import statement from its pieces. The examples below are written in
    pieces so that grepping the test code for such imports finds none here."""
    module = "." * level + ".".join(parts)
    return f"from {module} import {names}" if kind == "from" else f"import {module}"


@pytest.mark.parametrize(
    "source",
    [
        statement("from", 0, ["conftest"], "PASSWORD"),
        statement("from", 1, ["conftest"], "make_map"),
        statement("from", 0, ["systemmaps", "tests", "conftest"], "make_map"),
        statement("from", 1, [], "conftest"),
        statement("import", 0, ["systemmaps", "tests", "conftest"]),
        statement("from", 1, ["test_step_page"], "HTMX, nurture"),
        statement("from", 0, ["metrics", "tests", "test_rollup"], "dump"),
        statement("from", 0, ["systemmaps", "tests"], "test_my_steps"),
        statement("import", 0, ["tests", "test_portability"]) + " as portability",
        "def helper():\n    "
        + statement("from", 0, ["tests", "test_isolation_matrix"], "populate"),
        "importlib.import_module('metrics.tests.conftest')",
    ],
)
def test_an_import_of_a_conftest_or_a_test_module_is_found(source):
    found = bad_imports(source, ["systemmaps", "tests"])

    assert len(found) == 1, found
    assert source.splitlines()[-1].strip() in found[0]


@pytest.mark.parametrize(
    "statement",
    [
        "from .factories import make_map",
        "from .utils import maps_snapshot",
        "from systemmaps.tests.factories import webinar_graph",
        "from hourglass.tests.utils import PASSWORD, login_browser",
        "from tests.utils import rewrite",
        "from hourglass.tests import factories",
        "import pytest",
    ],
)
def test_an_import_of_factories_utils_or_a_library_is_allowed(statement):
    assert bad_imports(statement, ["systemmaps", "tests"]) == []


def test_no_test_code_imports_a_conftest_or_a_test_module():
    found = [
        f"{path.relative_to(ROOT).as_posix()}:{line}"
        for path in files_of_the_tests()
        for line in bad_imports(
            path.read_text(encoding="utf-8"),
            list(path.relative_to(ROOT).parts[:-1]),
        )
    ]

    assert not found, (
        "Test code imports a conftest or a test module. Builders belong in the "
        "app's tests/factories.py, helpers in its tests/utils.py, shared fixtures "
        "in a plugin module of the root conftest's pytest_plugins:\n" + "\n".join(found)
    )


def test_a_directory_conftest_holds_only_autouse_fixtures():
    found = [
        f"{path.relative_to(ROOT).as_posix()}: {name}"
        for path in files_of_the_tests()
        if path.name == "conftest.py" and path.parent != ROOT
        for name, autouse in fixtures_of(path.read_text(encoding="utf-8"))
        if not autouse
    ]

    assert not found, (
        "A fixture other than a directory-scoped autouse one is in a directory's "
        "conftest.py; shared fixtures belong in a plugin module of the root "
        "conftest's pytest_plugins:\n" + "\n".join(found)
    )
