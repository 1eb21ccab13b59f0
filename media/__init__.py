"""crcgw media: the numpy video and audio path and its aiortc tracks.

- :mod:`media.params`, :mod:`media.negotiation`: room media parameters, SDP negotiation;
- :mod:`media.layouts`, :mod:`media.compositor`, :mod:`media.scaling`, :mod:`media.pacing`:
  layout geometry, the compositor and its per-tile kernels (:mod:`media.kernels` for exact
  ratios, :mod:`media.separable` for any ratio), framerate pacing;
- :mod:`media.mixer`, :mod:`media.speaker`, :mod:`media.resampler`: audio mixing with mix-minus
  and limiter, active-speaker detection, 8/16/48 kHz resampling;
- :mod:`media.tracks`: aiortc tracks built on them;
- :mod:`media.benchmark_video`, :mod:`media.benchmark_pipeline`, :mod:`media.benchmark_audio`:
  the side-by-side measurements of ``crcgw media bench``; :mod:`media.drawing`,
  :mod:`media.testpattern`, :mod:`media.colour`;
- :mod:`media.rtpstats`, :mod:`media.quality`: RTP statistics and MOS for capture analysis.

Never imports :mod:`gateway` or :mod:`api_client` (``tests/test_layering.py`` enforces it).
"""
