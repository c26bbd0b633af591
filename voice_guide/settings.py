"""The user's settings: a small versioned JSON file, written atomically.

A file that is corrupt, truncated, from a newer version or not ours is moved aside as a backup, the
defaults are used, and `Settings.notice` holds one sentence to tell the user (once).
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal, Optional, Union, get_args

from voice_guide import paths, schema
from voice_guide.engines import (DEFAULT_LUFS, LONGEST_UTTERANCE, LUFS_MAX, LUFS_MIN, RATE_MAX, RATE_MIN,
                                  TRAILING_SILENCE, VOLUME_MAX, VOLUME_MIN)
from voice_guide.errors import StorageError, UsageError
from voice_guide.fileio import LIMITS, RefusedFile, atomic_write_text, open_regular, read_own, set_aside, unstoppable

FORMAT = "voice-guide-settings"
VERSION = 3
"""2: Piper became the default voice (a version-1 file's "pyttsx3" with no voice of its own was the old
default, written out with every save, so it reads as the default). 3: the default voice is written as no synthesizer at
all, so only a voice the user chose is ever written out, and the default can change without moving
anyone who chose. A version-2 file's "piper" stays Piper: it may be the default written out or Joe
chosen by ear, and the two cannot be told apart."""
DEFAULT_SYNTHESIZER = "kokoro"
"""The synthesizer of the default voice: Kokoro, with its first voice (`kokoro_tts.VOICES`)."""
Recogniser = Literal["auto", "whisper", "vosk", "pocketsphinx"]
WhisperName = Literal["tiny.en", "base"]
Synthesiser = Literal["kokoro", "piper", "pyttsx3", "espeak-ng"]
RECOGNISERS, WHISPER_MODELS, SYNTHESIZERS = get_args(Recogniser), get_args(WhisperName), get_args(Synthesiser)
Name = schema.text(200)
"""A voice or device name."""
Device = Union[schema.between(0, 9999, whole=True), Name, None]
"""A sound device by number or (part of its) name; None for the system's default."""
MAX_UTTERANCE = 15.0
"""The longest an utterance can be set to last, in seconds: the most a take of a command can last."""


@dataclass(frozen=True)
class Settings:
    """Everything a user may set; every field has a safe default. The field types are the settings
    file's schema (see `voice_guide.schema`): a hand-edited value of the wrong type or out of range is
    refused when the file is read, never met later."""

    rate: schema.between(RATE_MIN, RATE_MAX, "words a minute", whole=True) = 150
    """Speaking rate in words per minute."""
    volume: schema.between(VOLUME_MIN, VOLUME_MAX) = 1.0
    """Speech volume."""
    voice: Optional[Name] = None
    """Synthesiser voice: Kokoro's voice (e.g. 'af_heart') with the kokoro synthesizer, an espeak-ng
    voice with espeak-ng or pyttsx3; None for the default English voice."""
    synthesizer: Optional[Synthesiser] = None
    """None for the default voice (DEFAULT_SYNTHESIZER; Piper's Joe when Kokoro's model cannot load),
    or the one chosen: 'kokoro' (Kokoro's English voices, chosen by `voice`), 'piper' (Piper's Joe;
    espeak-ng through pyttsx3 when it cannot load), 'pyttsx3' (the espeak-ng voice) or 'espeak-ng' (the
    same voice, called directly). `voice_guide.speaking.voices` sets both from one voice's name."""
    recogniser: Recogniser = "auto"
    """'auto' uses Whisper when its model is present, else Vosk when a Vosk model is, else pocketsphinx."""
    whisper_model: WhisperName = "tiny.en"
    """'tiny.en' (shipped, fast) or 'base' (larger; `voice-guide model install --whisper base`)."""
    command_model: bool = True
    """Let the command model (`understanding.command_model`) decide with the recogniser; off: the
    recogniser and the matcher alone."""
    vosk_model: Optional[schema.PathText] = None
    """Path of a Vosk model folder; VOICE_GUIDE_VOSK_MODEL overrides it."""
    trailing_silence: schema.between(0.2, 5.0, "seconds") = TRAILING_SILENCE
    """Seconds of quiet that end an utterance; raise it for slow speakers."""
    max_utterance: schema.between(1.0, MAX_UTTERANCE, "seconds") = LONGEST_UTTERANCE
    """Longest utterance in seconds; longer speech is not a command."""
    loudness: schema.between(LUFS_MIN, LUFS_MAX, "LUFS") = DEFAULT_LUFS
    """Exported tracks' integrated loudness in LUFS; -16 suits phones."""
    input_device: Device = None
    """sounddevice input device name or index; None for the system default."""
    output_device: Device = None
    """sounddevice output device name or index; None for the system default."""
    notice: str = field(default="", compare=False)
    """Set when the file could not be used: one sentence to tell the user."""

    def validated(self) -> "Settings":
        """Itself, when every value fits the schema; else UsageError naming the one that does not."""
        try:
            schema.convert(_values(self), Settings)
        except ValueError as exc:
            raise UsageError(f"Bad setting: {exc}.") from None
        return self

    @property
    def speaks_with(self) -> str:
        """The synthesizer the settings ask for: the chosen one, or the default's."""
        return self.synthesizer or DEFAULT_SYNTHESIZER

    def with_changes(self, **changes) -> "Settings":
        return replace(self, **changes).validated()

    def vosk_model_path(self) -> str | None:
        return os.environ.get("VOICE_GUIDE_VOSK_MODEL") or self.vosk_model


