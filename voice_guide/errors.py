"""The error tree users can meet.

Every error carries one plain sentence that says what is wrong and what to do; the CLI prints
(and, where a voice is available, speaks) that sentence and exits with `exit_code`, never a traceback.
"""


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


class ModelError(EngineError):
    """A recogniser model is missing, unreadable or corrupt."""


class ExportError(VoiceGuideError):
    """An export could not be written (folder missing or unwritable, disk full, ffmpeg missing)."""

    exit_code = 5


class AudioInputError(VoiceGuideError):
    """An audio file given to `hear` or `--input` cannot be read as sound."""

    exit_code = 6


def printable(text: str) -> str:
    """`text` with control characters (a newline or an escape sequence in a file name) written as
    escapes, so a sentence stays one line and never drives the terminal."""
    return "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)
