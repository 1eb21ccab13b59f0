"""Capture containers: what the numpy scan reads itself, and what Wireshark's ``editcap``
converts first.

The scan (:mod:`gateway.analysis.pcapscan`) reads pcap (micro- and nanosecond, either byte
order), pcapng and gzip-compressed files of those. Everything else tshark reads (Microsoft
NetMon, Sun snoop, Endace ERF, HP-UX nettl, 5Views, K12, ...) is converted to pcapng by
``editcap -F pcapng`` from the same Wireshark suite, once, into the analysis' temporary folder;
tshark then reads the converted file too, so both see the same frames with the same numbers.
Where pcapng cannot hold a format's per-packet encapsulation (HP-UX nettl, K12 text), editcap is
asked for Ethernet frames (``-T ether``) and tshark reads the original file instead, so that it
still judges every frame as it would on its own (the frames keep their numbers).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Protocol

from gateway.analysis.errors import CaptureError

__all__ = ["NATIVE_MAGICS", "Folder", "Readable", "is_native", "readable_capture"]

NATIVE_MAGICS = frozenset({
    b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",
    b"\x0a\x0d\x0d\x0a",
})
_GZIP = b"\x1f\x8b"


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            head = f.read(4)
            if head[:2] != _GZIP:
                return head
            import gzip  # only for compressed files (its import is a few ms)

            f.seek(0)
            with gzip.open(f) as z:
                return z.read(4)
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        detail = getattr(exc, "strerror", None) or exc
        raise CaptureError(f"cannot read {path}: {detail}") from exc


def is_native(path: Path) -> bool:
    """Whether the scan reads ``path`` as it is (pcap or pcapng, possibly gzip-compressed)."""
    return _head(path) in NATIVE_MAGICS


class Readable(NamedTuple):
    scan: Path
    """What the header scan reads."""
    exact: bool
    """Whether tshark may read :attr:`scan` too (else it reads the original file, whole)."""


class Folder(Protocol):
    """Where the converted file goes (a :class:`Path`, or a folder made on first use)."""

    def __truediv__(self, name: str) -> Path: ...


def readable_capture(path: Path, workdir: Folder) -> Readable:
    """``path`` itself when the scan reads it, else a pcapng copy made by ``editcap``."""
    if is_native(path):
        return Readable(path, True)
    import shutil
    import subprocess

    editcap = shutil.which("editcap")
    if editcap is None:
        raise CaptureError(f"{path} is not a pcap or pcapng file, and editcap (Debian package "
                           "'wireshark-common') is not installed to convert it")
    out = workdir / "converted.pcapng"
    exact = True
    proc = subprocess.run([editcap, "-F", "pcapng", str(path), str(out)],
                          capture_output=True, text=True, errors="replace", timeout=600)
    if proc.returncode != 0 and "can't be written" in proc.stderr:
        exact = False
        proc = subprocess.run([editcap, "-F", "pcapng", "-T", "ether", str(path), str(out)],
                              capture_output=True, text=True, errors="replace", timeout=600)
    if proc.returncode != 0 or not out.exists():
        if "isn't a capture file" in proc.stderr or "unknown file format" in proc.stderr.lower():
            raise CaptureError(f"{path} is not a capture file (no format Wireshark reads)")
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        detail = lines[0] if lines else f"editcap exited with {proc.returncode}"
        raise CaptureError(f"cannot convert {path}: {detail}")
    return Readable(out, exact)