def settings_path() -> Path:
    return paths.config_dir() / "settings.json"


def _values(settings: Settings) -> dict:
    """What is saved: every field but the notice."""
    return {k: v for k, v in asdict(settings).items() if k != "notice"}


@dataclass(frozen=True)
class SettingsFile:
    """The file around the settings; settings this version does not know are ignored."""

    format: schema.text(100)
    settings: dict = field(default_factory=dict)
    version: schema.between(0, 10**6, whole=True) = 0


def _from_json(text: str) -> Settings:
    data = schema.decode_json(text, SettingsFile)
    if data.format != FORMAT:
        raise ValueError("not a voice-guide settings file")
    if data.version > VERSION:
        raise ValueError(f"written by a newer voice-guide (version {data.version})")
    values = dict(data.settings)
    if data.version < 2 and values.get("synthesizer") == "pyttsx3" and values.get("voice") is None:
        values["synthesizer"] = None
    values.pop("notice", None)
    return schema.convert(values, Settings)


def load(path: Path | None = None) -> Settings:
    """The saved settings, or the defaults (with a notice) when the file cannot be used."""
    path = path or settings_path()
    try:
        data = read_own(path, "settings")
    except FileNotFoundError:
        return Settings()
    except RefusedFile as exc:
        kept = set_aside(path)
        return Settings(notice=f"Your settings file could not be used ({exc}); using the defaults.{kept}")
    except OSError as exc:
        return Settings(notice=f"Your settings could not be read ({exc.strerror}); using the defaults.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        kept = set_aside(path)
        return Settings(notice=f"Your settings file could not be used (it is not text); using the defaults.{kept}")
    try:
        return _from_json(text)
    except ValueError as exc:
        kept = set_aside(path)
        return Settings(notice=f"Your settings file could not be used ({exc}); using the defaults.{kept}")


def save(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings; a StorageError (one sentence) when they cannot be written, or when a
    settings file is there that could not be read, which is never written over unseen."""
    path = path or settings_path()
    values = _values(settings.validated())
    _check_readable(path)
    try:
        paths.ensure(path.parent)
        with unstoppable():
            atomic_write_text(path, json.dumps({"format": FORMAT, "version": VERSION, "settings": values}, indent=2))
    except OSError as exc:
        why = ("a part of that path is a file, not a folder" if exc.errno in (errno.EEXIST, errno.ENOTDIR)
               else exc.strerror or str(exc))
        raise StorageError(f"Your settings could not be saved in {path.parent} ({why}); "
                           "check that this folder can be written to.") from exc
    return path


def _check_readable(path: Path) -> None:
    """Refuse to replace a settings file that is there but cannot be read (or is not a file)."""
    try:
        with open_regular(path, LIMITS["settings"]):
            return
    except (FileNotFoundError, NotADirectoryError):  # nothing there to lose
        return
    except RefusedFile as exc:
        why = str(exc)
    except OSError as exc:
        why = exc.strerror or str(exc)
    raise StorageError(f"Your settings file {path} could not be read ({why}), so I will not write over it; "
                       "make it readable or move it away, then try again.")
