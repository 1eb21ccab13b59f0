"""The async-context-manager shape shared by the peer, the gatekeeper and the RAS client."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["AsyncService"]


class AsyncService:
    """``async with service:`` starts it and always closes it; ``close()`` is idempotent."""

    async def start(self) -> Self:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
