"""``crcgw media``: the numpy media path: benchmarks, layout drawings, room media parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from gateway.cli.output import console, emit_json, fail, print_table

__all__ = ["register"]

app = typer.Typer(
    help="The numpy media path: compositor/mixer benchmarks, layout drawings, SDP parameters.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


METHODS = ("crcgw", "ffmpeg", "opencv", "opencv-lin")


def _video_rows(results: list[Any]) -> list[tuple[object, ...]]:
    return [
        (
            r.source,
            r.layout,
            f"{r.width}x{r.height}",
            *(_fmt(r.fps[m]) for m in METHODS),
            f"{r.ratio('ffmpeg'):.2f}",
            f"{r.ratio_opencv():.2f}",
            *(f"{r.psnr_db[m]:.1f}" for m in ("crcgw", "ffmpeg", "opencv-lin")),
            f"{100 * r.bandwidth_fraction['crcgw']:.0f}",
        )
        for r in results
    ]


QUICK_VIDEO = ("1920x1080,720x1280,mixed", "LAYOUT4,LAYOUT9", "1280x720")


def _video_cases(sources: str, layouts: str, sizes: str) -> list[tuple[str, str, tuple[int, int]]]:
    from media.benchmark_video import parse_source
    from media.layouts import Layout

    cases: list[tuple[str, str, tuple[int, int]]] = []
    try:
        chosen = [Layout.parse(name).value for name in layouts.split(",") if name.strip()]
    except ValueError as exc:
        fail(f"--layouts: {exc}")
    if "LAYOUT0" in chosen:
        fail("--layouts: expected fixed layouts (LAYOUT1..LAYOUT9), got LAYOUT0")
    outputs = []
    for size in sizes.split(","):
        w, _, h = size.strip().partition("x")
        if not (w.isdigit() and h.isdigit()) or int(w) % 2 or int(h) % 2 or int(w) < 16:
            fail(f"--sizes: expected even WIDTHxHEIGHT values like 1280x720, got {size!r}")
        outputs.append((int(w), int(h)))
    names = [name.strip() for name in sources.split(",") if name.strip()]
    for name in names:
        try:
            parse_source(name)
        except ValueError as exc:
            fail(f"--sources: {exc}")
    for name in names:
        for layout in chosen:
            for output in outputs:
                cases.append((name, layout, output))
    if not cases:
        fail("--sources/--layouts/--sizes: expected at least one case, got none")
    return cases


@app.command("bench")
def bench_command(
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="Fewer rounds; video cases default to 1920x1080, 720x1280 and mixed sources "
            "into LAYOUT4 and LAYOUT9 at 1280x720 (about 30 s).",
        ),
    ] = False,
    part: Annotated[
        str,
        typer.Option("--part", help="What to measure: all, video, audio, pipeline or video-rtp."),
    ] = "all",
    sources: Annotated[
        str | None,
        typer.Option(
            "--sources",
            help="Comma-separated source sets: WIDTHxHEIGHT (every tile alike) or mixed "
            "(default: CIF to 1080p, portrait 720x1280 and 1080x1920, and mixed).",
        ),
    ] = None,
    layouts: Annotated[
        str | None,
        typer.Option("--layouts", help="Comma-separated video layouts (default LAYOUT1..9)."),
    ] = None,
    sizes: Annotated[
        str | None,
        typer.Option("--sizes", help="Comma-separated output sizes (default 1280x720,1920x1080)."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Compositor vs FFmpeg (PyAV) vs OpenCV, mixer at N=3..200, resampler vs scipy and PyAV.

    One process, one thread, methods interleaved round by round; the best round counts.
    Video sources are I420 test pictures at the sizes rooms receive, one size per run or mixed.
    """
    if part == "video-rtp":  # one video call leg: PyAV codecs + RTP payload formats
        from gateway.cli.commands._media_video_rtp import video_rtp_part

        rtp_report: dict[str, Any] = {}
        video_rtp_part(rtp_report, quick, as_json)
        if as_json:
            emit_json(rtp_report)
        return
    if part not in ("all", "video", "audio", "pipeline"):
        fail(f"--part: expected all, video, audio, pipeline or video-rtp, got {part!r}")
    from media.benchmark_audio import run_mixer, run_resampler
    from media.benchmark_video import (
        MIXED_SOURCES,
        SOURCE_SIZES,
        VIDEO_LAYOUTS,
        copy_rate,
        run_video,
        single_thread,
    )

    defaults = (
        QUICK_VIDEO
        if quick
        else (
            ",".join([*(f"{w}x{h}" for w, h in SOURCE_SIZES), "mixed"]),
            ",".join(VIDEO_LAYOUTS),
            "1280x720,1920x1080",
        )
    )
    cases = _video_cases(sources or defaults[0], layouts or defaults[1], sizes or defaults[2])
    single_thread()
    rounds = 3 if quick else 5
    mixed = ",".join(f"{w}x{h}" for w, h in MIXED_SOURCES)
    report: dict[str, Any] = {
        "threads": 1,
        "sources": "yuv420p test pictures; mixed = " + mixed,
        "rounds": rounds,
    }
    if part in ("all", "video"):
        rate = copy_rate()
        report["copy_rate_gbps"] = round(rate / 1e9, 2)
        if not as_json:
            console.print(f"numpy copy rate: {rate / 1e9:.1f} GB/s (read + write)")
        video = run_video(cases, rounds=rounds, frames=8 if quick else 12, rate=rate)
        report["video"] = [r.as_dict() for r in video]
        if not as_json:
            print_table(
                "compositor: frames per second, 1 thread; x = crcgw fps / other fps "
                "(x ocv: the faster of opencv and opencv-lin); dB: PSNR vs float64 reference; "
                "% bw: share of the copy-rate limit",
                (
                    "source",
                    "layout",
                    "output",
                    *METHODS,
                    "x ffmpeg",
                    "x ocv",
                    "dB crcgw",
                    "dB ffmpeg",
                    "dB ocv-lin",
                    "% bw",
                ),
                _video_rows(video),
            )
    if part in ("all", "pipeline"):
        _pipeline_part(report, quick, as_json)
    if part in ("all", "audio"):
        mixer = run_mixer(rounds=rounds, ticks=50 if quick else 200)
        report["mixer"] = [m.as_dict() for m in mixer]
        resampler = run_resampler(rounds=rounds)
        report["resampler"] = [r.as_dict() for r in resampler]
        if not as_json:
            print_table(
                "mixer: mix-minus + full mix + limiter, 48 kHz, 20 ms tick",
                (
                    "participants",
                    "scenario",
                    "back end",
                    "best us/tick",
                    "median us/tick",
                    "x real time",
                    "rows limited",
                ),
                (
                    (
                        m.participants,
                        m.scenario,
                        m.backend,
                        f"{m.best_us:.1f}",
                        f"{m.median_us:.1f}",
                        _fmt(m.x_realtime),
                        m.limited_rows,
                    )
                    for m in mixer
                ),
            )
            print_table(
                "resampler: 1 s of a 1 kHz tone",
                ("from", "to", "method", "ms per s", "x real time", "SNR dB"),
                (
                    (
                        r.rate_in,
                        r.rate_out,
                        r.method,
                        f"{r.ms_per_second:.3f}",
                        _fmt(r.x_realtime),
                        f"{r.snr_db:.1f}",
                    )
                    for r in resampler
                ),
            )
    if as_json:
        emit_json(report)


