"""A topic or session rendered to one sound, sample-exactly as its timeline says.

The synthesiser is handed in (any `engines.Synthesizer`); everything else is plain maths on `Audio`.
Each distinct text is synthesised once and measured, the timeline is laid out with those real lengths
(so a session's fill hold absorbs the true speech time and the track lasts its planned length), then
speech, silences, chimes and the spoken 'halfway' are placed at their sample positions. The export
writes this sound; the player can reuse it, so both sound the same.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from voice_guide.speaking import cues
from voice_guide.audio import Audio, frame_power, rms_dbfs
from voice_guide.content.model import Item
from voice_guide.engines import Synthesizer, VoiceSettings
from voice_guide.export.tracks import Chapter
from voice_guide.timeline import Segment, build_timeline, total_seconds

RATE = 22050
"""Rate of rendered tracks: espeak-ng's own rate, so its speech is never resampled."""
RENDER_VERSION = 2
"""Bump when the rendered sound changes for the same content and settings, so exports re-render."""
SPEECH_DBFS = -20.0
"""Every track's speech is evened out to this level (RMS over the voiced parts)."""
PEAK_LIMIT = 0.89
"""About -1 dBFS: peaks above it are softly limited, so no track clips after levelling."""
HALFWAY_GAIN_DB = -2.0
"""The spoken 'halfway' is a little softer than the guidance, so it does not break the calm, but
clearly audible (scripts/measure_halfway.py prints its level against the speech)."""
SAFETY_PREFIX = "Safety notice"
ITEM_GAP = 2.0
"""Seconds of quiet between items in a single-file export."""


@dataclass(frozen=True, eq=False)
class RenderedItem:
    item: Item
    audio: Audio
    segments: tuple[Segment, ...]
    """The timeline that `audio` follows, title first."""
    chapters: tuple[Chapter, ...]
    """One per step (the first also holds the title)."""

    @property
    def duration(self) -> float:
        return self.audio.duration


def _is_safety_title(title: str) -> bool:
    return title.strip().lower().startswith(SAFETY_PREFIX.lower())


def spoken_title(item: Item) -> str:
    """What is said first: the title, marked as a safety notice when the item is one."""
    if item.safety and not _is_safety_title(item.title):
        return f"{SAFETY_PREFIX}. {item.title}"
    return item.title


def display_title(item: Item) -> str:
    """The track title: the item's title, marked as a safety notice when the item is one."""
    if item.safety and not _is_safety_title(item.title):
        return f"{SAFETY_PREFIX}: {item.title}"
    return item.title


def voiced_dbfs(samples: np.ndarray, rate: int, frame_seconds: float = 0.02, gate_db: float = 30.0) -> float:
    """RMS level of the voiced frames only (frames within `gate_db` of the loudest one), so pauses
    inside and between sentences do not make quiet speakers look quieter than they are."""
    power = frame_power(samples, round(frame_seconds * rate))
    if len(power) == 0:
        return rms_dbfs(samples)
    loudest = float(np.max(power))
    if loudest <= 0:
        return float("-inf")
    voiced = power[power >= loudest * 10 ** (-gate_db / 10)]
    return float(10 * np.log10(np.mean(voiced)))


def soft_limit(samples: np.ndarray, threshold: float = PEAK_LIMIT) -> np.ndarray:
    """Leave samples below `threshold` alone; bend the ones above it smoothly up to 0.999 at most, so
    nothing reaches full scale (where 16-bit conversion clips)."""
    out = np.asarray(samples, dtype=np.float32).copy()
    over = np.abs(out) > threshold
    if np.any(over):
        head = 0.999 - threshold
        excess = (np.abs(out[over]) - threshold) / head
        out[over] = np.sign(out[over]) * (threshold + head * np.tanh(excess))
    return out


def speech_gain(parts: Sequence[Audio], volume: float = 1.0) -> float:
    """The one gain that brings these speech parts to SPEECH_DBFS, scaled by the user's volume."""
    if not parts:
        return 1.0
    joined = np.concatenate([p.samples for p in parts])
    level = voiced_dbfs(joined, parts[0].rate)
    if not np.isfinite(level):
        return 1.0
    return float(10 ** ((SPEECH_DBFS - level) / 20) * volume)


