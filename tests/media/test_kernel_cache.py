"""The compiled media kernels are cached per version of the whole media package's sources."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import media
from media import _numba, fused_rows, kernels, mixing_kernels, vertical_pass

pytestmark = pytest.mark.skipif(not _numba.HAVE_NUMBA, reason="Numba is not installed")

ROOT = Path(media.__file__).resolve().parent


def test_every_media_kernel_is_cached_under_the_package_digest() -> None:
    folder = "kernels-" + _numba.kernel_digest()
    for dispatcher in (
        fused_rows.widen_then_blend,
        vertical_pass.vertical,
        kernels.box3,
        mixing_kernels.limit_rows,
    ):
        assert Path(dispatcher._cache._cache_path).name == folder, dispatcher


def test_a_change_in_any_media_file_moves_the_cache(tmp_path: Path) -> None:
    """Numba alone checks the file of the function it loads; a kernel inlines code from other
    files, so a change to one of those must reach a new cache too."""
    copy = tmp_path / "media"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    probe = "import media._numba as n; print(n.kernel_digest())"

    def digest() -> str:
        env = {**os.environ, "PYTHONPATH": str(tmp_path)}
        run = subprocess.run(
            [sys.executable, "-c", probe],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        return run.stdout.strip()

    before = digest()
    assert before == _numba.kernel_digest()  # the same sources, the same digest
    with (copy / "permute_rows.py").open("a") as f:
        f.write("\n# a change in a module that others inline\n")
    assert digest() != before
