"""Package hygiene: the generated sync twin is current, exports are complete and sorted."""

from __future__ import annotations

import api_client
import api_client.models
from api_client import _unasync


def test_sync_resources_are_generated_from_the_async_ones() -> None:
    assert _unasync.main(["--check"]) == 0
    generated = _unasync.generate(_unasync.SOURCE.read_text(encoding="utf-8"))
    assert "async def" not in generated and "await " not in generated
    assert "class SyncCrc" in generated


def test_public_exports_are_sorted_and_importable() -> None:
    for module in (api_client, api_client.models):
        assert module.__all__ == sorted(module.__all__)
        for name in module.__all__:
            assert getattr(module, name) is not None


def test_every_public_error_is_an_api_error() -> None:
    for name in api_client.__all__:
        obj = getattr(api_client, name)
        if isinstance(obj, type) and name.endswith("Error"):
            assert issubclass(obj, api_client.ApiError), name
