"""The project's import graph, read from the source with ``ast`` (imports inside functions
included): no module imports itself round a cycle, and the layers point one way:
``closer`` (the command) may use ``speech`` and ``skill``; ``speech`` may use ``skill``'s
request and model modules; ``skill`` uses neither."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("closer", "skill", "speech")
# What speech/ may take from skill/: how Alexa's requests look, and the interaction model.
SPEECH_MAY_USE = {"skill.envelopes", "skill.interaction_model"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The project modules ``path`` imports (a package import counts as its __init__)."""
    found: set[str] = set()
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path.parent)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            # "from pkg import module" reads the module; "from pkg import name" reads pkg.
            names = submodules + ([] if set(submodules) <= modules else [base])
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    modules = set(files)
    return {name: _imports(path, modules) - {name} for name, path in files.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, if there is any (a package importing its own submodules through
    ``__init__`` re-exports is not a cycle of ideas, but is still reported)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_import_cycles() -> None:
    assert _cycle(import_graph()) is None


def test_skill_imports_neither_speech_nor_the_command() -> None:
    for module, imported in import_graph().items():
        if module.startswith("skill"):
            upward = {m for m in imported if m.startswith(("speech", "closer"))}
            assert not upward, (module, upward)


def test_speech_uses_only_the_envelopes_and_model_of_the_skill() -> None:
    for module, imported in import_graph().items():
        if module.startswith("speech"):
            from_skill = {m for m in imported if m.startswith("skill")}
            assert from_skill <= SPEECH_MAY_USE, (module, from_skill - SPEECH_MAY_USE)
            assert not {m for m in imported if m.startswith("closer")}, module


def test_the_graph_is_read_right() -> None:
    """The reader itself: a known edge from each kind of import statement."""
    graph = import_graph()
    assert "skill.envelopes" in graph["speech.device"]  # from x import (...)
    assert "skill.app" in graph["closer.local"]
    assert "speech.recognize" in graph["closer.cli"]  # an import inside a function


def test_the_environment_is_read_only_by_the_configuration() -> None:
    """CLOSER_* settings are read once, by skill/config.py; everything else is handed them."""
    readers = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if _reads_closer_variable(node):
                    readers.add(str(path.relative_to(ROOT)))
    assert readers == {"skill/config.py"}, readers


def _reads_closer_variable(node: ast.AST) -> bool:
    """``os.environ["CLOSER_X"]``, ``os.environ.get("CLOSER_X")``, ``os.getenv("CLOSER_X")``
    or ``env.get(...)`` on a mapping named like the environment."""
    def closer_constant(value: ast.AST | None) -> bool:
        return isinstance(value, ast.Constant) and str(value.value).startswith("CLOSER_")

    if isinstance(node, ast.Subscript):
        return closer_constant(node.slice) and "environ" in ast.unparse(node.value)
    if isinstance(node, ast.Call) and node.args and closer_constant(node.args[0]):
        called = ast.unparse(node.func)
        return "environ" in called or "getenv" in called or called in {"env.get", "text"}
    return False
