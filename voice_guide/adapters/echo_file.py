"""The echo paths learnt for each speaker and microphone pair, kept in one small JSON file (the
wiring's is `echo.json` in the user's data folder; `engines.EchoMemory`). A missing, damaged or
foreign file is ignored (the path is learnt again, and the file replaced by what was learnt), never
raised; every write replaces the file atomically."""

from __future__ import annotations

import json
import math
from pathlib import Path

from voice_guide.fileio import atomic_write_text, read_own_text
from voice_guide.engines import EchoPath

FORMAT, VERSION = "voice-guide echo paths", 1
MAX_TAPS = 256
"""The most weights a kept filter may have (the guide's own have 33): more is a damaged file."""
MAX_PAIRS = 32
"""Speaker and microphone pairs kept; the oldest kept is dropped first."""


def _path(data: object) -> EchoPath:
    if not isinstance(data, dict):
        raise ValueError("a path is not a record")
    rate, offsets, taps = data.get("rate"), data.get("offsets"), data.get("taps")
    if not isinstance(rate, int) or isinstance(rate, bool) or rate <= 0:
        raise ValueError("no sample rate")
    if not isinstance(offsets, list) or not isinstance(taps, list) or not 0 < len(taps) == len(offsets) <= MAX_TAPS:
        raise ValueError("no filter")
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in offsets) or offsets != list(
            range(offsets[0], offsets[0] + len(offsets))):
        raise ValueError("its delays are not a run of whole numbers")
    if not all(isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w) for w in taps):
        raise ValueError("its weights are not numbers")
    return EchoPath(rate, tuple(offsets), tuple(float(w) for w in taps))


class EchoFile:
    """`engines.EchoMemory` on the JSON file `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, object]:
        try:
            data = json.loads(read_own_text(self.path, "echo paths"))
        except (OSError, ValueError):  # missing, unreadable, refused or not JSON: learnt again
            return {}
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
            return {}
        kept = data.get("paths")
        return kept if isinstance(kept, dict) else {}

    def load(self, key: str) -> EchoPath | None:
        try:
            return _path(self._read().get(key))
        except ValueError:
            return None

    def save(self, key: str, path: EchoPath) -> None:
        kept = {k: v for k, v in self._read().items() if k != key}
        kept[key] = {"rate": path.rate, "offsets": list(path.offsets), "taps": list(path.taps)}
        kept = dict(list(kept.items())[-MAX_PAIRS:])
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps({"format": FORMAT, "version": VERSION, "paths": kept}))
        except OSError:  # a full disk or a read-only folder: the path is learnt again next time
            pass
