"""Import boundaries, checked on the source: what each layer may depend on, directly or through others.

Every project module is parsed with `ast`; its imports (relative ones resolved, parent packages
included, since importing `a.b.c` runs `a/__init__` and `a/b/__init__`) are followed through the
project, so a domain module that imports a helper that imports pymongo fails as if it imported
pymongo itself. The failure names the chain of imports that leads there.
"""

from __future__ import annotations

import ast
import dataclasses
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = ("shared", "services", "tools", "bench")

TRANSPORT = ("faststream", "aiokafka", "pymongo", "bson", "motor", "structlog", "fastapi", "starlette", "uvicorn")
PLUMBING = ("shared.messaging", "shared.storage", "shared.service")


@dataclasses.dataclass(frozen=True)
class Graph:
    """Project modules, and for each the project modules and external packages it imports directly."""

    internal: dict[str, set[str]]
    external: dict[str, set[str]]

    @classmethod
    def of(cls, root: Path, packages: Iterable[str]) -> Graph:
        files = {_module_name(path, root): path for package in packages for path in (root / package).rglob("*.py")}
        internal: dict[str, set[str]] = {}
        external: dict[str, set[str]] = {}
        for name, path in files.items():
            # Importing a module first runs the __init__ of every package above it.
            parents = {".".join(name.split(".")[:n]) for n in range(1, name.count(".") + 1)}
            targets = set(_imports(name, path, set(files))) | parents
            internal[name] = {t for t in targets if t in files} - {name}
            external[name] = {t.split(".")[0] for t in targets if t not in files and not _is_project(t, packages)}
        return cls(internal, external)

    def modules(self, *prefixes: str) -> list[str]:
        return sorted(m for m in self.internal if any(_within(m, p) for p in prefixes))

    def path_to(self, start: str, forbidden: Callable[[str], bool]) -> list[str] | None:
        """The shortest import chain from `start` to a module or external package that `forbidden`
        accepts (internal modules by dotted name, external packages by top-level name)."""
        parent: dict[str, str | None] = {start: None}
        queue = deque([start])
        while queue:
            module = queue.popleft()
            for target in sorted(self.external[module]) + sorted(self.internal[module]):
                if forbidden(target):
                    chain = [target, module]
                    while (step := parent[chain[-1]]) is not None:
                        chain.append(step)
                    return chain[::-1]
                if target in self.internal and target not in parent:
                    parent[target] = module
                    queue.append(target)
        return None


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _is_project(module: str, packages: Iterable[str]) -> bool:
    return any(_within(module, package) for package in packages)


def _imports(name: str, path: Path, known: set[str]) -> Iterable[str]:
    """Every module `name` imports, with the packages that importing it initialises."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(name, is_package, node.module, node.level)
            # `from a import b` imports a, and a.b too when b is a module rather than a name in a.
            targets = [base, *(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known)]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            yield from (".".join(parts[:n]) for n in range(1, len(parts) + 1))


def _absolute(name: str, is_package: bool, module: str | None, level: int) -> str:
    if level == 0:
        return module or ""
    package = name.split(".") if is_package else name.split(".")[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _violations(graph: Graph, modules: list[str], forbidden: Callable[[str], bool]) -> list[str]:
    chains = (graph.path_to(module, forbidden) for module in modules)
    return [" -> ".join(chain) for chain in chains if chain]


@pytest.fixture(scope="module")
def graph() -> Graph:
    return Graph.of(ROOT, PROJECT_PACKAGES)


def _forbidden(external: Iterable[str] = (), internal: Iterable[str] = ()) -> Callable[[str], bool]:
    external, internal = tuple(external), tuple(internal)
    return lambda target: target in external or any(_within(target, prefix) for prefix in internal)


def _domain_modules(graph: Graph) -> list[str]:
    services = sorted({m.split(".")[1] for m in graph.modules("services") if m.count(".") >= 1})
    return graph.modules("shared.domain", *(f"services.{s}.domain" for s in services))


def test_the_domain_knows_nothing_of_transport_storage_or_the_service_runtime(graph: Graph) -> None:
    domain = _domain_modules(graph)
    assert "services.inventory.domain.evolve" in domain, "the scan found no domain modules"
    assert _violations(graph, domain, _forbidden(TRANSPORT, PLUMBING)) == []


def test_the_contract_depends_on_no_plumbing(graph: Graph) -> None:
    contract = graph.modules("shared.contract")
    assert "shared.contract.envelope" in contract
    assert _violations(graph, contract, _forbidden(TRANSPORT, (*PLUMBING, "services"))) == []


def test_the_shared_kit_depends_on_no_service(graph: Graph) -> None:
    assert _violations(graph, graph.modules("shared"), _forbidden(internal=["services", "tools", "bench"])) == []


def test_no_service_imports_another_service(graph: Graph) -> None:
    services = sorted({m.split(".")[1] for m in graph.modules("services") if m.count(".") >= 1})
    assert {"inventory", "actions"} <= set(services)
    found = []
    for service in services:
        others = [f"services.{other}" for other in services if other != service]
        found += _violations(graph, graph.modules(f"services.{service}"), _forbidden(internal=others))
    assert found == []


# ---------------------------------------------------------------- the checker itself can fail


def _tree(tmp_path: Path, files: dict[str, str]) -> Graph:
    for relative, source in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return Graph.of(tmp_path, ("shared", "services"))


def test_a_transitive_import_of_a_driver_is_found_with_its_chain(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "services/__init__.py": "",
            "services/billing/__init__.py": "",
            "services/billing/domain/__init__.py": "",
            "services/billing/domain/rules.py": "from . import helpers\n",
            "services/billing/domain/helpers.py": "from shared.storage.mongo import client\n",
            "shared/__init__.py": "",
            "shared/storage/__init__.py": "",
            "shared/storage/mongo.py": "import pymongo\nclient = None\n",
        },
    )
    domain = _domain_modules(graph)
    assert _violations(graph, domain, _forbidden(external=["pymongo"])) == [
        "services.billing.domain.helpers -> shared.storage.mongo -> pymongo",
        "services.billing.domain.rules -> services.billing.domain.helpers -> shared.storage.mongo -> pymongo",
    ]
    assert _violations(graph, domain, _forbidden(internal=PLUMBING)) == [
        "services.billing.domain.helpers -> shared.storage",
        "services.billing.domain.rules -> services.billing.domain.helpers -> shared.storage",
    ]


def test_a_package_init_and_a_sibling_service_count_as_imports(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "services/__init__.py": "",
            "services/a/__init__.py": "import structlog\n",
            "services/a/domain/__init__.py": "",
            "services/a/domain/state.py": "X = 1\n",
            "services/b/__init__.py": "",
            "services/b/app.py": "from services.a.domain.state import X\n",
        },
    )
    assert graph.path_to("services.a.domain.state", _forbidden(external=["structlog"])) == [
        "services.a.domain.state",
        "services.a",
        "structlog",
    ]
    assert graph.path_to("services.b.app", _forbidden(internal=["services.a"])) == ["services.b.app", "services.a"]
