"""`voice-guide hear FILE.wav ...`: what the guide would make of recorded speech, one file per utterance,
through the same recogniser and matcher as a live session. For checking a microphone recording, a
user's way of speaking, or the recogniser itself, without a sound card."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from typing import TYPE_CHECKING

from voice_guide.errors import AudioInputError, printable
from voice_guide.commands import devices_of, library_of, load_settings

if TYPE_CHECKING:  # hearing is imported when `hear` runs, so other commands start quickly
    from voice_guide.understanding.understand import Heard

ORDER = 40

def command_label(heard: Heard) -> str | None:
    """"next", "open:quiet-face", "step:3" (for "ask" and "reprompt": the best guess), or None."""
    command = heard.match.command
    return None if command is None else str(command)


def as_record(file: str, heard: Heard, personal: str | None = None) -> dict:
    """`personal`: which enrolled takes were consulted ("prototype", "template"; None: nothing enrolled)."""
    return {
        "file": file,
        "text": heard.text,
        "command": command_label(heard),
        "score": round(heard.match.score, 3),
        "decision": heard.match.decision,
        "path": heard.path,
        "decode_ms": heard.decode_ms,
        "alternatives": [str(c) for c in heard.match.alternatives],
        "personal": personal,
    }


def as_line(file: str, heard: Heard) -> str:
    m = heard.match
    said = f'"{heard.text}"' if heard.text else "(nothing)"
    if m.decision == "ask":
        meaning = "ask: " + " or ".join(str(c) for c in m.alternatives) + "?"
    elif m.decision == "none":
        meaning = "no command"
    else:
        meaning = f"{m.command} ({m.decision})"
    return f"{file}: {said} -> {meaning}, score {m.score:.2f}, {heard.path}, {heard.decode_ms:.0f} ms"


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # what a library prints never mixes with these lines
        return _hear(args, out)


def _hear(args: argparse.Namespace, out) -> int:
    from voice_guide.hearing.audio_files import read_utterance
    from voice_guide.wiring import open_hearing

    settings = load_settings()
    understander, personal, notices = open_hearing(settings, library_of(args).items, devices_of(args))
    for notice in notices:
        print(f"voice-guide: {notice}", file=sys.stderr)
    notice = understander.recognizer.notice
    if notice:
        print(f"voice-guide: {notice}", file=sys.stderr)
    failed = 0
    for file in args.files:
        try:
            audio = read_utterance(file)
        except AudioInputError as err:
            failed += 1
            if args.json:
                print(json.dumps({"file": file, "error": str(err)}), file=out, flush=True)
            else:
                print(f"voice-guide: {printable(str(err))}", file=sys.stderr, flush=True)
            continue
        heard = understander.understand(audio)
        hearing = personal.hearing() if personal is not None else None
        record = as_record(file, heard, hearing.via if hearing is not None else None)
        print(json.dumps(record) if args.json else printable(as_line(file, heard)), file=out,
              flush=True)
    return 1 if failed else 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "hear",
        help="show what the guide understands in recorded speech",
        description="Treat each sound file as one spoken command and show what the guide heard and "
        "what it would do, using the configured recogniser and the same tolerant matching as a live "
        "session. Exit status 0 when every file could be read, 1 when any could not.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE.wav", help="a recording of one utterance "
                        "(WAV of any rate, channels or bit depth; 16 kHz mono is best)")
    parser.add_argument("--json", action="store_true", help="one JSON object per file and line: "
                        "file, text, command, score, decision, path, decode_ms, alternatives, personal (which enrolled takes "
                        "heard it: prototype, template, or null) (or file, error)")
    parser.set_defaults(func=run)
