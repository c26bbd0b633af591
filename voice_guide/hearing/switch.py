"""A no-words switch: one non-speech sound that does one thing, for moments when speaking is too hard.

Two kinds, told apart from speech by shape rather than by words:
- "click" (a tongue click, a tap on the table, a finger snap): one very short transient that rises at
  once and falls 12 dB within a few hundredths of a second, never to rise again (a room's echo may
  linger, quieter), with quiet before and after. Speech stays near its peak for longer than that.
- "hum" ("mmm" with the lips closed or not): a voiced tone half a second or more long with its pitch
  held (within about 2.5%) and its spectrum still; speech moves its pitch and formants and stops and
  starts its voicing.
Three enrolled examples narrow the generic rules to the user's own sound (its pitch, its length).
Clicks are shorter than any utterance an endpointer passes on, so `TransientWatcher` finds them in the
raw microphone blocks. Pure numpy.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Literal, get_args

import numpy as np
from msgspec import Meta

from voice_guide.audio import SPEECH_RATE, Audio, frame_dbfs
from voice_guide.schema import between, decode_json, text
from voice_guide.settings import MAX_UTTERANCE
from voice_guide.hearing.features import mel_filterbank
from voice_guide.fileio import atomic_write_text, read_own

Kind = Literal["click", "hum"]
Action = Literal["toggle", "pause"]
""""toggle": pause when playing, resume when paused (the default); "pause": always pause."""
KINDS = get_args(Kind)
ACTIONS = get_args(Action)
MAX_EXAMPLES = 10
"""Enrolment records three examples; a saved profile holding more is not ours."""
FORMAT = "voice-guide-switch"
VERSION = 1

HOP = 0.005
"""Frame step of the analysis, seconds: fine enough to time a click."""
ACTIVE_DB = 15.0
"""A frame sounds when it is this far above the quiet floor."""
CLICK_RISE = 0.012
"""A click reaches its peak within this many seconds of starting."""
CORE_DB = 12.0
CLICK_CORE = 0.05
"""Longest time a click stays within CORE_DB of its peak, seconds."""
CLICK_TAIL = 0.4
"""Longest sounding time of a click including a room's echo, seconds."""
CLICK_REONSET = 8.0
"""A click's level never rises again by more than this (dB) after its peak."""
HUM_MIN, HUM_MAX = 0.4, 4.0
HUM_PITCH = (65.0, 420.0)
HUM_VOICED = 0.8
"""Share of a hum's sounding frames that must carry a clear pitch."""
HUM_PITCH_SPREAD = 0.025
"""Largest spread (std of log pitch) of a hum's pitch over its middle."""
FLUX_SMOOTH, FLUX_LAG = 5, 6
"""Spectra (15 ms apart) averaged for the flux, and the lag between compared averages: room echo
flickers faster than this, formants move about this fast."""
HUM_FLUX = 0.9
"""Largest mean frame-to-frame change of a hum's normalised log mel spectrum below 2 kHz."""


Seconds = between(0.0, MAX_UTTERANCE, "seconds")
Decibels = between(0.0, 200.0, "dB")
"""A level difference: frame levels lie between full scale and `frame_dbfs`'s floor, 120 dB below."""


@dataclass(frozen=True)
class SoundShape:
    """What the detector measures about one sound; the field types are the schema of a saved example."""

    sounding: Seconds
    """Seconds from the first to the last sounding frame."""
    rise: Seconds
    """Seconds from the first sounding frame to the loudest."""
    peak_db: Decibels
    """Loudest frame above the quiet floor, dB."""
    voiced: between(0.0, 1.0) = 0.0
    """Share of sounding 40 ms windows with a clear pitch."""
    pitch: between(0.0, SPEECH_RATE / 2, "Hz") = 0.0
    """Median pitch, Hz (0 when unvoiced)."""
    pitch_spread: between(0.0, 100.0) = 1.0
    flux: between(0.0, 1000.0) = 9.0
    """Mean change of the smoothed log spectrum over ~0.1 s: formant movement."""
    core: Seconds = 0.0
    """Seconds within CORE_DB of the loudest frame: a click's is a few hundredths even in an echoing
    room, whose tail only lengthens the quieter part."""
    reonset: Decibels = 0.0
    """Largest rise in level (dB) after the loudest frame: a second burst, syllable or tap."""


