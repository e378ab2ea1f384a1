"""The Pygame renderer: draws a floor or network snapshot onto a surface (pygame is imported only in
visual's renderer modules, as Gymnasium does: the rest of the twin never needs it).

Floors are drawn as one small image (a pixel per cell, made from numpy arrays) scaled up, so 5,000
bins cost one blit, not 5,000 rectangles; agents are circles on top; the side panel holds the KPIs,
a small live chart, machine tiles and the controls.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from twin.model.floor import AISLE, CHARGER, DOCK, RACK, STATION, WALL
from visual.scene import FloorSnapshot, NetworkSnapshot

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402  (after the prompt is hidden)

__all__ = ["Renderer", "fill_colour", "KIND_COLOURS", "MACHINE_COLOURS", "EMPTY", "FULL", "NO_ITEM", "AGENT",
           "PANEL_WIDTH",
           "VEHICLE", "ALARM", "ROAD", "MOVER_COLOURS"]

Colour = tuple[int, int, int]
KIND_COLOURS: dict[int, Colour] = {WALL: (45, 45, 55), AISLE: (228, 228, 222), RACK: (150, 150, 150),
                                   DOCK: (60, 110, 210), STATION: (150, 80, 200), CHARGER: (235, 195, 30)}
EMPTY: Colour = (215, 45, 40)
FULL: Colour = (35, 165, 70)
NO_ITEM: Colour = KIND_COLOURS[RACK]
AGENT: Colour = (20, 30, 120)
MACHINE_COLOURS: dict[str, Colour] = {"running": (35, 165, 70), "idle": (190, 190, 190), "down": (225, 25, 25),
                                      "maintenance": (245, 150, 0)}
MOVER_COLOURS: dict[str, Colour] = {"forklift": (255, 140, 0), "agv": (0, 170, 170), "technician": (120, 40, 160)}
VEHICLE: Colour = (20, 90, 200)
ALARM: Colour = (255, 0, 200)  # magenta: not one of the fill or machine colours
ROAD: Colour = (160, 160, 170)
BACKGROUND: Colour = (250, 250, 247)
PANEL: Colour = (32, 36, 44)
TEXT: Colour = (235, 235, 235)
PANEL_WIDTH = 260
_LUT = np.zeros((256, 3), dtype=np.uint8)
for _kind, _rgb in KIND_COLOURS.items():
    _LUT[_kind] = _rgb


def fill_colour(fill: np.ndarray) -> np.ndarray:
    """Bin colours for fill levels 0..1 (red when empty to green when full; grey without an item)."""
    f = np.clip(np.nan_to_num(fill, nan=0.0), 0.0, 1.0)[:, None]
    rgb = (np.array(EMPTY) * (1 - f) + np.array(FULL) * f).astype(np.uint8)
    rgb[np.isnan(fill)] = NO_ITEM
    return rgb


class Renderer:
    """Draws snapshots; keeps the view (zoom, pan) and what was drawn where (for clicks and tests)."""

    def __init__(self, size: tuple[int, int] = (1100, 700), surface: Any = None) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self.size = size
        self.surface = surface if surface is not None else pygame.Surface(size)
        self.font = pygame.font.Font(None, 18)
        self.big = pygame.font.Font(None, 24)
        self.zoom: float | None = None  # pixels per cell; None = fit the floor in the window
        self.pan = [0.0, 0.0]  # pixels
        self.hits: list[tuple[Any, str, Any]] = []  # (rect, kind, id)
        self._grid_shape: tuple[int, int] = (0, 0)
        self.map_point: Any = None  # map (x, y) -> pixel, as last drawn

    # -- geometry --------------------------------------------------------------------------------

    @property
    def area(self) -> tuple[int, int]:
        return self.size[0] - PANEL_WIDTH, self.size[1]

    def cell_px(self, shape: tuple[int, int]) -> float:
        if self.zoom is None:
            w, h = self.area
            return max(min((w - 20) / max(shape[1], 1), (h - 20) / max(shape[0], 1)), 1.0)
        return self.zoom

    def origin(self, shape: tuple[int, int]) -> tuple[float, float]:
        px = self.cell_px(shape)
        w, h = self.area
        return (w - shape[1] * px) / 2 + self.pan[0], (h - shape[0] * px) / 2 + self.pan[1]

    def cell_centre(self, row: float, col: float, shape: tuple[int, int] | None = None) -> tuple[int, int]:
        """Pixel at the centre of a cell (fractional cells for agents between cells)."""
        shape = shape or self._grid_shape
        px = self.cell_px(shape)
        ox, oy = self.origin(shape)
        return int(ox + (col + 0.5) * px), int(oy + (row + 0.5) * px)

    def cell_at(self, pos: tuple[int, int]) -> tuple[int, int] | None:
        shape = self._grid_shape
        px = self.cell_px(shape)
        ox, oy = self.origin(shape)
        c, r = int((pos[0] - ox) // px), int((pos[1] - oy) // px)
        if 0 <= r < shape[0] and 0 <= c < shape[1] and pos[0] < self.area[0]:
            return r, c
        return None

    def zoom_by(self, factor: float, shape: tuple[int, int] | None = None) -> None:
        current = self.cell_px(shape or self._grid_shape)
        self.zoom = min(max(current * factor, 1.0), 80.0)

    # -- drawing ---------------------------------------------------------------------------------

    def draw_floor(self, snap: FloorSnapshot, help_text: str = "") -> Any:
        surf = self.surface
        surf.fill(BACKGROUND)
        self.hits = []
        rows, cols = snap.kinds.shape
        self._grid_shape = (rows, cols)
        rgb = _LUT[snap.kinds]
        if snap.bins:
            rr = np.fromiter((b[0] for b in snap.bins), int, len(snap.bins))
            cc = np.fromiter((b[1] for b in snap.bins), int, len(snap.bins))
            rgb[rr, cc] = fill_colour(snap.fill)
        px = self.cell_px((rows, cols))
        ox, oy = self.origin((rows, cols))
        w, h = self.area
        # Only the visible cells are scaled up (a deep zoom on a big floor stays cheap).
        c0, r0 = max(int(-ox // px), 0), max(int(-oy // px), 0)
        c1, r1 = min(int((w - ox) // px) + 1, cols), min(int((h - oy) // px) + 1, rows)
        if c1 > c0 and r1 > r0:
            small = pygame.surfarray.make_surface(np.ascontiguousarray(rgb[r0:r1, c0:c1].swapaxes(0, 1)))
            size = (max(int(round((c1 - c0) * px)), 1), max(int(round((r1 - r0) * px)), 1))
            surf.blit(pygame.transform.scale(small, size), (int(ox + c0 * px), int(oy + r0 * px)))
        half = max(int(px * 0.45), 2)
        for asset, (mr, mc) in snap.machine_cells.items():
            x, y = self.cell_centre(mr, mc)
            rect = pygame.Rect(x - half, y - half, 2 * half, 2 * half)
            pygame.draw.rect(surf, MACHINE_COLOURS.get(snap.machines.get(asset, "running"), (0, 0, 0)), rect)
            pygame.draw.rect(surf, (30, 30, 30), rect, 1)
            self.hits.append((rect, "machine", asset))
        radius = max(int(px * 0.4), 2)
        for number, r, c in snap.agents:
            x, y = self.cell_centre(r, c)
            if 0 <= x < w:
                pygame.draw.circle(surf, AGENT, (x, y), radius)
                self.hits.append((pygame.Rect(x - radius, y - radius, 2 * radius, 2 * radius), "picker", number))
        for kind, name, r, c in snap.movers:
            x, y = self.cell_centre(r, c)
            if 0 <= x < w:
                # Vehicles are squares, technicians diamonds: told apart from the round pickers.
                colour = MOVER_COLOURS.get(kind, AGENT)
                if kind == "technician":
                    diamond = [(x, y - radius), (x + radius, y), (x, y + radius), (x - radius, y)]
                    pygame.draw.polygon(surf, colour, diamond)
                else:
                    pygame.draw.rect(surf, colour, (x - radius, y - radius, 2 * radius, 2 * radius))
                self.hits.append((pygame.Rect(x - radius, y - radius, 2 * radius, 2 * radius), kind, name))
        for r, c, what in snap.alarms:
            # A frame round the cell (a bin keeps its fill colour inside), drawn over everything.
            x, y = self.cell_centre(r, c)
            edge = max(int(px * 0.5), 3)
            frame = pygame.Rect(x - edge, y - edge, 2 * edge + 1, 2 * edge + 1)
            pygame.draw.rect(surf, ALARM, frame, max(int(px * 0.15), 2))
            self.hits.append((frame, "alarm", what))
        self._panel(f"floor: {snap.warehouse}", snap.panel, snap.series, snap.machines, help_text)
        return surf

    def draw_network(self, snap: NetworkSnapshot, help_text: str = "") -> Any:
        surf = self.surface
        surf.fill(BACKGROUND)
        self.hits = []
        w, h = self.area
        fixed = [(s[1], s[2]) for s in snap.sites] + [(a[1], a[2]) for a in snap.assets]
        if fixed:
            xs = [p[0] for p in fixed]
            ys = [p[1] for p in fixed]
            x_min, y_min = min(xs), min(ys)
            span = max(max(xs) - x_min, max(ys) - y_min, 1e-9)
            scale = (min(w, h) - 120) / span * (self.zoom or 1.0)

            def at(x: float, y: float) -> tuple[int, int]:
                return (int(60 + (x - x_min) * scale + self.pan[0]),
                        int(h - 60 - (y - y_min) * scale + self.pan[1]))

            self.map_point = at
            where = {s[0]: at(s[1], s[2]) for s in snap.sites}
            for a, b in snap.roads:
                if a in where and b in where:
                    pygame.draw.line(surf, ROAD, where[a], where[b], 2)
            for ident, _, _, fill in snap.sites:
                colour = tuple(int(v) for v in fill_colour(np.array([fill]))[0])
                x, y = where[ident]
                pygame.draw.circle(surf, colour, (x, y), 14)
                pygame.draw.circle(surf, (30, 30, 30), (x, y), 14, 1)
                surf.blit(self.font.render(ident, True, (20, 20, 20)), (x + 16, y - 6))
                self.hits.append((pygame.Rect(x - 14, y - 14, 28, 28), "site", ident))
            for ident, ax, ay, state in snap.assets:
                x, y = at(ax, ay)
                rect = pygame.Rect(x - 5, y - 5, 10, 10)
                pygame.draw.rect(surf, MACHINE_COLOURS.get(state, (0, 0, 0)), rect)
                pygame.draw.rect(surf, (30, 30, 30), rect, 1)
                self.hits.append((rect, "machine", ident))
            for ident, vx, vy in snap.vehicles:
                x, y = at(vx, vy)
                pygame.draw.polygon(surf, VEHICLE, [(x, y - 7), (x + 7, y), (x, y + 7), (x - 7, y)])
                self.hits.append((pygame.Rect(x - 7, y - 7, 14, 14), "vehicle", ident))
            for target, tx, ty, what in snap.alarms:
                x, y = at(tx, ty)
                # A ring round the target and a flag above it, so a full site's green stays visible.
                pygame.draw.circle(surf, ALARM, (x, y), 20, 3)
                flag = pygame.Rect(x - 4, y - 34, 9, 12)
                pygame.draw.rect(surf, ALARM, flag)
                self.hits.append((flag, "alarm", f"{target}: {what}"))
        if snap.alarms:
            snap.panel.setdefault("alarms", str(len(snap.alarms)))
        self._panel("network", snap.panel, [], snap.machines, help_text)
        return surf

    def _panel(self, title: str, panel: dict[str, str], series: list[float], machines: dict[str, str],
               help_text: str) -> None:
        surf = self.surface
        x0 = self.size[0] - PANEL_WIDTH
        pygame.draw.rect(surf, PANEL, (x0, 0, PANEL_WIDTH, self.size[1]))
        y = 10
        surf.blit(self.big.render(title, True, TEXT), (x0 + 10, y))
        y += 28
        for key, value in panel.items():
            surf.blit(self.font.render(f"{key}: {value}", True, TEXT), (x0 + 10, y))
            y += 18
        if len(series) > 1:
            y += 6
            top, height, width = y, 50, PANEL_WIDTH - 20
            lo, hi = min(series), max(series)
            pts = [(x0 + 10 + int(k * width / (len(series) - 1)),
                    top + height - int((v - lo) / (hi - lo) * height) if hi > lo else top + height // 2)
                   for k, v in enumerate(series)]
            pygame.draw.rect(surf, (55, 60, 70), (x0 + 10, top, width, height))
            pygame.draw.lines(surf, (120, 200, 255), False, pts, 2)
            surf.blit(self.font.render("bins' stock (live)", True, TEXT), (x0 + 10, top + height + 2))
            y = top + height + 22
        if machines:
            y += 6
            surf.blit(self.font.render("machines", True, TEXT), (x0 + 10, y))
            y += 18
            for k, (asset, state) in enumerate(sorted(machines.items())):
                col, row = k % 8, k // 8
                rect = pygame.Rect(x0 + 10 + col * 30, y + row * 30, 24, 24)
                pygame.draw.rect(surf, MACHINE_COLOURS.get(state, (0, 0, 0)), rect)
                self.hits.append((rect, "machine", asset))
            y += 30 * (math.ceil(len(machines) / 8)) + 4
        for line in help_text.splitlines():
            surf.blit(self.font.render(line, True, (170, 170, 180)), (x0 + 10, y))
            y += 16

    def hit(self, pos: tuple[int, int]) -> tuple[str, Any] | None:
        """What was drawn at a pixel: ('picker', n), ('forklift' | 'agv' | 'technician', name),
        ('machine', id), ('site', id), ('vehicle', id), ('alarm', 'target: what'), or None."""
        for rect, kind, ident in reversed(self.hits):
            if rect.collidepoint(pos):
                return kind, ident
        return None
