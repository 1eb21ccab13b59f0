"""The one "is this real Zoom?" test (api_client.realzoom.is_zoom_base), and that nothing else
in the project decides it on its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from api_client import ZoomCredentials
from api_client.realzoom import ZOOM_TOKEN_URL, is_zoom_base

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("url", "real"),
    [
        ("https://api.zoom.us/v2", True),
        ("https://API.Zoom.US/v2/", True),
        ("https://api.zoom.us:443/v2", True),
        ("https://api.zoom.us./v2", True),
        (" https://api.zoom.us ", True),
        ("https://zoom.us/v2", False),
        ("https://api.zoom.us.example.net/v2", False),
        ("https://notapi.zoom.us/v2", False),
        ("https://api.zoom.us@proxy.example/v2", False),  # user info, the host is the proxy
        ("http://127.0.0.1:8080/zoom.us/v2", False),
        ("http://127.0.0.1:8080/v2?host=api.zoom.us", False),
        ("api.zoom.us/v2", False),  # no scheme: not a URL the clients would call
        ("http://[::1/v2", False),  # unreadable
        ("", False),
    ],
)
def test_real_zoom_is_the_api_zoom_us_host_only(url: str, real: bool) -> None:
    assert is_zoom_base(url) is real


def test_token_endpoint_follows_the_same_answer() -> None:
    for base in ("https://api.zoom.us/v2", "https://api.zoom.us/v2/", "https://API.zoom.us"):
        assert ZoomCredentials("a", "b", "c", base_url=base).resolved_token_url() == ZOOM_TOKEN_URL
    emulator = ZoomCredentials("a", "b", "c", base_url="http://127.0.0.1:9/v2")
    assert emulator.resolved_token_url() == "http://127.0.0.1:9/oauth/token"


def _compares_with_zoom_host(tree: ast.AST) -> list[int]:
    """Lines where a string naming zoom.us is compared or searched (``==``, ``in``,
    ``startswith``...): a second, home-made "is this Zoom?" test."""
    lines = []
    for node in ast.walk(tree):
        operands: list[ast.expr] = []
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
            node.func.attr in ("startswith", "endswith", "find", "count", "index")
        ):
            operands = [node.func.value, *node.args]
        if any(isinstance(o, ast.Constant) and isinstance(o.value, str) and "zoom.us" in o.value
               for o in operands):
            lines.append(node.lineno)
    return lines


def test_no_other_module_decides_what_real_zoom_is() -> None:
    found = {}
    for package in ("api_client", "gateway", "signaling", "media"):
        for path in (REPO / package).rglob("*.py"):
            if path.name == "realzoom.py":
                continue
            lines = _compares_with_zoom_host(ast.parse(path.read_text(), str(path)))
            if lines:
                found[str(path.relative_to(REPO))] = lines
    assert found == {}, f"use api_client.realzoom.is_zoom_base instead: {found}"
    # the detector itself finds the kind of test it is meant to find
    assert _compares_with_zoom_host(ast.parse('x = "zoom.us" in url.lower()'))
    assert _compares_with_zoom_host(ast.parse('y = u.rstrip("/") == "https://api.zoom.us/v2"'))
