"""The package layering of crcgw, read from the import statements of every module.

- ``signaling`` and ``media`` never import ``gateway`` or ``api_client``;
- ``api_client`` never imports ``signaling`` or ``media``;
- only ``signaling/pjsua`` imports ``pjsua2``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "signaling": {"gateway", "api_client"},
    "media": {"gateway", "api_client"},
    "api_client": {"signaling", "media"},
}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_forbidden_layers(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules_of(package)
        for name in sorted(imported_top_levels(path) & FORBIDDEN[package])
    ]
    assert not offenders, "layering broken:\n" + "\n".join(offenders)


def test_pjsua2_is_imported_by_one_adapter_package_only() -> None:
    adapter = ROOT / "signaling" / "pjsua"
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("gateway", "signaling", "media", "api_client")
        for path in modules_of(package)
        if "pjsua2" in imported_top_levels(path) and adapter not in path.parents
    ]
    assert not offenders, "pjsua2 imported outside signaling/pjsua: " + ", ".join(offenders)


def test_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The checker itself must be able to fail."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom gateway.cli import main\nimport api_client.zoom as z\n")
    assert {"gateway", "api_client"} <= imported_top_levels(bad)
