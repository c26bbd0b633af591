"""The real clock the live loop runs on (tests hand in `testing.FakeClock` instead)."""

from __future__ import annotations

import time


class SystemClock:
    """The real clock: monotonic seconds."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))
