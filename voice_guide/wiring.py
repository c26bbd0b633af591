"""The one place that assembles what a run talks to from this machine's real engines: synthesiser,
speaker, microphone, keyboard, clock, recogniser (with the matcher and the user's enrolled voice around
it) and the export's encoder. Which recogniser and which voice is `voice_guide.engine_table`'s to say.

Commands are handed a `Devices` (the real ones by default) and build what they need through it; tests
hand in fakes the same way, as httpx takes a `transport=`: nothing is patched in.
"""

from __future__ import annotations

import queue
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from voice_guide import paths
from voice_guide.background import Deferred
from voice_guide.content.model import Item
from voice_guide.engine_table import open_recognizer_for, open_synthesizer
from voice_guide.engines import AudioIn, AudioOut, Clock, EchoMemory, KeySource, Recognizer, Synthesizer
from voice_guide.export.tracks import Encoder
from voice_guide.live.clock import SystemClock
from voice_guide.session.events import Notice
from voice_guide.settings import Settings
from voice_guide.understanding.understand import CommandScorer, Ears, Understander
from voice_guide.understanding.vocabulary import Vocabulary, build_vocabulary

if TYPE_CHECKING:
    from voice_guide.understanding.command_model import Embedder
    from voice_guide.voice.personal import PersonalModel


def _speaker(device: str | None) -> AudioOut:
    from voice_guide.adapters.sounddevice_speaker import SounddeviceOut

    return SounddeviceOut(device)


def _microphone(device: str | None) -> AudioIn:
    from voice_guide.adapters.sounddevice_audio import SounddeviceIn

    return SounddeviceIn(device)


def _listing() -> tuple[list, list]:
    from voice_guide.adapters.sounddevice_audio import list_devices

    return list_devices()


def _voices() -> list:
    from voice_guide.adapters.espeak_tts import list_voices

    return list_voices()


def _keys() -> KeySource | None:
    from voice_guide.keys import open_keys

    return open_keys()


def _command_model(vocab: Vocabulary, recognizer: Recognizer) -> "CommandScorer | None":
    from voice_guide.understanding.command_model import open_command_model

    return open_command_model(vocab, recognizer)


def echo_file() -> Path:
    """Where the echo paths barge-in learns are kept."""
    return paths.data_dir() / "echo.json"


def _echo_memory() -> EchoMemory:
    from voice_guide.adapters.echo_file import EchoFile

    return EchoFile(echo_file())


def echo_key(settings: Settings) -> str:
    """The speaker and microphone pair an echo path is kept for (`EchoMemory`)."""
    return f"{settings.output_device if settings.output_device is not None else 'default'} -> " \
           f"{settings.input_device if settings.input_device is not None else 'default'}"


def _encoder() -> Encoder:
    from voice_guide.adapters.pydub_export import PydubEncoder

    return PydubEncoder()


@dataclass
class Devices:
    """How this machine's engines are opened; each field may be replaced by a fake."""

    speaker: Callable[[str | None], AudioOut] = _speaker
    """Output device name or index (None: the default) -> a speaker."""
    microphone: Callable[[str | None], AudioIn] = _microphone
    listing: Callable[[], tuple[list, list]] = _listing
    """The (microphones, speakers) this machine has, as `sounddevice_audio.DeviceInfo`s."""
    voices: Callable[[], list] = _voices
    """The espeak-ng voices this machine has, as `espeak_tts.EspeakVoice`s (EngineError: no espeak-ng)."""
    keys: Callable[[], KeySource | None] = _keys
    """The terminal's keys, or None when there is no terminal."""
    clock: Clock = field(default_factory=SystemClock)
    synthesizer: Callable[..., Synthesizer] = open_synthesizer
    """(settings, tell=None) -> the voice; the guide hands `tell`, which takes the one sentence a voice
    tried by ear says, once, when another stands in for it (`engine_table.open_synthesizer`)."""
    recognizer: Callable[[Settings, Vocabulary], Recognizer] = open_recognizer_for
    command_model: Callable[[Vocabulary, Recognizer], "CommandScorer | None"] = _command_model
    """The command model for this vocabulary, hearing through the recogniser's encoder
    (`understanding.command_model`); None when the recogniser has none; raises EngineError when it
    cannot be used."""
    encoder: Callable[[], Encoder] = _encoder
    """Writes exported sound files."""
    echo_memory: Callable[[], EchoMemory] = _echo_memory
    """Where the echo path barge-in learns is kept for each speaker and microphone pair."""


@dataclass
class Engines:
    """What a run talks to; tests hand in fakes."""

    synthesizer: Synthesizer
    audio_out: AudioOut
    clock: Clock
    microphone: Callable[[], AudioIn] | None
    """Opens the live microphone; None when not listening."""
    ears: Ears | None
    """What the microphone's utterances mean; None when not listening."""
    personal: "PersonalModel | None"
    """The user's enrolled voice, when there is one."""
    keys: KeySource | None
    notices: list[str]
    late_notices: "queue.SimpleQueue[Notice]" = field(default_factory=queue.SimpleQueue)
    """What engines still loading in the background have to say, once they know."""
    warm_up: Callable[[], None] | None = None
    """Loads what the first words did not need; called once the first sound plays."""
    renderer: Executor | None = None
    """Renders what the guide says while its loop goes on hearing (None: in the loop)."""
    echo_memory: EchoMemory | None = None
    """Keeps barge-in's echo path for the pair `echo_key` names (None when not listening)."""
    echo_key: str = ""


