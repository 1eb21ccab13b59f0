"""Pagination as iterators over items.

Zoom pages with ``next_page_token`` (empty or absent when done; ``page_size`` up to 300 for light
calls). PortSIP pages with ``skip``/``top`` (``top`` 1..100) and answers ``{count, items}``.
A :class:`PageSpec` says how to get the items of a page and the call for the next one; the
pagers send the calls and yield items, page after page, to the end.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from api_client._call import Call

__all__ = ["AsyncPager", "PageSpec", "SyncPager", "skip_top_pages", "token_pages"]

P = TypeVar("P")
T = TypeVar("T")


@dataclass(frozen=True)
class PageSpec(Generic[P, T]):
    """The first call, how to read items from a page, and how to get the next call (or None)."""

    first: Call[P]
    items: Callable[[P], Sequence[T]]
    next_call: Callable[[Call[P], P], Call[P] | None]


def token_pages(first: Call[P], items: Callable[[P], Sequence[T]]) -> PageSpec[P, T]:
    """Zoom's ``next_page_token`` paging (the page model has a ``next_page_token`` field)."""

    def next_call(call: Call[P], page: P) -> Call[P] | None:
        token = getattr(page, "next_page_token", None)
        if not token or not items(page):
            return None
        return call.with_params(next_page_token=token)

    return PageSpec(first, items, next_call)


def skip_top_pages(first: Call[P], items: Callable[[P], Sequence[T]]) -> PageSpec[P, T]:
    """PortSIP's ``skip``/``top`` paging (the page model has ``count``, the total)."""

    def next_call(call: Call[P], page: P) -> Call[P] | None:
        got = len(items(page))
        params: dict[str, Any] = dict(call.params or {})
        skip = int(params.get("skip") or 0) + got
        count = getattr(page, "count", None)
        if got == 0 or (count is not None and skip >= count):
            return None
        if count is None and got < int(params.get("top") or 100):
            return None
        return call.with_params(skip=skip)

    return PageSpec(first, items, next_call)


class AsyncPager(Generic[P, T]):
    """``async for item in pager`` walks every page; :meth:`pages` yields whole pages."""

    def __init__(self, send: Callable[[Call[P]], Awaitable[P]], spec: PageSpec[P, T]) -> None:
        self._send = send
        self._spec = spec

    async def pages(self) -> AsyncGenerator[P, None]:
        call: Call[P] | None = self._spec.first
        while call is not None:
            page = await self._send(call)
            yield page
            call = self._spec.next_call(call, page)

    async def _items(self) -> AsyncGenerator[T, None]:
        async with aclosing(self.pages()) as pages:
            async for page in pages:
                for item in self._spec.items(page):
                    yield item

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def to_list(self, limit: int | None = None) -> list[T]:
        """Collect items (at most ``limit``), fetching only the pages needed."""
        out: list[T] = []
        async with aclosing(self._items()) as items:
            async for item in items:
                if limit is not None and len(out) >= limit:
                    break
                out.append(item)
        return out


class SyncPager(Generic[P, T]):
    """``for item in pager`` walks every page; :meth:`pages` yields whole pages."""

    def __init__(self, send: Callable[[Call[P]], P], spec: PageSpec[P, T]) -> None:
        self._send = send
        self._spec = spec

    def pages(self) -> Iterator[P]:
        call: Call[P] | None = self._spec.first
        while call is not None:
            page = self._send(call)
            yield page
            call = self._spec.next_call(call, page)

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from self._spec.items(page)

    def to_list(self, limit: int | None = None) -> list[T]:
        """Collect items (at most ``limit``), fetching only the pages needed."""
        out: list[T] = []
        for item in self:
            if limit is not None and len(out) >= limit:
                break
            out.append(item)
        return out
