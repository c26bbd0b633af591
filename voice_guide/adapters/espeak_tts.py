"""espeak-ng called directly: the same voice pyttsx3 drives on Linux, without pyttsx3's event loop.

Each call runs `espeak-ng --stdout` on the text (given on stdin, so no text is ever taken for an
option) and parses the streamed WAV it prints.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from dataclasses import dataclass

import numpy as np

from voice_guide.audio import Audio
from voice_guide.engines import VoiceSettings
from voice_guide.errors import EngineError

RATE = 22050
"""espeak-ng's output rate."""

NOT_INSTALLED = "espeak-ng is not installed; run scripts/setup.sh (or apt-get install espeak-ng)."


def parse_wav_stream(data: bytes) -> Audio:
    """Audio from a RIFF/WAVE byte string whose size fields may be bogus (espeak-ng writes a
    streaming header with 'unknown' lengths): take the format chunk, then everything after 'data'."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise EngineError("espeak-ng gave no sound (its output was not a WAV file); run scripts/setup.sh again.")
    pos, rate, channels, bits = 12, None, 1, 16
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk == b"fmt ":
            _fmt, channels, rate, _byte_rate, _align, bits = struct.unpack("<HHIIHH", data[pos + 8 : pos + 24])
        elif chunk == b"data":
            if rate is None or bits != 16:
                break
            return Audio.from_pcm16(data[pos + 8 :], rate, channels)
        pos += 8 + size + (size & 1)
    raise EngineError("espeak-ng gave sound in a form voice-guide cannot read; run scripts/setup.sh again.")


@dataclass(frozen=True)
class EspeakVoice:
    """One line of `espeak-ng --voices`."""

    language: str
    name: str
    identifier: str
    gender: str


def _binary() -> str:
    path = shutil.which("espeak-ng")
    if not path:
        raise EngineError(NOT_INSTALLED)
    return path


def list_voices(language: str | None = None) -> list[EspeakVoice]:
    """The voices espeak-ng offers (not its variants), optionally only those for a language such as 'en'."""
    args = [_binary(), f"--voices={language}" if language else "--voices"]
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise EngineError(f"espeak-ng could not list its voices ({exc}); run scripts/setup.sh again.") from exc
    voices = []
    for line in out.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5 and fields[1] != "variant":  # variants only modify a voice
            gender = fields[2].rsplit("/", 1)[-1]
            voices.append(EspeakVoice(fields[1], fields[3].replace("_", " "), fields[4], gender))
    return voices


class EspeakSynthesizer:
    """Renders text with the espeak-ng program; about a thousand times faster than real time."""

    name = "espeak-ng"
    rate = RATE

    def __init__(self, timeout: float = 5.0) -> None:
        # A sentence takes espeak-ng milliseconds: a few seconds without an answer is a hung engine, and
        # the player then asks again for the same sentence.
        self.timeout = timeout

    def command(self, settings: VoiceSettings) -> list[str]:
        args = [_binary(), "--stdout", "--stdin", "-s", str(int(settings.rate)),
                "-a", str(round(100 * float(settings.volume)))]
        if settings.voice:
            args += ["-v", settings.voice]
        return args

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        if not text.strip():
            return Audio(np.zeros(0, dtype=np.float32), RATE)
        args = self.command(settings)
        timeout = self.timeout + len(text) / 100
        try:
            proc = subprocess.run(args, input=text.encode("utf-8"), capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise EngineError(f"espeak-ng took longer than {timeout:.0f} s to speak; try again.") from exc
        except OSError as exc:
            raise EngineError(NOT_INSTALLED) from exc
        if proc.returncode != 0:
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = detail[-1] if detail else f"exit status {proc.returncode}"
            if settings.voice:
                raise EngineError(
                    f"espeak-ng could not speak with voice {settings.voice!r} ({reason}); "
                    "choose another voice or leave the voice unset."
                )
            raise EngineError(f"espeak-ng failed ({reason}); run scripts/setup.sh again.")
        return parse_wav_stream(proc.stdout)

    def close(self) -> None:
        """Nothing stays running between calls."""
