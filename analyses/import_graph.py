"""The shape of laborseq's import graph: cycles between modules and packages, and module sizes.

Run from the repository root::

    .venv/bin/python analyses/import_graph.py

It prints the strongly connected components (cycles) of the import graph at
module level and at package level (``laborseq.<package>``): with imports made
only for type checking left out (as in the import-linter contract of
``pyproject.toml``), once without the contract's documented exceptions and once
with them; then counting type-checking imports too; then the modules over 400
and 600 lines and the largest one.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(os.environ.get("LABORSEQ_ROOT", Path(__file__).resolve().parent.parent))
"""The repository (``LABORSEQ_ROOT`` names another checkout, e.g. an older commit, to measure it the same way)."""


def strongly_connected(nodes: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the components of more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in nodes:
        if node not in index:
            visit(node)
    return out


def documented_exceptions() -> set[tuple[str, str]]:
    """The ``ignore_imports`` of the import-linter contracts."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pairs = set()
    for contract in config.get("tool", {}).get("importlinter", {}).get("contracts", []):
        for line in contract.get("ignore_imports", []):
            importer, imported = (part.strip() for part in line.split("->"))
            pairs.add((importer, imported))
    return pairs


def report(graph: grimp.ImportGraph, ignored: set[tuple[str, str]]) -> None:
    modules = sorted(graph.modules)
    edges = {
        m: {
            i
            for i in graph.find_modules_directly_imported_by(m)
            if i.startswith("laborseq") and not i.startswith(m + ".") and (m, i) not in ignored
        }
        for m in modules
    }
    cycles = strongly_connected(modules, edges)
    print(f"  module-level cycles: {len(cycles)}")
    for component in cycles:
        print("    " + " <-> ".join(component))

    def package(module: str) -> str:
        return ".".join(module.split(".")[:2])

    package_edges: dict[str, set[str]] = {}
    for module, imported in edges.items():
        for other in imported:
            if package(module) != package(other):
                package_edges.setdefault(package(module), set()).add(package(other))
    cycles = strongly_connected(sorted({package(m) for m in modules}), package_edges)
    print(f"  package-level cycles: {len(cycles)}")
    for component in cycles:
        print("    " + " <-> ".join(component))


def main() -> None:
    graph = grimp.build_graph("laborseq", cache_dir=None, exclude_type_checking_imports=True)
    ignored = documented_exceptions()
    print(f"with the documented exceptions left out ({', '.join(f'{a} -> {b}' for a, b in sorted(ignored))}):")
    report(graph, ignored)
    print("counting every import made at run time:")
    report(graph, set())
    print("counting imports made for type checking only too:")
    report(grimp.build_graph("laborseq", cache_dir=None), set())
    sizes = sorted(
        ((len(p.read_text().splitlines()), str(p.relative_to(ROOT))) for p in (ROOT / "laborseq").rglob("*.py")),
        reverse=True,
    )
    over_600 = [s for s in sizes if s[0] > 600]
    over_400 = [s for s in sizes if s[0] > 400]
    print(f"modules: {len(sizes)}; over 600 lines: {len(over_600)}; over 400 lines: {len(over_400)}")
    for lines, path in over_400:
        print(f"  {lines:5d} {path}")
    print(f"largest: {sizes[0][1]} ({sizes[0][0]} lines)")


if __name__ == "__main__":
    main()
