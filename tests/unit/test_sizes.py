"""House rule (issue 23): no class over 400 lines, no function over 60, anywhere in popool_gui."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "popool_gui"
MAX_CLASS, MAX_FUNCTION = 400, 60


def _too_long() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                limit = MAX_CLASS
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                limit = MAX_FUNCTION
            else:
                continue
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > limit:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}: {lines} > {limit}")
    return found


def test_no_class_or_function_over_its_size() -> None:
    assert _too_long() == []
