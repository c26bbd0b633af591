"""Which words to offer in prompts: how often each phrase of a command is understood as that command.

Each candidate phrase is said by several voices that were not used to tune the matcher (espeak-ng
en-us, en, en-gb, en-gb-x-rp, en-us+f3, en+m3, each at a slow and a normal rate, and the Piper voice
when it loads), heard by Whisper tiny.en through the real matcher, and counted as understood when the
guide would act on the intended command (with the command model, as the guide hears; `--command-model
off`: Whisper and the matcher alone). Words that the real speech in --real (a manifest of one-word
clips, e.g. ../shared/speech-dev/manifest.csv) holds are also counted on it. Prints, per command, each
phrase's rate of being understood; the prompts offer the best two (tests/test_prompts.py checks that
every word a prompt offers is a phrase of its command).

    .venv/bin/python scripts/eval_prompt_words.py [--real MANIFEST] [--commands resume stop ...]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VOICES = [("en-us", 150), ("en-us", 110), ("en", 150), ("en", 110), ("en-gb", 150), ("en-gb", 110),
          ("en-gb-x-rp", 150), ("en-gb-x-rp", 110), ("en-us+f3", 150), ("en-us+f3", 110), ("en+m3", 150),
          ("en+m3", 110)]
CANDIDATES = {
    "resume": ["resume", "go", "go on", "keep going", "go ahead", "ready", "play", "carry on"],
    "stop": ["stop", "quit", "enough", "finish"],
    "menu": ["menu", "main menu", "home", "list"],
    "pause": ["pause", "wait", "hold on"],
    "next": ["next", "skip", "continue", "forward", "go on"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, help="a manifest (file,transcript,...) of real one-word clips")
    parser.add_argument("--commands", nargs="*", default=list(CANDIDATES))
    parser.add_argument("--command-model", choices=["on", "off"], default="on",
                        help="the shipped command model decides with Whisper, as in the guide (on), or not")
    args = parser.parse_args()
    from voice_guide.content.loader import load_library
    from voice_guide.hearing.audio_files import read_utterance
    from voice_guide.engine_table import open_recognizer_for
    from voice_guide.understanding.understand import Understander
    from voice_guide.understanding.vocabulary import build_vocabulary
    from voice_guide.settings import Settings
    from voice_guide.testing import espeak_speech
    from voice_guide.understanding.command_model import open_command_model

    vocab = build_vocabulary(load_library().items)
    recognizer = open_recognizer_for(Settings(recogniser="whisper"), vocab)
    commands = open_command_model(vocab, recognizer) if args.command_model == "on" else None
    ears = Understander(recognizer, vocab, commands=commands)
    piper = None
    try:
        from voice_guide.adapters.piper_tts import PiperSynthesizer
        from voice_guide.engines import VoiceSettings

        piper = PiperSynthesizer()
    except Exception as exc:  # the Piper voice is optional here
        print(f"(no Piper voice: {exc})")
    real: dict[str, list[Path]] = {}
    if args.real:
        with args.real.open() as f:
            for row in csv.DictReader(f):
                real.setdefault(row["transcript"], []).append(args.real.parent / row["file"])
    for command in args.commands:
        print(f"\n{command}:")
        for phrase in CANDIDATES[command]:
            takes = [espeak_speech(phrase, voice, rate, pad=0.3, noise_floor=-58.0) for voice, rate in VOICES]
            if piper is not None:
                for rate in (150, 110):
                    takes.append(piper.synthesize(phrase, VoiceSettings(rate=rate)))
            synthetic = sum(_acts(ears, take, command) for take in takes)
            line = f"  {phrase:<12} synthetic {synthetic:>2}/{len(takes)}"
            if phrase in real:
                clips = [read_utterance(p) for p in real[phrase]]
                line += f"   real {sum(_acts(ears, c, command) for c in clips):>2}/{len(clips)}"
            print(line, flush=True)
    return 0


def _acts(ears, audio, command: str) -> bool:
    match = ears.understand(audio).match
    return match.decision == "act" and match.command is not None and match.command.id == command


if __name__ == "__main__":
    sys.exit(main())
