"""The Pygame floor view (issue 8): network map and floor levels, playback of recorded runs,
headless frame export. Importing this package does not import pygame; the renderer modules do."""

from __future__ import annotations

__all__ = ["scene", "render", "frames", "app"]