def _frame_db(x: np.ndarray, rate: int) -> np.ndarray:
    return frame_dbfs(x, max(1, round(HOP * rate)))


def _autocorr(x: np.ndarray) -> np.ndarray:
    spec = np.fft.rfft(x, 2 * len(x))
    return np.fft.irfft(np.abs(spec) ** 2)[: len(x)]


def _pitch(window: np.ndarray, rate: int) -> tuple[float, float]:
    """(pitch Hz, clarity 0..1): the normalised autocorrelation peak in the hum range, divided by the
    window's own autocorrelation (Boersma's method) so low voices are not penalised."""
    taper = np.hanning(len(window))
    ac = _autocorr((window - window.mean()) * taper)
    if ac[0] <= 0:
        return 0.0, 0.0
    ac = ac / ac[0] / np.maximum(_autocorr(taper) / np.sum(taper**2), 1e-3)
    lo, hi = int(rate / HUM_PITCH[1]), min(len(ac) // 2, int(rate / HUM_PITCH[0]))
    seg = ac[lo:hi]
    if len(seg) < 3:
        return 0.0, 0.0
    peaks = np.flatnonzero((seg[1:-1] >= seg[:-2]) & (seg[1:-1] >= seg[2:])) + 1
    if len(peaks) == 0:
        return 0.0, 0.0
    best = float(seg[peaks].max())
    lag = lo + int(peaks[np.argmax(seg[peaks] >= 0.9 * best)])  # the shortest strong lag: no octave drops
    return rate / lag, float(min(1.0, ac[lag]))


def measure(audio: Audio) -> SoundShape | None:
    """The shape of the sounding part of `audio`, or None when nothing stands out of the quiet."""
    audio = audio.resample(SPEECH_RATE)
    x, rate = audio.samples.astype(np.float64), audio.rate
    db = _frame_db(x, rate)
    if len(db) < 4:
        return None
    floor = float(np.percentile(db, 10))
    peak = float(db.max())
    if peak - floor < ACTIVE_DB or peak < -60:
        return None
    active = np.flatnonzero(db >= max(floor + ACTIVE_DB, peak - 40))
    first, last = int(active[0]), int(active[-1])
    sounding = (last - first + 1) * HOP
    top = int(np.argmax(db))
    rise = (top - first) * HOP
    core = int(np.sum(db[first : last + 1] >= peak - CORE_DB)) * HOP
    after = np.convolve(db[top : last + 1], np.ones(3) / 3, mode="valid") if last - top >= 3 else db[top:top + 1]
    reonset = float(np.max(after - np.minimum.accumulate(after)))
    shape = SoundShape(sounding, rise, peak - floor, core=core, reonset=reonset)
    if sounding < HUM_MIN * 0.75:
        return shape
    step = round(HOP * rate)
    seg = x[first * step : (last + 1) * step]
    win, hop = round(0.04 * rate), round(0.015 * rate)
    pitches, clear, spectra = [], 0, []
    bank = mel_filterbank(rate, 1024, 16, 60.0, 2000.0)
    starts = range(0, max(1, len(seg) - win), hop)
    for s in starts:
        w = seg[s : s + win]
        if len(w) < win:
            break
        f0, clarity = _pitch(w, rate)
        if clarity >= 0.6:
            clear += 1
            pitches.append(f0)
        power = np.abs(np.fft.rfft(w * np.hanning(win), 1024)) ** 2
        spectra.append(np.log(bank @ power + 1e-10))
    n = max(1, len(spectra))
    mid = np.log(pitches[len(pitches) // 5 : len(pitches) - len(pitches) // 5] or [1.0])
    flux = 9.0
    if len(spectra) > FLUX_SMOOTH + FLUX_LAG:
        s = np.array(spectra)
        s = s - s.mean(axis=1, keepdims=True)
        s = np.array([s[i : i + FLUX_SMOOTH].mean(axis=0) for i in range(len(s) - FLUX_SMOOTH + 1)])
        flux = float(np.mean(np.sqrt(np.mean((s[FLUX_LAG:] - s[:-FLUX_LAG]) ** 2, axis=1))))
    return SoundShape(sounding, rise, peak - floor, clear / n, float(np.median(pitches)) if pitches else 0.0,
                      float(np.std(mid)), flux, core, reonset)


@dataclass(frozen=True)
class SwitchFile:
    """switch.json: the schema of a saved profile."""

    format: text(100)
    kind: Kind
    action: Action
    enabled: bool
    examples: Annotated[list[SoundShape], Meta(max_length=MAX_EXAMPLES)] = field(default_factory=list)
    version: between(0, 10**6, whole=True) = 0


@dataclass
class SwitchProfile:
    """Which sound, which action, and the user's own examples (their shapes) if enrolled."""

    kind: Kind = "click"
    action: Action = "toggle"
    enabled: bool = False
    examples: list[SoundShape] = field(default_factory=list)


    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": FORMAT, "version": VERSION, "kind": self.kind, "action": self.action,
                "enabled": self.enabled, "examples": [asdict(e) for e in self.examples]}
        atomic_write_text(path, json.dumps(data, indent=2))

    @classmethod
    def load(cls, path: Path) -> "SwitchProfile":
        """Raises ValueError (one sentence) when the file is not a switch profile this version can read."""
        data = decode_json(read_own(path, "switch"), SwitchFile)
        if data.format != FORMAT or data.version > VERSION:
            raise ValueError("not a switch profile this version can read")
        return cls(data.kind, data.action, data.enabled, list(data.examples))


class SwitchDetector:
    """Says whether one whole sound is the switch sound of `profile.kind`."""

    def __init__(self, profile: SwitchProfile) -> None:
        self.profile = profile

    def detect(self, audio: Audio) -> bool:
        shape = measure(audio)
        return shape is not None and self.matches(shape)

    def matches(self, shape: SoundShape) -> bool:
        examples = self.profile.examples
        if self.profile.kind == "click":
            core = CLICK_CORE
            if examples:
                core = min(CLICK_CORE * 1.5, max(0.02, 1.6 * max(e.core for e in examples)))
            return (shape.core <= core and shape.sounding <= CLICK_TAIL and shape.rise <= CLICK_RISE
                    and shape.reonset <= CLICK_REONSET and shape.peak_db >= 20)
        ok = (HUM_MIN <= shape.sounding <= HUM_MAX and shape.voiced >= HUM_VOICED
              and shape.pitch_spread <= HUM_PITCH_SPREAD and shape.flux <= HUM_FLUX)
        if ok and examples:
            pitch = float(np.median([e.pitch for e in examples]))
            ok = pitch > 0 and abs(np.log(shape.pitch / pitch)) <= np.log(1.35)
        return ok


class TransientWatcher:
    """Finds clicks in a stream of microphone blocks: an isolated burst (quiet for `gap` seconds before
    and after) that the detector accepts. `feed` returns True once per click, `gap` after it."""

    def __init__(self, detector: SwitchDetector, rate: int = SPEECH_RATE, gap: float = 0.25) -> None:
        self.detector = detector
        self.rate = rate
        self.gap = gap
        self._buf = np.zeros(0, dtype=np.float32)
        self._keep = round((2 * gap + CLICK_TAIL + 0.5) * rate)
        self._cooldown = 0
        self.last = np.zeros(0, dtype=np.float32)
        """The sound that last fired, with a little quiet around it."""

    def feed(self, block: np.ndarray) -> bool:
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        self._buf = np.concatenate([self._buf, block])[-self._keep :]
        self._cooldown = max(0, self._cooldown - len(block))
        if self._cooldown or len(self._buf) < self._keep:
            return False
        db = _frame_db(self._buf.astype(np.float64), self.rate)
        floor = float(np.percentile(db, 30))
        loud = db >= floor + ACTIVE_DB
        gap = round(self.gap / HOP)
        if not loud.any() or loud[-gap:].any():
            return False
        idx = np.flatnonzero(loud)
        first = last = int(idx[-1])
        for i in idx[::-1]:
            if first - int(i) >= gap:
                break
            first = int(i)
        if first < gap:
            return False
        step = round(HOP * self.rate)
        window = self._buf[max(0, (first - gap) * step) : (last + gap) * step]
        if self.detector.detect(Audio(window, self.rate)):
            self._cooldown = self._keep
            self.last = window.copy()
            return True
        return False
