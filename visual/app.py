"""The interactive view: a Pygame window over a ``Scene`` (a fresh run or a recorded one).

Controls: space pause/run, . (or right arrow) step, + / - speed (1x .. 10,000x and as fast as
possible), Tab switch network map / floor, mouse wheel zoom, drag (or arrow keys) pan, click an
object to inspect it, [ and ] seek back/forward an hour, Home/End seek to start/end, click the
timeline at the bottom of the panel to seek there, Esc or q quit.
"""

from __future__ import annotations

from typing import Any

from visual.render import PANEL_WIDTH, Renderer, pygame
from visual.scene import Scene

__all__ = ["ViewApp", "SPEEDS", "HELP"]

SPEEDS: tuple[float | None, ...] = (1.0, 10.0, 100.0, 1000.0, 10000.0, None)  # None: as fast as possible
HELP = ("space pause  . step  +/- speed\nTab map/floor  wheel zoom  drag pan\n"
        "click inspect  [ ] seek 1h  Home/End\nEsc quit")
TIMELINE_HEIGHT = 14


class ViewApp:
    """State and controls of the view; ``handle`` takes pygame events, ``advance`` moves the clock
    (simulated hours per wall second are ``speed / 3600``), ``draw`` draws the current level."""

    def __init__(self, scene: Scene, renderer: Renderer, step: float = 1.0 / 60) -> None:
        self.scene = scene
        self.renderer = renderer
        self.t = 0.0
        self.paused = False
        self.speed_index = 3
        self.step = step  # hours per step key press
        self.level = "floor" if scene.floors else "network"
        self.warehouse = next(iter(scene.floors), None)
        self.selected: str = ""
        self.running = True
        self._drag: tuple[int, int] | None = None

    @property
    def speed(self) -> float | None:
        return SPEEDS[self.speed_index]

    def seek(self, t: float) -> None:
        self.t = min(max(t, 0.0), self.scene.horizon)

    def advance(self, wall_seconds: float) -> None:
        if self.paused:
            return
        speed = self.speed
        hours = (self.scene.horizon / 200.0) if speed is None else wall_seconds * speed / 3600.0
        self.seek(self.t + hours)

    def handle(self, event: Any) -> None:
        r = self.renderer
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.KEYDOWN:
            key = event.key
            if key in (pygame.K_ESCAPE, pygame.K_q):
                self.running = False
            elif key == pygame.K_SPACE:
                self.paused = not self.paused
            elif key in (pygame.K_PERIOD, pygame.K_RIGHT) and self.paused:
                self.seek(self.t + self.step)
            elif key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
                self.speed_index = min(self.speed_index + 1, len(SPEEDS) - 1)
            elif key in (pygame.K_MINUS, pygame.K_KP_MINUS):
                self.speed_index = max(self.speed_index - 1, 0)
            elif key == pygame.K_TAB and self.scene.floors:
                self.level = "network" if self.level == "floor" else "floor"
            elif key == pygame.K_LEFTBRACKET:
                self.seek(self.t - 1.0)
            elif key == pygame.K_RIGHTBRACKET:
                self.seek(self.t + 1.0)
            elif key == pygame.K_HOME:
                self.seek(0.0)
            elif key == pygame.K_END:
                self.seek(self.scene.horizon)
            elif key in (pygame.K_UP, pygame.K_DOWN, pygame.K_LEFT):
                dx, dy = {pygame.K_UP: (0, 40), pygame.K_DOWN: (0, -40), pygame.K_LEFT: (40, 0)}[key]
                r.pan[0] += dx
                r.pan[1] += dy
        elif event.type == pygame.MOUSEWHEEL:
            r.zoom_by(1.25 if event.y > 0 else 0.8)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self._drag = event.pos
            self.click(event.pos)
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            self._drag = None
        elif event.type == pygame.MOUSEMOTION and self._drag is not None:
            r.pan[0] += event.pos[0] - self._drag[0]
            r.pan[1] += event.pos[1] - self._drag[1]
            self._drag = event.pos

    def click(self, pos: tuple[int, int]) -> None:
        """Inspect what is under the mouse (or seek, on the timeline)."""
        r = self.renderer
        w, h = r.size
        if pos[0] >= w - PANEL_WIDTH and pos[1] >= h - TIMELINE_HEIGHT:
            self.seek((pos[0] - (w - PANEL_WIDTH)) / PANEL_WIDTH * self.scene.horizon)
            return
        hit = r.hit(pos)
        if hit is not None:
            self.selected = f"{hit[0]} {hit[1]}"
            if hit[0] == "site" and hit[1] in self.scene.floors:
                self.level, self.warehouse = "floor", hit[1]  # zoom into the site
            return
        if self.level == "floor" and self.warehouse is not None:
            cell = r.cell_at(pos)
            if cell is not None:
                self.selected = self.describe(cell)

    def describe(self, cell: tuple[int, int]) -> str:
        wh = self.warehouse
        assert wh is not None
        model = self.scene.floors[wh]
        if cell in model.plan.bins:
            items = self.scene.bin_items[wh][model.plan.bins.index(cell)]
            stock = ", ".join(f"{i}={self.scene.on_hand(i, wh, self.t)[0]:g}" for i in items) or "no item"
            return f"bin {cell[0]},{cell[1]}: {stock}"
        return f"cell {cell[0]},{cell[1]}"

    def status(self) -> str:
        """The lines under the panel's KPIs (a drill's view adds its own; see visual.training)."""
        speed = "max" if self.speed is None else f"{self.speed:g}x"
        return f"{'paused' if self.paused else 'running'} {speed}\n{self.selected}\n{HELP}"

    def draw(self) -> Any:
        status = self.status()
        if self.level == "floor" and self.warehouse is not None:
            surf = self.renderer.draw_floor(self.scene.floor(self.warehouse, self.t), status)
        else:
            surf = self.renderer.draw_network(self.scene.network(self.t), status)
        w, h = self.renderer.size
        x0 = w - PANEL_WIDTH
        pygame.draw.rect(surf, (70, 75, 85), (x0, h - TIMELINE_HEIGHT, PANEL_WIDTH, TIMELINE_HEIGHT))
        done = int(PANEL_WIDTH * self.t / self.scene.horizon) if self.scene.horizon else 0
        pygame.draw.rect(surf, (120, 200, 255), (x0, h - TIMELINE_HEIGHT, done, TIMELINE_HEIGHT))
        return surf


def run_window(scene: Scene, size: tuple[int, int] = (1100, 700), fps: int = 30) -> None:  # pragma: no cover
    """Open the window and run until it is closed (needs a display)."""
    pygame.init()
    screen = pygame.display.set_mode(size)
    pygame.display.set_caption(f"LEMS Twin: {scene.scenario.name}")
    app = ViewApp(scene, Renderer(size, screen))
    frame_loop(app, fps)
    pygame.quit()


def frame_loop(app: ViewApp, fps: int) -> None:  # pragma: no cover - needs a display
    """Handle input, advance and draw at ``fps`` until the window is closed (the view and drills)."""
    clock = pygame.time.Clock()
    while app.running:
        for event in pygame.event.get():
            app.handle(event)
        app.advance(clock.tick(fps) / 1000.0)
        app.draw()
        pygame.display.flip()
