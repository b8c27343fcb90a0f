"""A dependency-free progress bar for commands: redrawn in place on a terminal, a line every 10% otherwise."""

from __future__ import annotations

import sys


class ProgressBar:
    def __init__(self, stream=None, label: str = "", width: int = 30):
        self.stream = stream or sys.stderr
        self.label = label
        self.width = width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1

    def __call__(self, done: int, total: int | None) -> None:
        if not total:
            if self.tty:
                self.stream.write(f"\r{self.label} {done}")
                self.stream.flush()
            return
        fraction = done / total
        if self.tty:
            filled = int(self.width * fraction)
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}")
            if done == total:
                self.stream.write("\n")
            self.stream.flush()
        elif int(fraction * 10) != self._last_decile:
            self._last_decile = int(fraction * 10)
            self.stream.write(f"{self.label} {done}/{total} ({int(fraction * 100)}%)\n")

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