def _open_now(open_it: Callable[[], CommandScorer | None], notices: list[str]) -> CommandScorer | None:
    """The command model at once (`hear`); when it cannot be used, one sentence and None."""
    from voice_guide.errors import EngineError

    try:
        return open_it()
    except EngineError as err:
        notices.append(f"{err} Whisper and the matcher decide alone.")
        return None


def open_hearing(settings: Settings, items: Iterable[Item], devices: Devices,
                 wrap: Callable[[Callable[[], Recognizer]], Recognizer] = lambda open_it: open_it(),
                 wrap_model: Callable[[Callable[[], CommandScorer | None]], CommandScorer] | None = None,
                 ) -> tuple[Understander, "PersonalModel | None", list[str]]:
    """Recogniser + matcher + command model + the user's enrolled voice, as the guide and `hear` both
    use them: the understander, the enrolled voice (None when there is none) and what to tell the user.
    `wrap` and `wrap_model` may open the recogniser and the command model later (the guide's
    background loader); the command model is left out when the settings turn it off."""
    from voice_guide.voice.personal import PersonalModel

    vocab = build_vocabulary(list(items))
    recognizer = wrap(lambda: devices.recognizer(settings, vocab))
    model = PersonalModel.load(encoding=recognizer)  # type: ignore[arg-type]
    personal = model if model.active else None
    notices = [model.notice] if model.notice else []
    commands = None
    if settings.command_model:
        open_model = lambda: devices.command_model(vocab, recognizer)  # noqa: E731
        commands = wrap_model(open_model) if wrap_model else _open_now(open_model, notices)
    return Understander(recognizer, vocab, personal, commands=commands), personal, notices


def open_embedder(settings: Settings, items: Iterable[Item], devices: Devices) -> tuple["Embedder | None", str]:
    """The recogniser's encoder, for enrolment to keep each take as it hears it (None when the
    recogniser has none), and what to tell the user when the recogniser cannot be opened."""
    from voice_guide.errors import EngineError
    from voice_guide.understanding.command_model import embedding_of

    try:
        return embedding_of(devices.recognizer(settings, build_vocabulary(list(items)))), ""
    except EngineError as err:
        return None, f"{err} Your takes are kept as sound samples only."


def build_engines(settings: Settings, items: Iterable[Item], listen: bool, devices: Devices | None = None) -> Engines:
    """The synthesiser, speaker, microphone, recogniser and keyboard of this machine. Only what the
    first words need is opened before they play: PortAudio starts in the background at once, the
    recogniser and hearing's filters once the first sound plays (`warm_up`)."""
    devices = devices or Devices()
    speaker = devices.speaker(settings.output_device)
    Deferred(speaker.prepare, name="voice-guide-portaudio")
    notices: list[str] = []
    late: queue.SimpleQueue[Notice] = queue.SimpleQueue()
    later: list[Callable[[], object]] = [_warm_front_end]
    ears = personal = None
    if listen:
        from voice_guide.background import LoadingRecognizer, LoadingScorer

        def loading(open_it: Callable[[], Recognizer]) -> Recognizer:
            # No recogniser at all is said once (and the keyboard goes on) rather than not start.
            recognizer = LoadingRecognizer(open_it, lambda text, deaf: late.put(Notice(text, deaf)))
            later.insert(0, recognizer.start)
            return recognizer

        def loading_model(open_it: Callable[[], CommandScorer | None]) -> CommandScorer:
            scorer = LoadingScorer(open_it, lambda text, deaf: late.put(Notice(text, deaf)))
            later.insert(1, scorer.start)
            return scorer

        ears, personal, said = open_hearing(settings, items, devices, loading, loading_model)
        notices.extend(said)
    warm = Deferred(lambda: [load() for load in later], name="voice-guide-warm-up", start=False)
    synthesizer = devices.synthesizer(settings, tell=lambda text: late.put(Notice(text)))
    if synthesizer.notice:
        notices.append(synthesizer.notice)  # Piper could not load: the espeak-ng voice speaks instead
    return Engines(
        synthesizer=synthesizer,
        audio_out=speaker,
        clock=devices.clock,
        microphone=(lambda: devices.microphone(settings.input_device)) if listen else None,
        ears=ears,
        personal=personal,
        keys=devices.keys(),
        notices=notices,
        late_notices=late,
        warm_up=warm.start,
        # On real time the loop must not stop hearing while a sentence renders; a fake clock's loop
        # waits for it, so that a run on it stays the same every time.
        renderer=ThreadPoolExecutor(1, "voice-guide-render") if isinstance(devices.clock, SystemClock) else None,
        echo_memory=devices.echo_memory() if listen else None,
        echo_key=echo_key(settings),
    )


def _warm_front_end() -> None:
    """Hearing's first use imports its resampler and filters (about a second on a busy machine): done
    here, in the background, rather than when the user first speaks or mid-sentence."""
    import numpy as np

    from voice_guide.audio import Audio
    from voice_guide.hearing.frontend import FrontEnd

    noise = np.random.default_rng(0).normal(0.0, 0.01, 11025).astype(np.float32)
    FrontEnd().prepare(Audio(noise, 22050))
