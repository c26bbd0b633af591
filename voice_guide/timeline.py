"""A topic or session laid out in time: speech, silences, cue tones and the spoken 'halfway'.

Pure: it takes how long each piece of speech lasts (measured on the rendered audio by the caller) and
returns the segments in order. The export writes exactly these segments; the player waits exactly these
holds, so a session lasts its planned length in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Sequence

from voice_guide.content.model import Item

TITLE_GAP = 1.0
"""Seconds of quiet after the spoken title."""
CUE_SECONDS = 0.6
"""Length of the soft chime that opens and closes a hold."""
HALFWAY_TEXT = "Halfway."
MIN_CUED_HOLD = 4.0
"""Holds shorter than this get no chimes: they would crowd the silence."""

SegmentKind = Literal["speech", "silence", "cue", "halfway"]


@dataclass(frozen=True)
class Segment:
    """One piece of the timeline."""

    kind: SegmentKind
    start: float
    """Seconds from the start of the item."""
    duration: float
    text: str = ""
    """What is spoken (speech and halfway)."""
    step: int | None = None
    """Index of the step it belongs to; None for the title."""

    @property
    def end(self) -> float:
        return self.start + self.duration


def resolve_holds(item: Item, speech_seconds: Sequence[float], title_seconds: float = 0.0) -> list[float]:
    """Each step's hold, with the fill step's hold set so the whole item lasts `item.length`.

    `speech_seconds[i]` is how long step i's words last (0 for an empty step); `title_seconds` is the
    spoken title's length, or 0 when the title is not spoken. When speech alone runs past the planned
    length (a very slow rate) the fill hold is 0 and the item simply runs longer.
    """
    if len(speech_seconds) != len(item.steps):
        raise ValueError(f"{item.name}: {len(speech_seconds)} speech lengths for {len(item.steps)} steps")
    holds = [float(step.hold) for step in item.steps]
    fills = [i for i, step in enumerate(item.steps) if step.fill]
    if item.length is None or not fills:
        return holds
    used = title_seconds + (TITLE_GAP if title_seconds else 0.0) + sum(speech_seconds)
    used += sum(h for i, h in enumerate(holds) if i not in fills)
    spare = max(0.0, float(item.length) - used)
    for i in fills:
        holds[i] = spare / len(fills)
    return holds


def hold_segments(start: float, hold: float, step: int, cue: bool, halfway: bool,
                  halfway_seconds: float) -> list[Segment]:
    """The pieces of one hold: optional chimes at both ends and a spoken 'halfway' in the middle,
    always adding up to exactly `hold` seconds."""
    pieces: list[tuple[SegmentKind, float, str]] = []
    cued = cue and hold >= MIN_CUED_HOLD
    inner = hold - (2 * CUE_SECONDS if cued else 0.0)
    if cued:
        pieces.append(("cue", CUE_SECONDS, ""))
    if halfway and inner > halfway_seconds + 2.0:
        before = hold / 2 - halfway_seconds / 2 - (CUE_SECONDS if cued else 0.0)
        pieces += [("silence", before, ""), ("halfway", halfway_seconds, HALFWAY_TEXT),
                   ("silence", inner - before - halfway_seconds, "")]
    elif inner > 0:
        pieces.append(("silence", inner, ""))
    if cued:
        pieces.append(("cue", CUE_SECONDS, ""))
    out = []
    for kind, duration, text in pieces:
        out.append(Segment(kind, start, duration, text, step))
        start += duration
    return out


def build_timeline(item: Item, speech_length: Callable[[str], float], *, title: bool = True) -> list[Segment]:
    """All segments of `item` in order; `speech_length(text)` gives the seconds a text takes to say."""
    segments: list[Segment] = []
    t = 0.0
    title_seconds = speech_length(item.title) if title else 0.0
    if title:
        segments.append(Segment("speech", t, title_seconds, item.title, None))
        segments.append(Segment("silence", t + title_seconds, TITLE_GAP, "", None))
        t += title_seconds + TITLE_GAP
    speech = [speech_length(step.say) if step.say else 0.0 for step in item.steps]
    holds = resolve_holds(item, speech, title_seconds)
    halfway_seconds = speech_length(HALFWAY_TEXT) if any(s.halfway for s in item.steps) else 0.0
    for i, (step, seconds, hold) in enumerate(zip(item.steps, speech, holds)):
        if step.say:
            segments.append(Segment("speech", t, seconds, step.say, i))
            t += seconds
        if hold > 0:
            parts = hold_segments(t, hold, i, step.cue, step.halfway, halfway_seconds)
            segments += parts
            t += hold
    return segments


def total_seconds(segments: Sequence[Segment]) -> float:
    return sum(s.duration for s in segments)
