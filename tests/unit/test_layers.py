"""Imports go one way and never in a circle: parses every module of pipeline/, workers/ and web/
(ast, nothing imported) and fails on an import that reaches up a layer, on Celery/kombu/workers/
web imported from the library, or on a cycle. The layers are drawn in docs/architecture.md."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("pipeline", "workers", "web")

# Lowest first; a module may import its own layer and those below, never above.
LAYERS: list[tuple[str, ...]] = [
    (
        "pipeline.result",
        "pipeline.errors",
        "pipeline.settings",
        "pipeline.privacy",
        "pipeline.jp",
        "pipeline.targets",
    ),
    (
        "pipeline.ingest",
        "pipeline.imaging",
        "pipeline.forms",
        "pipeline.ocr",
        "pipeline.fields",
        "pipeline.normalize",
        "pipeline.validate",
        "pipeline.route",
    ),
    ("pipeline.run",),
    ("pipeline.store",),
    ("pipeline.adapters", "pipeline.report"),
    ("pipeline.intake",),
    ("pipeline.cli", "workers", "web", "pipeline"),  # the top (and pipeline/__init__)
]
# Only the top layer may reach the queue; the library enqueues through a function handed in.
QUEUE_ONLY_AT_TOP = ("celery", "kombu", "workers", "web")
TOP = ("pipeline.cli", "workers", "web")


def modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Alembic's scripts: run by alembic, not imported by the code
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """Every module `path` imports (at any depth: lazy imports count), resolved to the most
    specific module of ours or to the top-level name of a library."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                for a in node.names
            ]
        for n in names:
            while n not in known and "." in n:
                n = n.rsplit(".", 1)[0]
            found.add(n)
    return found


def layer(name: str) -> int | None:
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (name == p or name.startswith(p + ".")) and (best is None or len(p) > best[0]):
                best = (len(p), i)
    return None if best is None else best[1]


GRAPH = {name: imports(path, modules()) for name, path in modules().items()}


def test_every_module_has_a_layer() -> None:
    assert GRAPH, "no modules found"
    assert [m for m in GRAPH if layer(m) is None] == []


def test_imports_never_reach_up_a_layer() -> None:
    wrong = [
        f"{m} (layer {layer(m)}) imports {dep} (layer {layer(dep)})"
        for m, deps in GRAPH.items()
        for dep in deps
        if dep in GRAPH and layer(dep) > layer(m)  # type: ignore[operator]
    ]
    assert wrong == []


def test_only_the_top_layer_imports_the_queue_or_the_web_app() -> None:
    wrong = [
        f"{m} imports {dep}"
        for m, deps in GRAPH.items()
        if not m.startswith(TOP)
        for dep in deps
        if dep.split(".")[0] in QUEUE_ONLY_AT_TOP
    ]
    assert wrong == []


def test_no_import_cycles() -> None:
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    cycles: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for dep in sorted(GRAPH[m]):
            if dep not in GRAPH or dep == m:
                continue
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*stack, dep])
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [m])
    assert cycles == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from pipeline.intake import jobs\n", "upward"),
        ("import celery\n", "queue"),
    ],
)
def test_the_checks_catch_a_wrong_import(tmp_path: Path, source: str, expected: str) -> None:
    # The checks above must be able to fail: a stage importing intake, a stage importing Celery.
    fake = tmp_path / "bad.py"
    fake.write_text(source)
    deps = imports(fake, modules())
    me = "pipeline.ocr.bad"
    if expected == "upward":
        assert any(layer(d) is not None and layer(d) > layer(me) for d in deps)  # type: ignore[operator]
    else:
        assert any(d.split(".")[0] in QUEUE_ONLY_AT_TOP for d in deps)
