from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc import RTCPeerConnection
from aiortc.contrib.media import MediaRecorder

from media.colour import i420_planes, rgb_to_yuv
from media.tracks import CompositeVideoTrack, MixedAudioTrack
from tests.media.synthetic import ColourTrack, ToneTrack

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]


def centre_luma(frame: av.VideoFrame, track: CompositeVideoTrack, tile: int) -> int:
    y, _, _ = i420_planes(frame.to_ndarray(format="yuv420p"))
    rect = track.compositor.tile_rects(4)[tile]
    return int(y[rect.y + rect.h // 2, rect.x + rect.w // 2])


def tone_level(pcm: np.ndarray, rate: int, frequency: float) -> float:
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(pcm.size))) / pcm.size
    return float(spectrum[int(round(frequency * pcm.size / rate))])


async def collect_video(track: CompositeVideoTrack, count: int) -> list[av.VideoFrame]:
    frames = [await track.recv() for _ in range(count)]
    track.stop()
    return frames


def test_composite_track_paces_and_composes() -> None:
    inputs = [ColourTrack(c, fps=30 if i else 10) for i, c in enumerate(COLOURS)]
    track = CompositeVideoTrack(inputs, layout="LAYOUT4", width=320, height=180, framerate=15)
    frames = asyncio.run(collect_video(track, 8))
    assert [f.pts for f in frames] == [6000 * i for i in range(8)]
    assert (frames[-1].width, frames[-1].height) == (320, 180)
    for tile, colour in enumerate(COLOURS):
        assert abs(centre_luma(frames[-1], track, tile) - rgb_to_yuv(colour)[0]) <= 2
    assert track.slots[1].dropped > 0  # 30 fps into 15 fps
    assert track.slots[0].repeated > 0  # 10 fps into 15 fps


def test_a_participant_who_leaves_becomes_background_and_the_speaker_gets_a_border() -> None:
    inputs = [ColourTrack(COLOURS[0]), ColourTrack(COLOURS[1], frames=3)]
    track = CompositeVideoTrack(
        inputs,
        layout="LAYOUT4",
        width=320,
        height=180,
        framerate=15,
        speaker=lambda: 0,
        border_colour=(255, 255, 255),
    )
    frames = asyncio.run(collect_video(track, 8))
    assert abs(centre_luma(frames[-1], track, 1) - rgb_to_yuv((16, 16, 16))[0]) <= 1
    y, _, _ = i420_planes(frames[-1].to_ndarray(format="yuv420p"))
    rect = track.compositor.tile_rects(4)[0]
    assert y[rect.y + 1, rect.x + rect.w // 2] == rgb_to_yuv((255, 255, 255))[0]


async def collect_audio(track: MixedAudioTrack, count: int) -> np.ndarray:
    frames = [await track.recv() for _ in range(count)]
    track.stop()
    assert all(f.sample_rate == 16000 and f.samples == 320 for f in frames)
    assert [f.pts for f in frames] == [320 * i for i in range(count)]
    return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float64)


def test_mixed_audio_track_full_mix_and_mix_minus() -> None:
    full = asyncio.run(
        collect_audio(
            MixedAudioTrack([ToneTrack(440, 8000), ToneTrack(1000, 48000)], sample_rate=16000), 25
        )
    )
    tail = full[-4000:]
    assert tone_level(tail, 16000, 440) > 1000 and tone_level(tail, 16000, 1000) > 1000
    minus = asyncio.run(
        collect_audio(
            MixedAudioTrack(
                [ToneTrack(440, 8000), ToneTrack(1000, 48000)], sample_rate=16000, exclude=0
            ),
            25,
        )
    )
    tail = minus[-4000:]
    other = tone_level(tail, 16000, 1000)
    assert other > 1000
    assert tone_level(tail, 16000, 440) < other / 300  # own voice removed (> 50 dB down)


def test_active_speaker_from_the_mixer() -> None:
    async def run() -> int | None:
        track = MixedAudioTrack(
            [ToneTrack(300, 16000, 100), ToneTrack(500, 16000, 12000)], sample_rate=16000
        )
        for _ in range(40):
            await track.recv()
        track.stop()
        return track.active_speaker

    assert asyncio.run(run()) == 1


