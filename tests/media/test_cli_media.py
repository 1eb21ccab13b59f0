"""``crcgw media``: parameters and SDP, layout drawings, the benchmark command; clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from gateway.cli import build_app
from gateway.cli.output import CliError

runner = CliRunner()
app = build_app()


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def crcgw(*args: str) -> Result:
    """Run ``crcgw media ...`` in-process; a CliError becomes exit code and stderr as in main()."""
    result = runner.invoke(app, ["media", *args])
    if isinstance(result.exception, CliError):
        return Result(
            result.exception.exit_code, result.stdout, f"crcgw: error: {result.exception}"
        )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, "")


def test_params_json_and_remote_negotiation(tmp_path: Path) -> None:
    result = crcgw("params", "--width", "1920", "--height", "1080", "--layout", "LAYOUT6", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["layout"] == "LAYOUT6" and len(data["tiles"]) == 6
    assert sum(t["kbps"] for t in data["tiles"]) == 1024
    assert "a=imageattr:96 send [x=1920,y=1080] recv [x=1920,y=1080]" in data["sdp"]
    remote = tmp_path / "remote.sdp"
    remote.write_text("v=0\r\nm=video 9 RTP/AVP 96\r\nb=AS:512\r\na=framerate:10\r\n")
    data = json.loads(crcgw("params", "--remote-sdp", str(remote), "--json").stdout)
    assert data["send"] == {"width": 1280, "height": 720, "framerate": 10, "bitrate_kbps": 512}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("params", "--width", "100"), "width: expected a value in 144..1920, got 100"),
        (("params", "--layout", "LAYOUT7"), "layout: expected one of LAYOUT0"),
        (("params", "--remote-sdp", "/nonexistent/remote.sdp"), "cannot read"),
        (("bench", "--part", "gpu"), "--part: expected all, video, audio, pipeline or video-rtp, got 'gpu'"),
        (("bench", "--sizes", "1281x720"), "--sizes: expected even WIDTHxHEIGHT values"),
        (("bench", "--layouts", "LAYOUT0"), "--layouts: expected fixed layouts"),
        (("bench", "--sources", "1280x721"), "--sources: source: expected mixed or an even"),
    ],
)
def test_bad_input_gets_a_clear_error(args: tuple[str, ...], message: str) -> None:
    result = crcgw(*args)
    assert result.returncode == 2, (args, result.stderr)
    assert message in result.stderr


def test_bad_input_from_the_real_command_line_is_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "media", "params", "--framerate", "60"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "crcgw: error: framerate: expected a value in 5..30, got 60"


def test_draw_layouts_writes_every_png(tmp_path: Path) -> None:
    result = crcgw(
        "draw-layouts", "--out", str(tmp_path), "--width", "320", "--height", "180", "--json"
    )
    assert result.returncode == 0, result.stderr
    paths = [Path(p) for p in json.loads(result.stdout)]
    assert [p.name for p in paths] == [f"LAYOUT{n}.png" for n in (0, 1, 2, 3, 4, 6, 9)]
    with Image.open(tmp_path / "LAYOUT4.png") as image:
        assert image.size == (320, 180)
    with Image.open(tmp_path / "LAYOUT0.png") as image:
        assert image.size == (3 * 320 + 24, 3 * 180 + 24)


def test_bench_command_measures_side_by_side() -> None:
    result = crcgw(
        "bench",
        "--quick",
        "--part",
        "video",
        "--sources",
        "720x1280,mixed",
        "--layouts",
        "LAYOUT4",
        "--sizes",
        "640x360",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    portrait, mixed = data["video"]
    assert portrait["source"] == "720x1280" and mixed["source"] == "mixed"
    row = portrait
    assert row["layout"] == "LAYOUT4" and row["output"] == "640x360"
    assert set(row["fps"]) == {"crcgw", "ffmpeg", "opencv", "opencv-lin"}
    assert min(row["fps"].values()) > 0
    # opencv-lin samples instead of averaging: it may alias below 40 dB at this ratio
    assert min(v for k, v in row["psnr_db"].items() if k != "opencv-lin") > 40
    assert row["psnr_db"]["opencv-lin"] > 30
    assert data["copy_rate_gbps"] > 0
