"""Video RTP streams (H.264, VP8) carried by crcgw beside pjsua2's audio; see docs/video.md.

Media only: this package knows nothing of SIP. Signaling builds the SDP, then drives a
:class:`VideoStream` (``start``, ``update`` on re-INVITE/hold, ``request_keyframe``,
``force_keyframe``, ``stats``, ``save_snapshot``, ``stop``).
"""

from media.video.codec import VideoCodec
from media.video.sources import ComposedSource, FrameSource, TestPatternSource, layout_for
from media.video.stats import VideoStats
from media.video.stream import DIRECTIONS, VideoStream

__all__ = [
    "DIRECTIONS",
    "ComposedSource",
    "FrameSource",
    "TestPatternSource",
    "VideoCodec",
    "VideoStats",
    "VideoStream",
    "layout_for",
]
