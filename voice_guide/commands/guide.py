"""`voice-guide` (the spoken menu) and `voice-guide read NAME` (one topic or session, then exit).

Both listen on the microphone for spoken commands and read single keys from the terminal; `--input
FILE.wav ...` says recorded utterances instead of the microphone (one after another, each once the
guide is listening), so a whole run can be scripted; `--no-listen` only speaks and takes keys.
"""

from __future__ import annotations

import argparse
import functools
import sys
from typing import TYPE_CHECKING

from voice_guide import progress, welcome
from voice_guide.commands import devices_of, library_of
from voice_guide.commands.export import sigterm_stops
from voice_guide import settings as settings_mod
from voice_guide.engines import RATE_MAX, RATE_MIN
from voice_guide.errors import StorageError, UsageError

if TYPE_CHECKING:  # the guide's machinery is imported when it runs, so other commands start quickly
    from voice_guide.content.loader import Library
    from voice_guide.content.model import Item
    from voice_guide.live.player import Player
    from voice_guide.wiring import Engines

ORDER = 1
INPUT_MAX_SECONDS = 60.0
"""Longest recording `--input` accepts: one spoken command, with room to spare."""


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", nargs="+", metavar="FILE", help="say these recorded utterances "
                        "instead of listening to the microphone (WAV, FLAC or OGG; any rate)")
    parser.add_argument("--no-listen", action="store_true", help="do not listen; keys only")
    parser.add_argument("--rate", type=int, metavar="WPM", help=f"speaking rate, {RATE_MIN} to {RATE_MAX} words a minute")


def register(subparsers) -> None:
    guide = subparsers.add_parser("guide", help="the spoken menu (also what runs with no command)",
                                  description="Say what is available and listen: say a name to start it.")
    _add_common(guide)
    guide.set_defaults(func=run, name=None)
    read = subparsers.add_parser("read", help="read one topic or lead one session, then exit",
                                 description="Read a topic aloud, or lead a session, by its name.")
    read.add_argument("name", metavar="NAME", help="a topic or session name, e.g. quiet-face")
    _add_common(read)
    read.set_defaults(func=run)


def _resume(loaded: progress.Loaded, library: Library, item: Item | None) -> tuple[Item, int] | None:
    """The latest saved place, or, for `read NAME`, the place in that item."""
    saved = loaded.progress if item is None else loaded.places.get(item.name)
    if saved is None:
        return None
    try:
        saved_item = library.get(saved.item)
    except UsageError:
        return None
    if saved.step >= len(saved_item.steps) or (item is not None and saved_item is not item):
        return None
    return saved_item, saved.step


def run(args: argparse.Namespace, engines: Engines | None = None, library: Library | None = None) -> int:
    """The guide with `engines` (fakes in tests), or with those `args.devices` opens (this machine's),
    reading `library` (else `args.library`, else the package's own)."""
    from voice_guide.hearing.listen import RecordingsIn
    from voice_guide.live.player import Player
    from voice_guide.live.rig import Hooks, Options, Rig
    from voice_guide.speaking import voices
    from voice_guide.speaking.speech import voice_settings
    from voice_guide.speaking.text_only import SpeakerOrText
    from voice_guide.wiring import build_engines

    settings = settings_mod.load()
    if args.rate is not None:
        settings = settings.with_changes(rate=args.rate)
    library = library or library_of(args)
    item = library.get(args.name) if args.name else None
    recordings = None
    if args.input:  # all checked now, each read when its turn comes: one in memory at a time
        from voice_guide.hearing.audio_files import check_utterance, read_utterance

        for path in args.input:
            check_utterance(path, max_seconds=INPUT_MAX_SECONDS)
        recordings = [functools.partial(read_utterance, path, max_seconds=INPUT_MAX_SECONDS) for path in args.input]
    listen = not args.no_listen
    engines = engines or build_engines(settings, library.items, listen, devices_of(args))
    loaded = progress.load()
    notices = [n for n in (settings.notice, loaded.notice, *engines.notices) if n]

    def remember_voice(rate: int, volume: float) -> None:
        try:
            settings_mod.save(settings_mod.load().with_changes(rate=rate, volume=volume))
        except StorageError as exc:
            print(f"voice-guide: the new rate and volume were not saved. {exc}", file=sys.stderr)

    def keep_voice(name: str | None) -> None:
        try:
            if name is not None:
                settings_mod.save(voices.choose(settings_mod.load(), voices.named(name)))
        except StorageError as exc:
            print(f"voice-guide: the voice was not saved. {exc}", file=sys.stderr)

    def echo(text: str) -> None:
        print(text, flush=True)
        if engines.warm_up is not None:  # the first sound plays: now load what it did not need
            engines.warm_up()

    player: Player | None = None
    mic = None
    if listen and recordings is not None:
        mic = RecordingsIn(recordings, engines.clock.sleep, after=settings.trailing_silence + 0.7,
                           ready=lambda: player is not None and player.listening())
    elif listen and engines.microphone is not None:
        mic = engines.microphone()
    rig = Rig(engines.synthesizer, SpeakerOrText(engines.audio_out, engines.clock, echo), engines.clock, mic=mic,
              ears=engines.ears if listen else None, keys=None if recordings is not None else engines.keys,
              watch=engines.personal.watch if engines.personal else None, late_notices=engines.late_notices,
              renderer=engines.renderer, echo_memory=engines.echo_memory, echo_key=engines.echo_key)
    options = Options(voice=voice_settings(settings), trailing_silence=settings.trailing_silence,
                      max_utterance=settings.max_utterance, read_only=item is not None,
                      voices=tuple((v.name, v.label) for v in voices.TABLE),
                      voice_name=getattr(voices.current(settings), "name", None))
    player = Player(library.items, rig, options, Hooks(on_voice=remember_voice, on_keep_voice=keep_voice, echo=echo))
    can_answer = player.mic is not None or player.keys is not None
    first_time = welcome.first_time()
    try:
        with sigterm_stops():  # SIGTERM stops like Ctrl-C: silence at once, exit 130, no stray file
            player.run(item=item, resume=_resume(loaded, library, item) if can_answer else None, notices=notices,
                       first_time=first_time)
    finally:
        if item is None and first_time:
            welcome.remember()
        player.close()
        if engines.keys is not None:
            engines.keys.close()
        engines.synthesizer.close()
    return 0