def _pipeline_part(report: dict[str, Any], quick: bool, as_json: bool) -> None:
    import av

    from media.benchmark_pipeline import PIPELINE_CASES, STAGES, run_pipeline

    try:
        av.codec.Codec("libx264", "w")
    except Exception:  # noqa: BLE001 - PyAV raises different errors by version
        fail("--part pipeline: needs PyAV with the libx264 encoder, which this PyAV lacks")
    cases = PIPELINE_CASES[:1] + PIPELINE_CASES[4:5] if quick else PIPELINE_CASES
    results = run_pipeline(cases, rounds=1 if quick else 3, frames=20 if quick else 30)
    report["pipeline"] = [r.as_dict() for r in results]
    if as_json:
        return

    def shares(r: Any, method: str) -> str:
        return " / ".join(f"{100 * r.stages[method].get(s, 0.0):.0f}" for s in STAGES[method])

    print_table(
        "pipeline: H.264 decode (PyAV) -> compose -> libx264 ultrafast/zerolatency, 30 fps, "
        "1 thread; x ffmpeg = ffmpeg CPU ms / crcgw CPU ms",
        (
            "layout",
            "source",
            "output",
            "fps crcgw",
            "fps ffmpeg",
            "1-core fps crcgw",
            "1-core fps ffmpeg",
            "CPU ms crcgw",
            "CPU ms ffmpeg",
            "x ffmpeg",
            "crcgw % " + "/".join(STAGES["crcgw"]),
            "ffmpeg % " + "/".join(STAGES["ffmpeg"]),
        ),
        (
            (
                r.layout,
                "{}x{}".format(*r.source),
                "{}x{}".format(*r.output),
                _fmt(r.fps["crcgw"]),
                _fmt(r.fps["ffmpeg"]),
                _fmt(r.cpu_fps("crcgw")),
                _fmt(r.cpu_fps("ffmpeg")),
                f"{r.cpu_ms['crcgw']:.2f}",
                f"{r.cpu_ms['ffmpeg']:.2f}",
                f"{r.ratio():.2f}",
                shares(r, "crcgw"),
                shares(r, "ffmpeg"),
            )
            for r in results
        ),
    )


