"""The import graph of ``textless``: every module imports, no cycles, stages stay below the pipeline.

The graph is read with :mod:`ast` from every ``import`` statement of every module, wherever it
stands (module level, inside a function, under ``TYPE_CHECKING``): a lazy import is still a
dependency, and a cycle through one is still a cycle.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import textless

ROOT = Path(textless.__file__).parent
STAGES = ("encoders", "quantizers", "ulm", "vocoders", "prosody", "data")
UPPER = ("textless.pipeline", "textless.cli")

def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def imports_of(module: str) -> set[str]:
    """The ``textless`` modules that ``module`` imports (``from pkg import sub`` names ``sub``)."""
    path = MODULES[module]
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node.level, node.module)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:  # textless.x.y.Attr -> textless.x.y
                name = name.rpartition(".")[0]
            if name.startswith("textless") and name != module and name != "textless":
                out.add(name)
    return out


GRAPH = {m: imports_of(m) for m in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def stage_offenders(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    stage = tuple(f"textless.{s}" for s in STAGES)
    return {
        (m, up)
        for m, deps in graph.items() if m in stage or m.startswith(tuple(s + "." for s in stage))
        for d in deps for up in UPPER if d == up or d.startswith(up + ".")
    }


def test_the_graph_reader_sees_lazy_relative_and_type_checking_imports():
    g = {
        "a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"},  # a -> b -> c -> a, d outside
    }
    assert cycles(g) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    # edges this package really has, of each sort the reader must see
    assert "textless.errors" in GRAPH["textless.encoders.config"]  # relative, module level
    assert "textless.components" in GRAPH["textless.encoders.fairseq_import"]  # inside a function
    assert "textless.encoders.hubert" in GRAPH["textless.components"]  # from .encoders import hubert
    offenders = stage_offenders({"textless.ulm.x": {"textless.cli.ulm"}, "textless.eval.y": {"textless.pipeline"}})
    assert offenders == {("textless.ulm.x", "textless.cli")}


def test_every_module_imports():
    failures = {}
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception as e:  # report all of them at once
            failures[name] = f"{type(e).__name__}: {e}"
    assert not failures, failures


def test_no_import_cycles():
    found = cycles(GRAPH)
    assert not found, "import cycles (lazy imports count): " + "; ".join(" <-> ".join(c) for c in found)


def test_stages_never_import_the_pipeline_or_the_cli():
    found = sorted(stage_offenders(GRAPH))
    assert not found, f"stage modules importing the pipeline or the CLI: {found}"


@pytest.mark.parametrize("layer", ["textless.bundle", "textless.checkpoint"])
def test_the_bottom_of_the_loading_layer_imports_no_stage(layer):
    """Stages import these two; were they to import a stage back, that would be a cycle."""
    stage = tuple(f"textless.{s}" for s in STAGES)
    assert not [d for d in GRAPH[layer] if d.startswith(stage)]
