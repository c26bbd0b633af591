"""The error tree users can meet.

Every error carries one plain sentence that says what is wrong and what to do; the CLI prints
(and, where a voice is available, speaks) that sentence and exits with `exit_code`, never a traceback.
"""

from __future__ import annotations

import errno
from pathlib import Path


class VoiceGuideError(Exception):
    """Base of every error a user can hit; `str(err)` is the sentence shown and spoken."""

    exit_code = 1


class UsageError(VoiceGuideError):
    """A bad name, setting or argument given by the user."""

    exit_code = 2


class StorageError(VoiceGuideError):
    """One of the user's own files (settings) cannot be written, or would be written over unread."""


class ContentError(VoiceGuideError):
    """A content file is malformed; the message names the file and the field."""

    exit_code = 3


class EngineError(VoiceGuideError):
    """A speech, recognition or audio engine is missing or failed."""

    exit_code = 4


class DeviceError(EngineError):
    """No usable microphone or speaker, or one disappeared."""


NO_OUTPUT = (
    "No speaker or sound output was found. Plug in headphones or a speaker (or check that the sound "
    "system is running), then try again; voice-guide doctor lists the devices it can see."
)
NO_INPUT = (
    "No microphone was found. Plug in a microphone or headset (or check that the sound system is "
    "running), then try again; voice-guide doctor lists the devices it can see."
)


class ModelError(EngineError):
    """A recogniser model is missing, unreadable or corrupt."""


class ExportError(VoiceGuideError):
    """An export could not be written (folder missing or unwritable, disk full, ffmpeg missing)."""

    exit_code = 5


class WriteError(ExportError):
    """A file of an export could not be written (disk full, write refused): the one sentence for it,
    made from the OSError (or ffmpeg's words) behind it. `at` names the finished file instead of the
    temporary one being written when it failed."""

    def __init__(self, code: int | None, reason: str, file: Path | str, folder: Path | str | None = None) -> None:
        self.errno, self.reason, self.file = code, reason, Path(file)
        self.folder = Path(folder) if folder is not None else self.file.parent
        where = str(self.folder) if self.file == self.folder else self.file.name
        if code in (errno.ENOSPC, errno.EDQUOT):
            text = (f"The disk is full, so {where} could not be written; free some space and run the export "
                    "again (finished tracks are kept).")
        elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
            text = f"The folder {self.folder} cannot be written to ({reason}); choose a folder you own with --out."
        else:
            text = f"Could not write {where} in {self.folder} ({reason}); check the folder and run the export again."
        super().__init__(text)

    @classmethod
    def from_os(cls, exc: OSError, folder: Path) -> "WriteError":
        """`exc` as a failure to write in `folder` (the file it names, else the folder itself)."""
        return cls(exc.errno, exc.strerror or str(exc), exc.filename or folder, folder)

    def at(self, target: Path) -> "WriteError":
        return WriteError(self.errno, self.reason, target)


class AudioInputError(VoiceGuideError):
    """An audio file given to `hear` or `--input` cannot be read as sound."""

    exit_code = 6


def printable(text: str) -> str:
    """`text` with control characters (a newline or an escape sequence in a file name) written as
    escapes, so a sentence stays one line and never drives the terminal."""
    return "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)
