"""crcgw media: the numpy video and audio path and its aiortc tracks.

Never imports :mod:`gateway` or :mod:`api_client` (``tests/test_layering.py`` enforces it).
"""
