"""Which recogniser to use, and opening it: Whisper whenever its model is present (set-up installs
tiny.en), else Vosk when a Vosk model is found, else the embedded pocketsphinx; `settings set recogniser`
forces one. A missing, damaged or unloadable model never stops the guide: it falls back to the next
engine and says so once (`recognizer.notice`). Nothing is said about engines when all is well."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from voice_guide import paths
from voice_guide.understanding import whisper_models
from voice_guide.engines import Recognizer
from voice_guide.errors import ModelError, UsageError
from voice_guide.settings import Settings

LOG = logging.getLogger(__name__)

ENGLISH_MODEL = re.compile(r"vosk-model(-small)?-en(-us)?\b")
"""Names of English Vosk models as Vosk itself names them (vosk.Model(lang="en-us") looks for these)."""


ENGLISH_CHECK_WORDS = ("next", "stop", "yes", "pause", "repeat")
"""An installed model must know at least one of these, or it cannot hear any command."""


@dataclass(frozen=True)
class RecognizerChoice:
    """Which engine and model would be used, and why (for `voice-guide model` and `doctor`)."""

    engine: str
    """'whisper', 'vosk' or 'pocketsphinx'."""
    model: Path | None
    """The Whisper or Vosk model folder, or None for pocketsphinx's built-in model."""
    reason: str
    """One sentence: why this engine."""

    def __str__(self) -> str:
        where = f" (model {self.model})" if self.model else ""
        return f"{self.engine}{where}: {self.reason}"


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
                return child, f"an English Vosk model was found in {folder}"
    return None, "No Vosk model found, so I am using the built-in recogniser."


def _fallback(settings: Settings, why: str) -> RecognizerChoice:
    """The next engine when Whisper cannot be used: a Vosk model if one is found, else pocketsphinx."""
    model, found = find_vosk_model(settings)
    if model is not None and model.is_dir():
        return RecognizerChoice("vosk", model, f"{why} {found[0].upper()}{found[1:]} is used instead.")
    if model is not None:
        why += f" The Vosk model {model} was not found either."
    return RecognizerChoice("pocketsphinx", None, f"{why} The built-in recogniser is used instead.")


def recognizer_choice(settings: Settings) -> RecognizerChoice:
    """Which recogniser `open_recognizer` would open, and why (cheap: no model is loaded or hashed)."""
    if settings.recogniser == "pocketsphinx":
        return RecognizerChoice("pocketsphinx", None, "your settings ask for the built-in recogniser")
    if settings.recogniser == "vosk":
        model, why = find_vosk_model(settings)
        if model is None:
            return RecognizerChoice("pocketsphinx", None, "your settings ask for Vosk but no Vosk model is installed; "
                                    "install one with 'voice-guide model install ZIP_OR_FOLDER'")
        if not model.is_dir():
            return RecognizerChoice("pocketsphinx", None,
                                    f"{why} ({model}) does not exist; using the built-in recogniser")
        return RecognizerChoice("vosk", model, why)
    folder, why = whisper_models.find(settings.whisper_model)
    if folder is None:
        return _fallback(settings, why)
    asked = "your settings ask for Whisper; " if settings.recogniser == "whisper" else ""
    return RecognizerChoice("whisper", folder, f"{asked}{why}")


def checked_choice(settings: Settings) -> RecognizerChoice:
    """`recognizer_choice`, with the Whisper model's files and checksum checked (no model is loaded):
    what `voice-guide model` and `doctor` report."""
    choice = recognizer_choice(settings)
    if choice.engine == "whisper":
        try:
            whisper_models.verify(choice.model, whisper_models.MODELS[settings.whisper_model])
        except (ModelError, OSError) as err:
            return _fallback(settings, f"{err} {whisper_models.mend(settings.whisper_model)}")
    return choice


