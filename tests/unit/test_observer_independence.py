"""The outside observer must stand for another system: it may import nothing of the project."""

import ast
from pathlib import Path

OBSERVER = Path(__file__).resolve().parents[1] / "observer" / "observer.py"


def test_observer_imports_nothing_of_the_project():
    tree = ast.parse(OBSERVER.read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported.isdisjoint({"contracts", "runtime", "services", "tests", "bench"}), imported
    assert {"nats", "jsonschema", "cloudevents"} <= imported
