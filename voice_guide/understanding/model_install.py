"""Installing a Vosk model the user brings (a zip or a folder) or lets Vosk download: checked before
anything is unpacked, unpacked beside the models, loaded once, then renamed into place. Nothing
half-copied is ever a model in use."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from voice_guide import paths
from voice_guide.errors import ModelError
from voice_guide.settings import Settings
from voice_guide.understanding.recognition import find_vosk_model, installed_models_dir, looks_like_vosk_model

ENGLISH_CHECK_WORDS = ("next", "stop", "yes", "pause", "repeat")
"""An installed model must know at least one of these, or it cannot hear any command."""


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
