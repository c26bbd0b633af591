"""`voice-guide list`: every topic and session, one plain line each, so a screen reader reads it in order.

Lengths are those of the exported tracks at the user's voice settings (the same computation as the
export: `voice_guide.speaking.render.item_seconds`), so speech is rendered once to measure it; it is cached, so
only the first listing waits for the voice.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from voice_guide.content.loader import Library
from voice_guide.content.model import Item
from voice_guide.commands import devices_of, library_of, load_settings

ORDER = 10


def clock(seconds: float) -> str:
    """Minutes and seconds as m:ss, rounded to the nearest second."""
    total = int(round(seconds))
    return f"{total // 60}:{total % 60:02d}"


def format_library(library: Library, seconds: Callable[[Item], float]) -> list[str]:
    """One line per item: name, kind, title, length (`seconds(item)`) and a safety mark, in columns."""
    name_width = max(len(item.name) for item in library.items)
    title_width = max(len(item.title) for item in library.items)
    lines = []
    for item in library.items:
        mark = "safety" if item.safety else ""
        line = (f"{item.name:<{name_width}}  {item.kind:<7}  {item.title:<{title_width}}  "
                f"{clock(seconds(item)):>5}  {mark}")
        lines.append(line.rstrip())
    return lines


def run(args: argparse.Namespace) -> int:
    from voice_guide.speaking.render import item_seconds, spoken_title
    from voice_guide.speaking.speech import voice_settings

    settings = load_settings()
    library = library_of(args)
    synth = devices_of(args).synthesizer(settings)
    voice = voice_settings(settings)
    try:
        first = spoken_title(library.items[0])
        if not synth.path(synth.key(first, voice)).exists():
            print("voice-guide: measuring the spoken lengths; this is only slow the first time.", file=sys.stderr)
        for line in format_library(library, lambda item: item_seconds(item, synth, voice)):
            print(line)
    finally:
        synth.close()
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "list",
        help="list every topic and session with its length",
        description="List every topic and session: name, kind, title, length in minutes and seconds (as "
        "exported, at your voice settings), and 'safety' for the safety notice.",
    )
    parser.set_defaults(func=run)
