"""The layers, as a contract ``make lint`` checks: who may import whom.

From the bottom:

1. ``core``: settings, models, vocabulary, pure helpers; imports nothing of ours above it.
2. The contracts: the workflows' messages and errors, and the activities' types and typed
   stubs (``activities.contracts``), which the workflows call by reference.
3. ``workflows``: the state machines and their thin Temporal shells.
4. What runs beside the workflows, each on its own: the activity implementations
   (``activities``), the API with its pages (``api``), the Twilio simulator, the migrations.
   None of them imports another.
5. The entry points on top: ``worker`` (it builds the activities and the workflows),
   ``bench`` and ``scripts``.

A module imports only its own layer or lower ones, and no import cycle runs through our
modules (a package's ``__init__`` that gathers its own submodules is no cycle). Run as
``python -m scripts.layers``: it prints each breach and exits 1 if there is any.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (layer name, the module prefixes in it); a module belongs to its longest matching prefix.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("core", ("core",)),
    (
        "contracts",
        (
            "workflows.errors",
            "workflows.order.messages",
            "workflows.recognition.messages",
            "activities.contracts",
        ),
    ),
    ("workflows", ("workflows",)),
    ("beside the workflows", ("activities", "api", "twilio_sim", "migrations")),
    ("entry points", ("worker", "bench", "scripts")),
)
# Within this layer, each prefix is on its own: no imports between them.
INDEPENDENT = "beside the workflows"
SOURCES = ("core", "workflows", "activities", "api", "twilio_sim", "migrations", "bench", "scripts")


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of ours, by dotted name."""
    found = {"worker": root / "worker.py"}
    for top in SOURCES:
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _placed(module: str) -> tuple[int, str]:
    """The module's layer (its index) and the prefix that placed it there."""
    best: tuple[int, str] | None = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (
                best is None or len(prefix) > len(best[1])
            ):
                best = (index, prefix)
    if best is None:
        raise LookupError(f"{module} is in no layer")
    return best


def imports(module: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """Our modules that ``module`` imports, at any depth of its code (lazy imports count)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            # ``from pkg import sub`` imports the submodule; ``from pkg import name``, pkg.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                yield name


def breaches(root: Path = ROOT) -> list[str]:
    known = modules(root)
    graph = {m: sorted(set(imports(m, p, known))) for m, p in known.items()}
    found = []
    for module, targets in graph.items():
        layer, prefix = _placed(module)
        for target in targets:
            target_layer, target_prefix = _placed(target)
            if target_layer > layer:
                found.append(
                    f"{module} ({LAYERS[layer][0]}) imports {target} ({LAYERS[target_layer][0]})"
                )
            elif (
                target_layer == layer
                and LAYERS[layer][0] == INDEPENDENT
                and target_prefix != prefix
            ):
                found.append(f"{module} imports {target}: {prefix} and {target_prefix} are apart")
    found.extend(f"import cycle among {', '.join(group)}" for group in _cycles(graph))
    return found


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The groups of modules that import each other round a cycle (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def main() -> int:
    found = breaches()
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
