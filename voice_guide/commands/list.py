"""`voice-guide list`: every topic and session, one plain line each, so a screen reader reads it in order.

It answers at once: no voice is loaded. A session lasts its planned length; a topic's length is
estimated from its words at the user's speaking rate and marked "about". `--exact` measures every
length on the voice instead, as the export lays its tracks out (`voice_guide.speaking.render.item_seconds`),
which renders the speech into the cache the first time (slow) and reuses it after.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from voice_guide.content.loader import Library, estimate_speech_seconds
from voice_guide.content.model import Item
from voice_guide.timeline import build_timeline, total_seconds
from voice_guide.commands import devices_of, library_of, load_settings

ORDER = 10


def clock(seconds: float) -> str:
    """Minutes and seconds as m:ss, rounded to the nearest second."""
    total = int(round(seconds))
    return f"{total // 60}:{total % 60:02d}"


Length = tuple[float, bool]
"""Seconds, and whether they are an estimate."""


def estimated_length(item: Item, rate_wpm: float) -> Length:
    """The item's length with its speech estimated from the words: exact for a session that lasts its
    planned length, an estimate otherwise."""
    seconds = total_seconds(build_timeline(item, lambda text: estimate_speech_seconds(text, rate_wpm)))
    return seconds, item.length is None or abs(seconds - item.length) > 0.5


def format_library(library: Library, length: Callable[[Item], Length]) -> list[str]:
    """One line per item: name, kind, title, length (`length(item)`, "about" when estimated) and a
    safety mark, in columns."""
    name_width = max(len(item.name) for item in library.items)
    title_width = max(len(item.title) for item in library.items)
    lines = []
    for item in library.items:
        mark = "safety" if item.safety else ""
        seconds, estimated = length(item)
        shown = f"about {clock(seconds)}" if estimated else clock(seconds)
        line = f"{item.name:<{name_width}}  {item.kind:<7}  {item.title:<{title_width}}  {shown:>11}  {mark}"
        lines.append(line.rstrip())
    return lines


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    library = library_of(args)
    if not args.exact:
        for line in format_library(library, lambda item: estimated_length(item, settings.rate)):
            print(line)
        return 0
    from voice_guide.speaking.render import item_seconds, spoken_title
    from voice_guide.speaking.speech import voice_settings

    synth = devices_of(args).synthesizer(settings)
    voice = voice_settings(settings)
    try:
        first = spoken_title(library.items[0])
        if not synth.path(synth.key(first, voice)).exists():
            print("voice-guide: measuring the spoken lengths; this is only slow the first time.", file=sys.stderr)
        for line in format_library(library, lambda item: (item_seconds(item, synth, voice), False)):
            print(line)
    finally:
        synth.close()
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "list",
        help="list every topic and session with its length",
        description="List every topic and session: name, kind, title, length in minutes and seconds (a "
        "topic's estimated from its words at your speaking rate), and 'safety' for the safety notice.",
    )
    parser.add_argument("--exact", action="store_true",
                        help="measure each length on the voice, as exported (renders the speech once: slow "
                        "the first time)")
    parser.set_defaults(func=run)
