"""`voice-guide` (the spoken menu) and `voice-guide read NAME` (one topic or session, then exit).

Both listen on the microphone for spoken commands and read single keys from the terminal; `--input
FILE.wav ...` says recorded utterances instead of the microphone (one after another, each once the
guide is listening), so a whole run can be scripted; `--no-listen` only speaks and takes keys.
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import sys
from dataclasses import dataclass, field
from typing import Callable

from voice_guide import progress, welcome
from voice_guide.background import Deferred
from voice_guide.chatter import library_messages_to_log
from voice_guide.commands.export import sigterm_stops
from voice_guide import settings as settings_mod
from voice_guide.content.loader import Library, load_library
from voice_guide.content.model import Item
from voice_guide.engines import RATE_MAX, RATE_MIN, AudioIn, AudioOut, Clock, Synthesizer
from voice_guide.errors import StorageError, UsageError
from voice_guide.listen import RecordingsIn
from voice_guide.player import Player, SystemClock
from voice_guide.session_events import Notice
from voice_guide.speech import voice_settings
from voice_guide.text_only import SpeakerOrText

ORDER = 1
INPUT_MAX_SECONDS = 60.0
"""Longest recording `--input` accepts: one spoken command, with room to spare."""


@dataclass
class Engines:
    """What a run talks to; tests hand in fakes."""

    synthesizer: Synthesizer
    audio_out: AudioOut
    clock: Clock
    microphone: Callable[[], AudioIn] | None
    """Opens the live microphone; None when not listening."""
    understand: Callable | None
    """audio -> Match; None when not listening."""
    personal: object | None
    """The user's enrolled voice (voice_guide.personal.PersonalModel), when there is one."""
    keys: object | None
    notices: list[str]
    late_notices: "queue.SimpleQueue[Notice]" = field(default_factory=queue.SimpleQueue)
    """What engines still loading in the background have to say, once they know."""
    warm_up: Callable[[], None] | None = None
    """Loads what the first words did not need; called once the first sound plays."""


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


def real_engines(settings: settings_mod.Settings, library: Library, listen: bool) -> Engines:
    """The synthesiser, speaker, microphone, recogniser and keyboard of this machine. Only what the
    first words need is opened before they play: PortAudio starts in the background at once, the
    recogniser and hearing's filters once the first sound plays (`warm_up`)."""
    from voice_guide.adapters.sounddevice_audio import SounddeviceIn, SounddeviceOut
    from voice_guide.keys import open_keys
    from voice_guide.speech import open_synthesizer

    speaker = SounddeviceOut(settings.output_device)
    if hasattr(speaker, "prepare"):
        Deferred(speaker.prepare, name="voice-guide-portaudio")
    notices: list[str] = []
    late: queue.SimpleQueue[Notice] = queue.SimpleQueue()
    later: list[Callable[[], object]] = [_warm_front_end]
    understand = personal = None
    if listen:
        from voice_guide.background import LoadingRecognizer
        from voice_guide.ears import open_recognizer_for, open_understander
        from voice_guide.matching import build_vocabulary
        from voice_guide.personal import PersonalModel

        vocab = build_vocabulary(library.items)
        # No recogniser at all is said once (and the keyboard goes on) rather than not start.
        recognizer = LoadingRecognizer(lambda: open_recognizer_for(settings, vocab),
                                       lambda text, deaf: late.put(Notice(text, deaf)))
        later.insert(0, recognizer.start)
        model = PersonalModel.load()
        if model.notice:
            notices.append(model.notice)
        personal = model if model.active else None
        understand = open_understander(settings, library.items, personal, recognizer=recognizer).understand
    warm = Deferred(lambda: [load() for load in later], name="voice-guide-warm-up", start=False)
    return Engines(
        synthesizer=open_synthesizer(settings),
        audio_out=speaker,
        clock=SystemClock(),
        microphone=(lambda: SounddeviceIn(settings.input_device)) if listen else None,
        understand=understand,
        personal=personal,
        keys=open_keys(),
        notices=notices,
        late_notices=late,
        warm_up=warm.start,
    )


def _warm_front_end() -> None:
    """Hearing's first use imports its resampler and filters (about a second on a busy machine): done
    here, in the background, rather than when the user first speaks or mid-sentence."""
    import numpy as np

    from voice_guide.audio import Audio
    from voice_guide.frontend import FrontEnd

    noise = np.random.default_rng(0).normal(0.0, 0.01, 11025).astype(np.float32)
    FrontEnd().prepare(Audio(noise, 22050))


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
    with contextlib.ExitStack() as stack:
        if engines is None:
            stack.enter_context(library_messages_to_log())
        return _run(args, engines, library)


def _run(args: argparse.Namespace, engines: Engines | None, library: Library | None) -> int:
    settings = settings_mod.load()
    if args.rate is not None:
        settings = settings.with_changes(rate=args.rate)
    library = library or load_library()
    item = library.get(args.name) if args.name else None
    recordings = None
    if args.input:
        from voice_guide.audio_files import read_utterance

        recordings = [read_utterance(path, max_seconds=INPUT_MAX_SECONDS) for path in args.input]
    listen = not args.no_listen
    engines = engines or real_engines(settings, library, listen)
    loaded = progress.load()
    notices = [n for n in (settings.notice, loaded.notice, *engines.notices) if n]

    def remember_voice(rate: int, volume: float) -> None:
        try:
            settings_mod.save(settings_mod.load().with_changes(rate=rate, volume=volume))
        except StorageError as exc:
            print(f"voice-guide: the new rate and volume were not saved. {exc}", file=sys.stderr)

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
    player = Player(
        library.items, engines.synthesizer, SpeakerOrText(engines.audio_out, engines.clock, echo), engines.clock,
        mic=mic, understand=engines.understand if listen else None,
        keys=None if recordings is not None else engines.keys,  # type: ignore[arg-type]
        voice=voice_settings(settings), trailing_silence=settings.trailing_silence,
        max_utterance=settings.max_utterance, read_only=item is not None, on_voice=remember_voice,
        echo=echo, watch=getattr(engines.personal, "watch", None), late_notices=engines.late_notices,
    )
    if engines.personal is not None:
        engines.personal.is_paused = lambda: player.session.mode == "paused"  # type: ignore[attr-defined]
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
            engines.keys.close()  # type: ignore[attr-defined]
        engines.synthesizer.close()
    return 0