def test_media_recorder_writes_composed_png_frames_and_mixed_wav(tmp_path: Path) -> None:
    async def record() -> None:
        video = CompositeVideoTrack(
            [ColourTrack(c) for c in COLOURS], layout="LAYOUT4", width=320, height=180, framerate=15
        )
        audio = MixedAudioTrack([ToneTrack(440, 8000), ToneTrack(1000, 16000)], sample_rate=16000)
        pictures = MediaRecorder(str(tmp_path / "frame-%03d.png"))
        pictures.addTrack(video)
        sound = MediaRecorder(str(tmp_path / "mix.wav"))
        sound.addTrack(audio)
        await pictures.start()
        await sound.start()
        await asyncio.sleep(1.0)
        await pictures.stop()
        await sound.stop()

    asyncio.run(record())
    pngs = sorted(tmp_path.glob("frame-*.png"))
    assert len(pngs) >= 8
    with av.open(str(pngs[-1])) as container:
        rgb = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert rgb.shape == (180, 320, 3)
    for (x, y), colour in zip([(80, 45), (240, 45), (80, 135), (240, 135)], COLOURS, strict=True):
        assert np.abs(rgb[y, x].astype(int) - colour).max() <= 6
    with wave.open(str(tmp_path / "mix.wav")) as wav:
        rate, channels = wav.getframerate(), wav.getnchannels()
        assert wav.getsampwidth() == 2
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), np.int16).astype(np.float64)
    pcm = pcm[::channels]  # the recorder may store it as stereo at its own rate
    assert pcm.size >= 0.6 * rate
    tail = pcm[-rate // 2 :]
    assert tone_level(tail, rate, 440) > 100 and tone_level(tail, rate, 1000) > 100
    assert tone_level(tail, rate, 700) < 20  # and nothing much between them


def test_tracks_in_a_peer_connection_over_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    import aioice.ice

    # keep ICE on the loopback interface (aioice skips 127.0.0.1 by default)
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])

    async def call() -> tuple[str, av.VideoFrame, av.AudioFrame]:
        sender, receiver = RTCPeerConnection(), RTCPeerConnection()
        video = CompositeVideoTrack(
            [ColourTrack(c) for c in COLOURS], layout="LAYOUT4", width=320, height=180, framerate=15
        )
        audio = MixedAudioTrack([ToneTrack(440, 8000), ToneTrack(1000, 48000)], sample_rate=48000)
        sender.addTrack(video)
        sender.addTrack(audio)
        received: dict[str, asyncio.Future[object]] = {
            "video": asyncio.get_running_loop().create_future(),
            "audio": asyncio.get_running_loop().create_future(),
        }

        @receiver.on("track")
        def on_track(track: object) -> None:
            received[track.kind].set_result(track)  # type: ignore[attr-defined]

        try:
            await sender.setLocalDescription(await sender.createOffer())
            offer = sender.localDescription.sdp
            await receiver.setRemoteDescription(sender.localDescription)
            await receiver.setLocalDescription(await receiver.createAnswer())
            await sender.setRemoteDescription(receiver.localDescription)
            remote_video = await asyncio.wait_for(received["video"], 10)
            remote_audio = await asyncio.wait_for(received["audio"], 10)
            frame = None
            for _ in range(30):  # the first decoded frames may predate the colours
                frame = await asyncio.wait_for(remote_video.recv(), 10)  # type: ignore[attr-defined]
            sound = await asyncio.wait_for(remote_audio.recv(), 10)  # type: ignore[attr-defined]
            return offer, frame, sound  # type: ignore[return-value]
        finally:
            await sender.close()
            await receiver.close()
            video.stop()
            audio.stop()

    offer, frame, sound = asyncio.run(call())
    assert "m=video" in offer and "m=audio" in offer
    rgb = frame.to_ndarray(format="rgb24")
    h, w = rgb.shape[:2]
    assert (w, h) == (320, 180)
    assert np.abs(rgb[h // 4, w // 4].astype(int) - COLOURS[0]).max() <= 40
    assert np.abs(rgb[3 * h // 4, 3 * w // 4].astype(int) - COLOURS[3]).max() <= 40
    assert sound.sample_rate == 48000
