"""pydantic v2 models for every endpoint: answers tolerate unknown fields, requests do not."""

from api_client.models._base import ApiModel as ApiModel
from api_client.models._base import RequestModel as RequestModel
from api_client.models._base import Secret as Secret
from api_client.models._page import ZoomPage as ZoomPage
from api_client.models.crc import *  # noqa: F403
from api_client.models.crc import __all__ as _crc
from api_client.models.crc_rooms import *  # noqa: F403
from api_client.models.crc_rooms import __all__ as _crc_rooms
from api_client.models.devices import *  # noqa: F403
from api_client.models.devices import __all__ as _devices
from api_client.models.live import *  # noqa: F403
from api_client.models.live import __all__ as _live
from api_client.models.meetings import *  # noqa: F403
from api_client.models.meetings import __all__ as _meetings
from api_client.models.numbers import *  # noqa: F403
from api_client.models.numbers import __all__ as _numbers
from api_client.models.porting import *  # noqa: F403
from api_client.models.porting import __all__ as _porting
from api_client.models.rooms import *  # noqa: F403
from api_client.models.rooms import __all__ as _rooms
from api_client.models.trunk import SipTrunkSettings as SipTrunkSettings

__all__ = sorted(
    {
        "ApiModel",
        "RequestModel",
        "Secret",
        "SipTrunkSettings",
        "ZoomPage",
        *_crc,
        *_crc_rooms,
        *_devices,
        *_live,
        *_meetings,
        *_numbers,
        *_porting,
        *_rooms,
    }
)
