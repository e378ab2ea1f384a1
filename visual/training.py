"""The view in a drill (issue 8, training mode): the map and floors of the running drill, and the
operator's controls. The simulation runs in a background thread held to the drill's pace
(``twin.training.OperatorSession``); this view redraws from its event log and hands the operator's
commands to its inbox, so they reach the run as the same actions a policy returns.

Keys (besides the view's own Tab, zoom, pan and click to inspect):
  space pause/resume the drill's clock, + / - pace x2 / /2, Esc or q end the drill (the rest runs
  at full speed with no more commands);
  maintenance: click a machine, T dispatch the nearest free technician (nothing selected: the most
  urgent waiting work order);
  purchasing: I pick the next item, P release a purchase order at the policy's quantity, X release
  a transfer from its source warehouse (a depot replenished from another warehouse);
  fleet: V pick the next vehicle (or click one), R send it with the most urgent consignments
  waiting at its depot (nothing picked: the first idle vehicle that has work), or, when it is
  under way, re-route it to the most urgent waiting consignment it has room for (``DivertVehicle``).
"""

from __future__ import annotations

import os
import time
from typing import Any

from twin.errors import TwinError
from twin.kpi import events_frame
from twin.model.drill import OperatorCommand
from twin.model.events import EventLog
from twin.training import OperatorSession
from visual.app import ViewApp, frame_loop
from visual.render import Renderer, pygame
from visual.scene import Scene

__all__ = ["TrainingApp", "run_training_window", "check_display", "KEYS"]

KEYS = {"maintenance_dispatch": "click a machine, T dispatch a technician",
        "purchasing": "I next item, P order it (policy qty)\nX transfer it from its source depot",
        "fleet_dispatch": "V next vehicle, R send it\n(under way: R re-routes it)"}


def _scene(session: OperatorSession) -> Scene:
    log = EventLog()
    log.events = session.events()
    return Scene(session.scenario, events_frame(log), session.seed, 0, session.scenario.horizon)


