"""`voice-guide show NAME`: the exact words a topic or session will speak, with its silences spelled out,
so it can be read, checked or printed without listening."""

from __future__ import annotations

import argparse

from voice_guide.content.loader import estimate_speech_seconds
from voice_guide.content.model import Item
from voice_guide.timeline import Segment, build_timeline
from voice_guide.commands import library_of, load_settings

ORDER = 11
SHORTEST_NOTED = 2.0
"""Silences shorter than this are the pause between paragraphs, not worth a line."""


def spoken_duration(seconds: float) -> str:
    """'1 minute 30 seconds', '45 seconds', '10 minutes': how a person says a length of time."""
    total = max(0, int(round(seconds)))
    minutes, secs = divmod(total, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if secs or not minutes:
        parts.append(f"{secs} second{'s' if secs != 1 else ''}")
    return " ".join(parts)


def _hold_note(item: Item, index: int, segments: list[Segment]) -> str:
    step = item.steps[index]
    seconds = sum(s.duration for s in segments)
    if step.fill:
        note = f"quiet for about {spoken_duration(seconds)}, the rest of the planned time"
    else:
        note = f"quiet for {spoken_duration(seconds)}"
    if any(s.kind == "cue" for s in segments):
        note += ", between two soft chimes"
    if any(s.kind == "halfway" for s in segments):
        note += ", with 'halfway' said in the middle"
    return f"({note})"


def format_item(item: Item, rate_wpm: float) -> list[str]:
    """Title, then each step's words as its own paragraph; sessions add a line for each silence."""
    timeline = build_timeline(item, lambda text: estimate_speech_seconds(text, rate_wpm))
    lines = [item.title]
    for index, step in enumerate(item.steps):
        lines.append("")
        if step.say:
            lines.append(step.say)
        holds = [s for s in timeline if s.step == index and s.kind != "speech"]
        if item.kind == "session" and sum(s.duration for s in holds) >= SHORTEST_NOTED:
            lines.append(_hold_note(item, index, holds))
    return lines


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    item = library_of(args).get(" ".join(args.name))
    for line in format_item(item, settings.rate):
        print(line)
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "show",
        help="print the exact words of a topic or session",
        description="Print the exact words a topic or session will speak, in order. Sessions also show "
        "each quiet pause and how long it lasts. Use 'voice-guide list' for the names.",
    )
    parser.add_argument("name", nargs="+", help="a name from 'voice-guide list', its title, or another "
                        "way to say it, such as: self massage")
    parser.set_defaults(func=run)
