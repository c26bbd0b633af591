"""`voice-guide model`: which recogniser and model are used and why; `model install` adds a Vosk model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from voice_guide.commands import load_settings

ORDER = 65


def describe(settings) -> list[str]:
    """Plain lines saying which recogniser would listen, with which model, and why."""
    from voice_guide.recognition import recognizer_choice

    choice = recognizer_choice(settings)
    lines = [f"recogniser: {choice.engine}"]
    if choice.model is not None:
        lines.append(f"model: {choice.model}")
    else:
        try:
            import pocketsphinx

            lines.append(f"model: built-in English model ({Path(pocketsphinx.get_model_path()) / 'en-us'})")
        except ImportError:
            lines.append("model: none (pocketsphinx is not installed)")
    lines.append(f"why: {choice.reason}")
    return lines


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.action == "install":
        from voice_guide.recognition import download_english_model, install_model

        if args.download:
            path, settings = download_english_model(settings)
        elif args.source:
            path, settings = install_model(Path(args.source), settings)
        else:
            print("voice-guide: give a Vosk model zip or folder, or --download.", file=sys.stderr)
            return 2
        print(f"Installed the Vosk model {path}; it will be used from now on.")
    for line in describe(settings):
        print(line)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("model", help="show or install the speech recognition model",
                              description="Show which recogniser and model are used, or install a Vosk model.")
    p.add_argument("action", nargs="?", choices=["show", "install"], default="show")
    p.add_argument("source", nargs="?", help="a Vosk model zip file or folder (for install)")
    p.add_argument("--download", action="store_true",
                   help="let Vosk download its small English model (needs internet)")
    p.set_defaults(func=run)
