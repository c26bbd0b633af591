"""`voice-guide list`: every topic and session, one plain line each, so a screen reader reads it in order."""

from __future__ import annotations

import argparse

from voice_guide.content.loader import Library, load_library, planned_seconds
from voice_guide.commands import load_settings

ORDER = 10


def clock(seconds: float) -> str:
    """Minutes and seconds as m:ss, rounded to the nearest second."""
    total = int(round(seconds))
    return f"{total // 60}:{total % 60:02d}"


def format_library(library: Library, rate_wpm: float) -> list[str]:
    """One line per item: name, kind, title, planned length and a safety mark, in columns."""
    name_width = max(len(item.name) for item in library.items)
    title_width = max(len(item.title) for item in library.items)
    lines = []
    for item in library.items:
        mark = "safety" if item.safety else ""
        line = (f"{item.name:<{name_width}}  {item.kind:<7}  {item.title:<{title_width}}  "
                f"{clock(planned_seconds(item, rate_wpm)):>5}  {mark}")
        lines.append(line.rstrip())
    return lines


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    for line in format_library(load_library(), settings.rate):
        print(line)
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "list",
        help="list every topic and session with its planned length",
        description="List every topic and session: name, kind, title, planned length in minutes and "
        "seconds, and 'safety' for the safety notice. Topic lengths are estimated at your speaking rate.",
    )
    parser.set_defaults(func=run)