class TrainingApp(ViewApp):
    """``ViewApp`` following a running drill: its time is the drill's clock, its keys the operator's."""

    def __init__(self, session: OperatorSession, renderer: Renderer, refresh: float = 1.0) -> None:
        super().__init__(_scene(session), renderer)
        drill = session.scenario.drill
        assert drill is not None
        self.session = session
        self.drill = drill
        self.refresh_every = refresh  # wall seconds between rebuilding the scene from the log
        self._last = time.monotonic()
        engine = session.engine
        self.skus = sorted((i, loc) for (i, loc) in engine.layout.skus if i in engine.drill.operator_items)
        self.vehicle_ids = sorted(engine.fleet.vehicles) if engine.fleet is not None else []
        self.sku: tuple[str, str] | None = None
        self.vehicle: str = ""
        self.message = drill.title

    # -- the clock follows the drill ----------------------------------------------------------------

    def refresh(self) -> None:
        """Rebuild the scene from the drill's events so far and move to its clock."""
        started = time.monotonic()
        self.scene = _scene(self.session)
        self.t = min(self.session.now, self.scene.horizon)
        # A big log takes a while to turn into a scene: rebuild less often rather than stutter.
        self.refresh_every = max(self.refresh_every, 3.0 * (time.monotonic() - started))
        self._last = time.monotonic()

    def advance(self, wall_seconds: float) -> None:
        if self.session.done:
            self.refresh()
            self.running = False
        elif time.monotonic() - self._last >= self.refresh_every:
            self.refresh()

    # -- the operator's keys -------------------------------------------------------------------------

    def send(self, command: OperatorCommand) -> None:
        self.session.send(command)
        what = command.target or "(most urgent)"
        self.message = f"sent: {command.do} {what}"

    def handle(self, event: Any) -> None:
        if event.type != pygame.KEYDOWN:
            super().handle(event)
            return
        key = event.key
        session = self.session
        role = self.drill.operator
        if key in (pygame.K_ESCAPE, pygame.K_q):
            session.hurry()
            session.pause(False)
            self.running = False
        elif key == pygame.K_SPACE:
            session.pause(not session.paused)
        elif key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
            session.set_pace(session.pace * 2)
        elif key in (pygame.K_MINUS, pygame.K_KP_MINUS):
            session.set_pace(session.pace / 2)
        elif key == pygame.K_t and role == "maintenance_dispatch":
            kind, _, ident = self.selected.partition(" ")
            self.send(OperatorCommand("dispatch", ident if kind == "machine" else ""))
        elif key == pygame.K_i and role == "purchasing" and self.skus:
            k = (self.skus.index(self.sku) + 1) % len(self.skus) if self.sku in self.skus else 0
            self.sku = self.skus[k]
        elif key == pygame.K_p and role == "purchasing":
            if self.sku is None:
                self.message = "press I to pick an item first"
            else:
                self.send(OperatorCommand("purchase", self.sku[0], self.sku[1]))
        elif key == pygame.K_x and role == "purchasing":
            if self.sku is None:
                self.message = "press I to pick an item at a depot first"
            else:
                self.send(OperatorCommand("transfer", self.sku[0], self.sku[1]))
        elif key == pygame.K_v and role == "fleet_dispatch" and self.vehicle_ids:
            k = (self.vehicle_ids.index(self.vehicle) + 1) % len(self.vehicle_ids) \
                if self.vehicle in self.vehicle_ids else 0
            self.vehicle = self.vehicle_ids[k]
        elif key == pygame.K_r and role == "fleet_dispatch":
            kind, _, ident = self.selected.partition(" ")
            self.send(OperatorCommand("route", ident if kind == "vehicle" else self.vehicle))
        elif key in (pygame.K_PERIOD, pygame.K_RIGHT, pygame.K_LEFTBRACKET, pygame.K_RIGHTBRACKET,
                     pygame.K_HOME, pygame.K_END):
            pass  # a drill cannot be stepped or seeked: its clock is the run's
        else:
            super().handle(event)

    # -- what the panel says --------------------------------------------------------------------------

    def desk(self) -> list[str]:
        """The operator's lines: what waits for a decision, what is picked, what became of the commands."""
        engine = self.session.engine
        lines: list[str] = []
        try:
            if self.drill.operator == "maintenance_dispatch":
                waiting = list(engine.maintenance.backlog)
                lines.append(f"waiting work orders: {len(waiting)}")
                for job in sorted(waiting, key=lambda j: (j.priority, j.created))[:4]:
                    lines.append(f"  P{job.priority} {job.asset} ({self.t - job.created:.1f} h)")
            elif self.drill.operator == "purchasing" and self.sku is not None:
                sku = engine.state.skus[self.sku]
                lines.append(f"{self.sku[0]} @ {self.sku[1]}")
                lines.append(f"  on hand {sku.on_hand:g}, on order {sku.on_order:g}, backorders {sku.backorder:g}")
                source = engine.fleet.transfers.source_of(*self.sku) if engine.fleet is not None else None
                if source is not None:
                    lines.append(f"  replenished from {source}: X transfer")
            elif self.drill.operator == "fleet_dispatch":
                fleet = engine.state.fleet
                lines.append(f"consignments waiting: {len(fleet.waiting())}")
                if self.vehicle:
                    state = "on a trip (R re-routes)" if self.vehicle in fleet.on_trip else \
                        "broken down" if self.vehicle in fleet.broken else "idle"
                    lines.append(f"vehicle {self.vehicle}: {state}")
        except RuntimeError:  # the run changed a collection while we read it: next frame
            pass
        for record in self.session.records[-3:]:
            lines.append(f"{record.do} {record.target or '-'}: {record.outcome}"[:44])
        return lines

    def status(self) -> str:
        session = self.session
        clock = "paused" if session.paused else f"{session.pace:g} h per second"
        head = [f"DRILL {self.drill.title}: {clock}", self.message, self.selected]
        keys = f"{KEYS[self.drill.operator]}\nspace pause  +/- pace  Tab map/floor\nclick inspect  Esc end drill"
        return "\n".join([*head, *self.desk(), keys])


def check_display() -> None:
    """Refuse a window nobody can see: with no display, SDL quietly falls back to a driver that
    draws nowhere ('offscreen', 'dummy'), and the drill would run unseen. Only a driver the user
    asked for (``SDL_VIDEODRIVER``) is taken as meant."""
    driver = pygame.display.get_driver()
    if driver in ("offscreen", "dummy") and not os.environ.get("SDL_VIDEODRIVER"):
        raise TwinError(f"no display to open the drill's window on (SDL fell back to its {driver!r} driver): "
                        "run it with --headless --script ACTIONS.yaml, or where there is a display")


def run_training_window(session: OperatorSession, size: tuple[int, int] = (1100, 700),
                        fps: int = 30) -> None:  # pragma: no cover - needs a display
    """Open the window, run the drill in the background at its pace, and take the operator's keys
    until the drill ends or the operator leaves (the rest then runs at full speed)."""
    pygame.display.init()  # not pygame.init(): a drill has no sound to open
    pygame.font.init()
    try:
        screen = pygame.display.set_mode(size)
        check_display()
        pygame.display.set_caption(f"LEMS Twin drill: {session.scenario.drill.title if session.scenario.drill else ''}")
        app = TrainingApp(session, Renderer(size, screen))
        session.start()
        frame_loop(app, fps)
    finally:
        session.hurry()
        session.pause(False)
        pygame.quit()
