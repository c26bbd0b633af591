"""The user's settings: a small versioned JSON file, written atomically.

A file that is corrupt, truncated, from a newer version or not ours is moved aside as a backup, the
defaults are used, and `Settings.notice` holds one sentence to tell the user (once).
"""

from __future__ import annotations

import errno
import json
import os
import stat
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from voice_guide import paths
from voice_guide.engines import RATE_MAX, RATE_MIN, VOLUME_MAX, VOLUME_MIN
from voice_guide.errors import StorageError, UsageError
from voice_guide.fileio import atomic_write_text, set_aside, unstoppable

FORMAT = "voice-guide-settings"
VERSION = 2
"""2: Piper became the default voice; a version-1 file's "pyttsx3" was the old default, written out
with every save, so it reads as the new default."""
RECOGNISERS = ("auto", "whisper", "vosk", "pocketsphinx")
WHISPER_MODELS = ("tiny.en", "base")
SYNTHESIZERS = ("piper", "kokoro", "pyttsx3", "espeak-ng")


@dataclass(frozen=True)
class Settings:
    """Everything a user may set; every field has a safe default."""

    rate: int = 150
    """Speaking rate in words per minute (RATE_MIN to RATE_MAX)."""
    volume: float = 1.0
    """Speech volume, VOLUME_MIN to VOLUME_MAX."""
    voice: str | None = None
    """Synthesiser voice: Kokoro's voice (e.g. 'af_heart') with the kokoro synthesizer, an espeak-ng
    voice with espeak-ng or pyttsx3; None for the default English voice."""
    synthesizer: str = "piper"
    """'piper' (default, the calm neural voice; espeak-ng through pyttsx3 when it cannot load), 'kokoro'
    (Kokoro's English voices, chosen by `voice`), 'pyttsx3' (the espeak-ng voice) or 'espeak-ng' (the
    same voice, called directly). `voice_guide.speaking.voices` sets both from one voice's name."""
    recogniser: str = "auto"
    """'auto' uses Whisper when its model is present, else Vosk when a Vosk model is, else pocketsphinx."""
    whisper_model: str = "tiny.en"
    """'tiny.en' (shipped, fast) or 'base' (larger; `voice-guide model install --whisper base`)."""
    vosk_model: str | None = None
    """Path of a Vosk model folder; VOICE_GUIDE_VOSK_MODEL overrides it."""
    trailing_silence: float = 0.8
    """Seconds of quiet that end an utterance; raise it for slow speakers."""
    max_utterance: float = 4.0
    """Longest utterance in seconds; longer speech is not a command."""
    input_device: str | None = None
    """sounddevice input device name or index; None for the system default."""
    output_device: str | None = None
    """sounddevice output device name or index; None for the system default."""
    notice: str = field(default="", compare=False)
    """Set when the file could not be used: one sentence to tell the user."""

    def validated(self) -> "Settings":
        problems = []
        if not RATE_MIN <= int(self.rate) <= RATE_MAX:
            problems.append(f"rate must be {RATE_MIN} to {RATE_MAX} words a minute, not {self.rate}")
        if not VOLUME_MIN <= float(self.volume) <= VOLUME_MAX:
            problems.append(f"volume must be {VOLUME_MIN} to {VOLUME_MAX}, not {self.volume}")
        if self.synthesizer not in SYNTHESIZERS:
            problems.append(f"synthesizer must be one of {', '.join(SYNTHESIZERS)}")
        if self.recogniser not in RECOGNISERS:
            problems.append(f"recogniser must be one of {', '.join(RECOGNISERS)}")
        if self.whisper_model not in WHISPER_MODELS:
            problems.append(f"whisper_model must be one of {', '.join(WHISPER_MODELS)}")
        if not 0.2 <= float(self.trailing_silence) <= 5.0:
            problems.append("trailing_silence must be 0.2 to 5 seconds")
        if not 1.0 <= float(self.max_utterance) <= 15.0:
            problems.append("max_utterance must be 1 to 15 seconds")
        if problems:
            raise UsageError("Bad setting: " + "; ".join(problems) + ".")
        return self

    def with_changes(self, **changes) -> "Settings":
        return replace(self, **changes).validated()

    def vosk_model_path(self) -> str | None:
        return os.environ.get("VOICE_GUIDE_VOSK_MODEL") or self.vosk_model


def settings_path() -> Path:
    return paths.config_dir() / "settings.json"


def _from_dict(data: dict) -> Settings:
    if data.get("format") != FORMAT:
        raise ValueError("not a voice-guide settings file")
    if int(data.get("version", 0)) > VERSION:
        raise ValueError(f"written by a newer voice-guide (version {data.get('version')})")
    known = {f.name for f in fields(Settings)} - {"notice"}
    values = {k: v for k, v in data.get("settings", {}).items() if k in known}
    if int(data.get("version", 0)) < 2 and values.get("synthesizer") == "pyttsx3":
        values["synthesizer"] = Settings.synthesizer
    return Settings(**values).validated()


def load(path: Path | None = None) -> Settings:
    """The saved settings, or the defaults (with a notice) when the file cannot be used."""
    path = path or settings_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        return Settings(notice=f"Your settings could not be read ({exc.strerror}); using the defaults.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        kept = set_aside(path)
        return Settings(notice=f"Your settings file could not be used (it is not text); using the defaults.{kept}")
    try:
        return _from_dict(json.loads(text))
    except (ValueError, TypeError, AttributeError, ArithmeticError, RecursionError, UsageError) as exc:
        kept = set_aside(path)
        return Settings(notice=f"Your settings file could not be used ({exc}); using the defaults.{kept}")


def save(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings; a StorageError (one sentence) when they cannot be written, or when a
    settings file is there that could not be read, which is never written over unseen."""
    path = path or settings_path()
    values = {k: v for k, v in asdict(settings.validated()).items() if k != "notice"}
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
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):  # nothing there to lose
        return
    except OSError as exc:
        why = exc.strerror or str(exc)
    else:
        if not stat.S_ISREG(info.st_mode):
            why = "it is not a file"
        else:
            try:
                with open(path, "rb"):
                    return
            except OSError as exc:
                why = exc.strerror or str(exc)
    raise StorageError(f"Your settings file {path} could not be read ({why}), so I will not write over it; "
                       "make it readable or move it away, then try again.")
