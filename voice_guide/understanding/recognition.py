"""What each recogniser needs, found or not on this machine: the Whisper model, a Vosk model, nothing for
the embedded pocketsphinx. `engine_table.ENGINES` chooses among them in that order (`settings set recogniser`
forces one); a missing, damaged or unloadable model never stops the guide: the next engine stands in and
that is said once (`recognizer.notice`). Nothing is said about engines when all is well."""

from __future__ import annotations

import os
import re
from pathlib import Path

from voice_guide import paths
from voice_guide.understanding import whisper_models
from voice_guide.engines import Found
from voice_guide.errors import ModelError, UsageError
from voice_guide.settings import Settings

ENGLISH_MODEL = re.compile(r"vosk-model(-small)?-en(-us)?\b")
"""Names of English Vosk models as Vosk itself names them (vosk.Model(lang="en-us") looks for these)."""


def installed_models_dir() -> Path:
    """Where `voice-guide model install` puts Vosk models."""
    return paths.data_dir() / "models"


def vosk_search_dirs() -> list[Path]:
    """Vosk's own model folders (vosk.MODEL_DIRS), without importing vosk."""
    dirs = [os.environ.get("VOSK_MODEL_PATH"), "/usr/share/vosk", Path.home() / "AppData/Local/vosk",
            Path.home() / ".cache/vosk"]
    return [Path(d) for d in dirs if d]


def looks_like_vosk_model(path: Path) -> bool:
    """A folder laid out as a Vosk (Kaldi) model: an acoustic model and a decoding graph."""
    return (path / "am" / "final.mdl").is_file() or (path / "final.mdl").is_file()


def find_vosk_model(settings: Settings) -> tuple[Path | None, str]:
    """The Vosk model to use and where it was found; (None, why not) when there is none."""
    configured = settings.vosk_model_path()
    if configured:
        source = "VOICE_GUIDE_VOSK_MODEL" if os.environ.get("VOICE_GUIDE_VOSK_MODEL") else "your settings"
        try:
            return paths.expand(configured, f"The Vosk model named in {source}", "name a folder"), \
                f"the Vosk model named in {source}"
        except UsageError as err:
            return None, f"{err} So I am using the built-in recogniser."
    installed = installed_models_dir()
    for folder in [installed, *vosk_search_dirs()]:
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir(), reverse=True):
            english = folder == installed or ENGLISH_MODEL.match(child.name)
            hidden = child.name.startswith(".")  # an install's work folder, never a finished model
            if not hidden and child.is_dir() and english and looks_like_vosk_model(child):
                return child, f"the English Vosk model found in {folder}"
    return None, "No Vosk model was found."


def find_whisper(settings: Settings, thorough: bool = False) -> Found:
    """The Whisper model the settings name; `thorough` also checks its files and checksum (no model is
    loaded)."""
    folder, why = whisper_models.find(settings.whisper_model)
    if folder is None:
        return Found(False, why)
    if thorough:
        try:
            whisper_models.verify(folder, whisper_models.MODELS[settings.whisper_model])
        except (ModelError, OSError) as err:
            return Found(False, f"{err} {whisper_models.mend(settings.whisper_model)}")
    asked = "your settings ask for Whisper; " if settings.recogniser == "whisper" else ""
    return Found(True, f"{asked}{why}", folder)


def find_vosk(settings: Settings, thorough: bool = False) -> Found:
    """A Vosk model: the one the settings name, else one installed or in Vosk's own folders. Nothing is
    said about a Vosk model nobody asked for."""
    model, why = find_vosk_model(settings)
    if model is None:
        asked = settings.recogniser == "vosk"
        return Found(False, "Your settings ask for Vosk but no Vosk model is installed; install one with "
                     "'voice-guide model install ZIP_OR_FOLDER'." if asked else "")
    if not model.is_dir():
        return Found(False, f"The Vosk model {model} ({why}) was not found.")
    return Found(True, why, model)


def find_pocketsphinx(settings: Settings, thorough: bool = False) -> Found:
    """Always there: its English model comes with the package."""
    if settings.recogniser == "pocketsphinx":
        return Found(True, "your settings ask for the built-in recogniser")
    return Found(True, "the built-in recogniser")


def default_non_commands() -> list[str]:
    """The vocabulary's known non-commands that are safe to put in a grammar."""
    from voice_guide.understanding.vocabulary import build_vocabulary

    return build_vocabulary().non_commands(grammar_safe=True)