def open_recognizer(settings: Settings, phrases: Sequence[str], non_commands: Sequence[str] | None = None,
                    candidates: Sequence[str] = ()) -> Recognizer:
    """Open the recogniser the settings ask for: Whisper rescoring `candidates` (short command phrases);
    Vosk or pocketsphinx restricted to `phrases`. The returned object has `name` and `notice` (one
    sentence to say once when something the user relies on is missing, else "")."""
    choice = recognizer_choice(settings)
    notice = ""
    if choice.engine == "whisper":
        from voice_guide.adapters.whisper_asr import WhisperRecognizer

        try:
            whisper_models.verify(choice.model, whisper_models.MODELS[settings.whisper_model])
            return WhisperRecognizer(choice.model, candidates)
        except (ModelError, OSError) as err:
            LOG.info("Whisper model unusable: %s", err)
            choice = _fallback(settings, f"{err} {whisper_models.mend(settings.whisper_model)}")
            notice = choice.reason
    elif choice.engine == "pocketsphinx" and settings.recogniser != "pocketsphinx":
        notice = f"{choice.reason[0].upper()}{choice.reason[1:]}".rstrip(".") + "."
    if choice.engine == "vosk":
        from voice_guide.adapters.vosk_asr import VoskRecognizer

        try:
            recognizer = VoskRecognizer(choice.model, phrases)
            recognizer.notice = notice
            return recognizer
        except ModelError as err:
            LOG.info("Vosk model unusable: %s", err)
            notice = f"{err} So I am using the built-in recogniser."
    from voice_guide.adapters.pocketsphinx_asr import PocketsphinxRecognizer

    if non_commands is None:
        non_commands = _default_non_commands()
    recognizer = PocketsphinxRecognizer(phrases, non_commands)
    recognizer.notice = notice
    return recognizer


def _default_non_commands() -> list[str]:
    """The vocabulary's known non-commands that are safe to put in a grammar."""
    from voice_guide.understanding.vocabulary import build_vocabulary

    return build_vocabulary().non_commands(grammar_safe=True)


def _model_root(folder: Path) -> Path | None:
    """The Vosk model inside an unpacked folder (itself or one level down, as model zips are laid out)."""
    if looks_like_vosk_model(folder):
        return folder
    subdirs = [c for c in folder.iterdir() if c.is_dir() and looks_like_vosk_model(c)]
    return subdirs[0] if len(subdirs) == 1 else None


MAX_MODEL_BYTES = 6 * 2**30
"""Largest unpacked model `model install` takes (the largest English Vosk models are about 3 GB)."""
MAX_ZIP_RATIO = 20
"""Unpacked size over packed size above which a large zip is refused as a zip bomb (models pack to
about half their size)."""
INSTALLING = ".model-installing-"
"""Work folders of an install, in the data folder (never among the installed models)."""


def _zip_plan(source: Path) -> int:
    """Check a model zip from its directory alone, before anything is unpacked: every member stays
    inside, a Vosk model's acoustic model is there, and the unpacked size is plausible; returns that
    size."""
    import zipfile

    with zipfile.ZipFile(source) as zf:
        infos = zf.infolist()
    for info in infos:
        parts = Path(info.filename).parts
        if info.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise ModelError(f"{source} holds a file outside its folder; it is not a Vosk model.")
    if not any(len(Path(i.filename).parts) <= 4 and Path(i.filename).name == "final.mdl" for i in infos):
        raise ModelError(f"{source} does not contain a Vosk model (no am/final.mdl found).")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > MAX_MODEL_BYTES or (total > 100 * 2**20 and total > MAX_ZIP_RATIO * max(packed, 1)):
        raise ModelError(f"{source} would unpack to {total / 2**20:.0f} MB, which no Vosk model does; "
                         "it is damaged or not a model.")
    return total


def _folder_plan(source: Path) -> int:
    """Check a model folder before anything is copied: a Vosk model at its top or one level down,
    only folders and regular files (a pipe would never end), a plausible size; returns the size."""
    import stat

    if _model_root(source) is None:
        raise ModelError(f"{source} does not contain a Vosk model (no am/final.mdl found).")
    total = 0
    for folder, _, files in os.walk(source):
        for name in files:
            info = os.lstat(os.path.join(folder, name))
            if not stat.S_ISREG(info.st_mode):
                raise ModelError(f"{os.path.join(folder, name)} is not a regular file; a Vosk model folder "
                                 "holds only files and folders.")
            total += info.st_size
            if total > MAX_MODEL_BYTES:
                raise ModelError(f"{source} holds more than {MAX_MODEL_BYTES // 2**30} GB, which no Vosk "
                                 "model does; give the model's own folder.")
    return total