def _chapters(item: Item, segments: Sequence[Segment], total: float) -> tuple[Chapter, ...]:
    starts: dict[int, float] = {}
    for seg in segments:
        if seg.step is not None:
            starts.setdefault(seg.step, seg.start)
    steps = sorted(starts)
    chapters = []
    for k, step in enumerate(steps):
        name = item.steps[step].title or item.steps[step].label  # the spoken title, as 'where' says it
        title = name[:1].upper() + name[1:] if name else f"Step {step + 1}"
        start = 0.0 if k == 0 else starts[step]
        end = starts[steps[k + 1]] if k + 1 < len(steps) else total
        chapters.append(Chapter(title, start, end))
    return tuple(chapters)


def lay_out(item: Item, synth: Synthesizer, settings: VoiceSettings,
            rate: int = RATE) -> tuple[list[Segment], dict[str, Audio]]:
    """The item's timeline, with its speech measured on the synthesiser's own audio, and that audio:
    the one computation of an item's length, shared by the export and `voice-guide list`."""
    spoken = replace(item, title=spoken_title(item))
    speech: dict[str, Audio] = {}

    def length(text: str) -> float:
        if text not in speech:
            speech[text] = synth.synthesize(text, settings).resample(rate)
        return speech[text].duration

    return build_timeline(spoken, length), speech


def item_seconds(item: Item, synth: Synthesizer, settings: VoiceSettings) -> float:
    """How long the item's track lasts (what `voice-guide list` shows)."""
    return total_seconds(lay_out(item, synth, settings)[0])


def render_item(item: Item, synth: Synthesizer, settings: VoiceSettings, rate: int = RATE) -> RenderedItem:
    """Speak and lay out `item`; the sound lasts exactly the timeline's total (to the sample)."""
    segments, speech = lay_out(item, synth, settings, rate)
    total = total_seconds(segments)
    spoken_parts = [speech[s.text] for s in segments if s.kind == "speech"]
    gain = speech_gain(spoken_parts, settings.volume)
    halfway_gain = gain * 10 ** (HALFWAY_GAIN_DB / 20)
    levelled: dict[tuple[str, float], np.ndarray] = {}

    def voiced(text: str, g: float) -> np.ndarray:
        if (text, g) not in levelled:
            levelled[(text, g)] = soft_limit(speech[text].samples * np.float32(g))
        return levelled[(text, g)]

    chime_start, chime_end = cues.chime(end=False, rate=rate).samples, cues.chime(end=True, rate=rate).samples
    out = np.zeros(round(total * rate), dtype=np.float32)
    cues_seen: dict[int | None, int] = {}
    for seg in segments:
        a, b = round(seg.start * rate), round(seg.end * rate)
        if seg.kind == "speech":
            sound = voiced(seg.text, gain)
        elif seg.kind == "halfway":
            sound = voiced(seg.text, halfway_gain)
        elif seg.kind == "cue":
            count = cues_seen.get(seg.step, 0)
            cues_seen[seg.step] = count + 1
            sound = chime_end if count % 2 else chime_start
        else:
            continue
        piece = sound[: b - a]
        out[a : a + len(piece)] = piece
    return RenderedItem(item, Audio(out, rate), tuple(segments), _chapters(item, segments, total))


def join_items(rendered: Sequence[RenderedItem], gap: float = ITEM_GAP) -> tuple[Audio, tuple[Chapter, ...]]:
    """Several rendered items as one sound with `gap` seconds between them, one chapter per item."""
    if not rendered:
        return Audio(np.zeros(0, dtype=np.float32), RATE), ()
    rate = rendered[0].audio.rate
    silence = np.zeros(round(gap * rate), dtype=np.float32)
    parts: list[np.ndarray] = []
    chapters = []
    position = 0
    for k, r in enumerate(rendered):
        if k:
            parts.append(silence)
            position += len(silence)
        samples = r.audio.resample(rate).samples
        chapters.append(Chapter(display_title(r.item), position / rate, (position + len(samples)) / rate))
        parts.append(samples)
        position += len(samples)
    return Audio(np.concatenate(parts), rate), tuple(chapters)
