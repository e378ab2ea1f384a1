"""Barcode and RFID scanners: what the book records of a physical movement, and how long a count takes.

A misread records one unit more or less than moved; a missed read records nothing. Either makes
the book drift from the physical stock until a cycle count finds and corrects it. Random draws
come in numpy blocks from the warehouse's named scanner stream.
"""

from __future__ import annotations

import numpy as np

from twin.model.site import ScannerSpec

__all__ = ["Scanner"]

_BLOCK = 4096


class Scanner:
    def __init__(self, spec: ScannerSpec, gen: np.random.Generator) -> None:
        self.spec = spec
        self.gen = gen
        self.perfect = spec.misread_rate == 0 and spec.missed_read_rate == 0
        self._u: list[float] = []  # a block of draws, as Python floats (no numpy scalar per scan)
        self._i = 0

    def _next(self) -> float:
        if self._i >= len(self._u):
            self._u = self.gen.random(_BLOCK).tolist()
            self._i = 0
        u = self._u[self._i]
        self._i += 1
        return u

    def record(self, qty: float) -> float:
        """The quantity the scan puts on the book for ``qty`` units actually moved."""
        if self.perfect or qty <= 0:
            return qty
        u = self._next()
        missed = self.spec.missed_read_rate
        if u < missed:
            return 0.0
        if u < missed + self.spec.misread_rate:
            # Which way the misread goes is the next draw's halves.
            return qty + 1.0 if self._next() < 0.5 or qty < 1 else qty - 1.0
        return qty

    def count_duration(self, units: float) -> float:
        """Hours to count one bin: RFID reads every tag at once; a barcode count scans unit by unit."""
        if self.spec.technology == "rfid":
            return self.spec.count_time_per_location
        return self.spec.count_time_per_location + self.spec.count_time_per_unit * max(units, 0.0)