def install_model(source: Path, settings: Settings) -> tuple[Path, Settings]:
    """Install a Vosk model from a zip or a folder into the user data folder: check its layout and size
    (from the zip's directory, or the folder) and the free space first, then unpack or copy it into a
    work folder beside the models, check that Vosk loads it, rename it into place and record it in
    the settings. One install at a time; a stop (Ctrl-C, SIGTERM) removes the work folder, and one
    left by a kill is removed by the next install. Nothing half-copied is ever a model in use."""
    import secrets
    import shutil
    import zipfile

    from filelock import Timeout

    from voice_guide import settings as settings_mod
    from voice_guide.adapters.vosk_asr import load_model
    from voice_guide.fileio import exclusive

    source = paths.expand(str(source), "The model to install", "give the path of a Vosk model zip file or folder")
    if not source.exists():
        raise ModelError(f"{source} does not exist; give the path of a Vosk model zip file or folder.")
    data = paths.ensure(paths.data_dir())
    dest_dir = paths.ensure(installed_models_dir())
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(exclusive(data / ".model-install.lock", wait=0))
        except Timeout:
            raise ModelError("Another model installation is running; wait for it to finish.") from None
        for stale in [*data.glob(f"{INSTALLING}*"), *dest_dir.glob(".installing-*"), *dest_dir.glob(".old-*")]:
            shutil.rmtree(stale, ignore_errors=True)
        try:
            if source.is_dir():
                size = _folder_plan(source)
            elif zipfile.is_zipfile(source):
                size = _zip_plan(source)
            else:
                raise ModelError(f"{source} is neither a folder nor a zip file; give a Vosk model zip or folder.")
            free = shutil.disk_usage(data).free
        except (OSError, zipfile.BadZipFile) as exc:
            raise ModelError(f"Could not read the model {source} ({exc}).") from exc
        if size > free:
            raise ModelError(f"The model needs {size / 2**20:.0f} MB but only {free / 2**20:.0f} MB are free "
                             f"in {data}; free some space and try again.")
        work = data / f"{INSTALLING}{os.getpid()}-{secrets.token_hex(4)}"
        held.callback(shutil.rmtree, work, ignore_errors=True)  # before it exists: a stop never misses it
        work.mkdir()
        try:
            if source.is_dir():
                shutil.copytree(source, work / "new" / source.name)
            else:
                with zipfile.ZipFile(source) as zf:
                    zf.extractall(work / "new")
            unpacked = work / "new"
            root = _model_root(unpacked) or next(
                (r for c in unpacked.iterdir() if c.is_dir() and (r := _model_root(c))), None)
            if root is None:
                raise ModelError(f"{source} does not contain a Vosk model (no am/final.mdl found).")
            model = load_model(root)
            if not any(model.vosk_model_find_word(w) >= 0 for w in ENGLISH_CHECK_WORDS):
                raise ModelError(f"The Vosk model in {source} knows no English command words (it may be for another "
                                 "language); install an English model such as vosk-model-small-en-us-0.15.")
            del model
            final = dest_dir / (root.name if root != unpacked else source.stem)
            if final.exists():
                os.replace(final, work / "old")
            os.replace(root, final)
        except (OSError, zipfile.BadZipFile) as exc:
            raise ModelError(f"Could not install the model from {source} ({exc}).") from exc
    new_settings = settings.with_changes(vosk_model=str(final))
    settings_mod.save(new_settings)
    return final, new_settings


def download_english_model(settings: Settings) -> tuple[Path, Settings]:
    """Let Vosk fetch its small English model into its own cache (needs internet), then record it."""
    from voice_guide import settings as settings_mod

    try:
        import vosk

        class _Model(vosk.Model):
            """vosk.Model whose clean-up does not fail when the download did (no handle yet)."""

            def __del__(self) -> None:
                if hasattr(self, "_handle"):
                    super().__del__()

        vosk.SetLogLevel(-1)
        model = _Model(lang="en-us")
        del model
    except (Exception, SystemExit) as exc:
        raise ModelError("Could not download the English Vosk model (no internet connection?). On a computer with "
                         "internet, get vosk-model-small-en-us-0.15.zip from the Vosk models page, copy it here and "
                         "run: voice-guide model install vosk-model-small-en-us-0.15.zip") from exc
    found, _ = find_vosk_model(Settings())
    if found is None:
        raise ModelError("Vosk reported a download but no English model was found in its cache folder.")
    new_settings = settings.with_changes(vosk_model=str(found))
    settings_mod.save(new_settings)
    return found, new_settings
