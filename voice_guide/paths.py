"""Where the guide keeps its files: per-user folders from platformdirs, or all under
`VOICE_GUIDE_HOME` when that is set (tests and portable installs)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from voice_guide.errors import UsageError

APP = "voice-guide"


def expand(value: str, what: str, mend: str = "set it to a folder, or unset it") -> Path:
    """`value` with a leading ~ or ~user expanded; UsageError (one sentence naming `what`, saying how to
    `mend` it) when it names no user's home folder."""
    try:
        return Path(value).expanduser()
    except RuntimeError:  # '~nouser/x': no such user, so no home to expand
        raise UsageError(f"{what} is {value!r}, but that names no user's home folder; {mend}.") from None


def _home() -> Path | None:
    value = os.environ.get("VOICE_GUIDE_HOME")
    return expand(value, "VOICE_GUIDE_HOME") if value else None


def config_dir() -> Path:
    home = _home()
    return home / "config" if home else Path(platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    home = _home()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP))


def cache_dir() -> Path:
    home = _home()
    return home / "cache" if home else Path(platformdirs.user_cache_dir(APP))


def ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