@app.command("draw-layouts")
def draw_layouts_command(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory for the PNG files.", file_okay=False)
    ] = Path("docs/layouts"),
    width: Annotated[int, typer.Option(help="Canvas width (even).")] = 640,
    height: Annotated[int, typer.Option(help="Canvas height (even).")] = 360,
    as_json: Json = False,
) -> None:
    """Draw every layout (LAYOUT0 as a sheet for 1..9 participants) to PNG with the compositor."""
    from media.drawing import draw_layouts

    try:
        paths = draw_layouts(out, width, height)
    except ValueError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write to {out}: {exc.strerror or exc}")
    if as_json:
        emit_json([str(p) for p in paths])
    else:
        print_table("layout drawings", ("file",), ((str(p),) for p in paths))


@app.command("params")
def params_command(
    width: Annotated[int, typer.Option(help="Room width, 144..1920.")] = 1280,
    height: Annotated[int, typer.Option(help="Room height, 144..1920.")] = 720,
    bitrate: Annotated[int, typer.Option(help="Video bitrate in kbps, 128..10240.")] = 1024,
    framerate: Annotated[int, typer.Option(help="Frames per second, 5..30.")] = 15,
    layout: Annotated[str, typer.Option(help="LAYOUT0, 1, 2, 3, 4, 6 or 9.")] = "LAYOUT0",
    capacity: Annotated[int, typer.Option(help="Participants, 1..200.")] = 9,
    remote_sdp: Annotated[
        Path | None,
        typer.Option(
            "--remote-sdp", help="Negotiate against this remote SDP file.", dir_okay=False
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Validate room media parameters; print the SDP video lines and each tile's bitrate share."""
    from media.layouts import Layout, resolve_layout, tile_rects
    from media.negotiation import negotiate, sdp_video_lines, tile_bitrates
    from media.params import MediaParams

    try:
        params = MediaParams(
            width=width,
            height=height,
            bitrate_kbps=bitrate,
            framerate=framerate,
            layout=Layout.parse(layout),
            capacity=capacity,
        )
        send: Any = params
        if remote_sdp is not None:
            try:
                text = remote_sdp.read_text(encoding="utf-8")
            except OSError as exc:
                fail(f"cannot read {remote_sdp}: {exc.strerror or exc}")
            send = negotiate(params, text)
        lines = sdp_video_lines(send)
        shown = resolve_layout(params.layout, min(9, params.capacity))
        tiles = tile_rects(shown, send.width, send.height)
        shares = tile_bitrates(send.bitrate_kbps, tiles)
    except ValueError as exc:
        fail(str(exc))
    data: dict[str, Any] = {
        "params": params.as_dict(),
        "send": {
            "width": send.width,
            "height": send.height,
            "framerate": send.framerate,
            "bitrate_kbps": send.bitrate_kbps,
        },
        "sdp": lines,
        "tiles": [
            {"tile": i + 1, "x": t.x, "y": t.y, "w": t.w, "h": t.h, "kbps": kbps}
            for i, (t, kbps) in enumerate(zip(tiles, shares, strict=True))
        ],
        "layout": shown.value,
    }
    if as_json:
        emit_json(data)
        return
    print_table("send parameters", ("field", "value"), data["send"].items())
    print_table("SDP video lines", ("line",), ((escape(line),) for line in lines))
    print_table(
        f"tiles of {shown.value}",
        ("tile", "x", "y", "w", "h", "kbps"),
        ((t["tile"], t["x"], t["y"], t["w"], t["h"], t["kbps"]) for t in data["tiles"]),
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="media")
