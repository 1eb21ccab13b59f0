"""I/O-free request builders: each function returns a :class:`~api_client._call.Call`.

The async and the sync clients send the same calls, so an endpoint is described once here.
Paths marked "seed (non-Zoom)" come from the user's documents and are served by the crcgw emulator
and compatible services, not by api.zoom.us.
"""
