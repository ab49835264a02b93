"""Converted BlazePose weights (float16 npz) and their provenance (MANIFEST.md).

Installed as ``posejax.models``; regenerate with ``python tools/convert_weights.py``.
"""
