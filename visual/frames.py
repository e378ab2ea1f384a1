"""Headless frames: PNG files every so often of simulated time, and an animated GIF when Pillow is
there (for reports). Works with ``SDL_VIDEODRIVER=dummy``: nothing here opens a window."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from visual.live import LiveScene
from visual.render import Renderer, pygame
from visual.scene import Scene

__all__ = ["write_frames", "write_live_frame", "surface_rgb"]


def surface_rgb(surface: pygame.Surface) -> np.ndarray:
    """The pixels of a surface as an (height, width, 3) array."""
    return np.asarray(pygame.surfarray.array3d(surface)).swapaxes(0, 1)


def write_frames(scene: Scene, folder: Path, every: float, level: str = "floor", warehouse: str | None = None,
                 size: tuple[int, int] = (1100, 700), max_frames: int = 2000, gif: bool = True) -> list[Path]:
    """Frames at 0, every, 2*every, ... up to the horizon, as frame-NNNNN.png; ``frames.gif`` too
    when Pillow is installed. Returns the PNG paths."""
    folder.mkdir(parents=True, exist_ok=True)
    renderer = Renderer(size)
    wh = warehouse or next(iter(scene.floors), None)
    if level == "floor" and wh is None:
        level = "network"
    times = np.arange(0.0, scene.horizon + 1e-9, every)[:max_frames]
    paths: list[Path] = []
    images = []
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        Image = None  # type: ignore[assignment]  # noqa: N806
    for k, t in enumerate(times):
        t = float(t)
        if level == "floor":
            surf = renderer.draw_floor(scene.floor(wh, t))  # type: ignore[arg-type]
        else:
            surf = renderer.draw_network(scene.network(t))
        path = folder / f"frame-{k:05d}.png"
        pygame.image.save(surf, str(path))
        paths.append(path)
        if gif and Image is not None:
            images.append(Image.fromarray(surface_rgb(surf)).convert("P", palette=Image.Palette.ADAPTIVE))
    if images:
        images[0].save(folder / "frames.gif", save_all=True, append_images=images[1:], duration=100, loop=0)
    return paths


def write_live_frame(scene: LiveScene, folder: Path, level: str = "floor", warehouse: str | None = None,
                     size: tuple[int, int] = (1100, 700)) -> Path:
    """The live twin's current state as ``live-<version>.png`` (the floor, or the map without one)."""
    folder.mkdir(parents=True, exist_ok=True)
    renderer = Renderer(size)
    wh = warehouse or next(iter(scene.floors), None)
    if level == "floor" and wh is not None:
        surf = renderer.draw_floor(scene.floor(wh))
    else:
        surf = renderer.draw_network(scene.network())
    path = folder / f"live-{scene.version:06d}.png"
    pygame.image.save(surf, str(path))
    return path
