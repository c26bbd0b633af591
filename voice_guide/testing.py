"""Fakes for every engine protocol, shipped with the package so tests (ours and users') pass them in
instead of patching anything."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import deque
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np

from voice_guide.audio import Audio, tone, wav_bytes
from voice_guide.engines import EchoPath, Hypothesis, VoiceSettings
from voice_guide.export.tracks import Chapter, Tags
from voice_guide.errors import ExportError


class FakeSynthesizer:
    """Speaks every word as a short quiet tone: duration follows the word count and the rate, so
    timing maths can be checked without an engine."""

    name = "fake"
    notice = ""

    def __init__(self, rate: int = 22050) -> None:
        self.rate = rate
        self.calls: list[str] = []
        self.closed = False

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        self.calls.append(text)
        words = max(1, len(text.split()))
        seconds = words * 60.0 / settings.rate
        return tone(220.0, seconds, self.rate, volume=0.3 * settings.volume)

    def close(self) -> None:
        self.closed = True


class FakeEncoder:
    """Writes every sound as WAV, whatever the format (no ffmpeg, fast), and refuses the formats in
    `refuse` at `check`, as a machine without ffmpeg refuses mp3. `encoded` holds (format, tags,
    chapters) of each file written."""

    name = "fake"

    def __init__(self, refuse: Iterable[str] = ()) -> None:
        self.refuse = set(refuse)
        self.checked: list[str] = []
        self.encoded: list[tuple[str, Tags, tuple[Chapter, ...]]] = []

    def check(self, fmt: str) -> None:
        self.checked.append(fmt)
        if fmt in self.refuse:
            raise ExportError(f"{fmt} files cannot be written here.")

    def encode(self, audio: Audio, path: Path, fmt: str, tags: Tags, chapters: Sequence[Chapter] = ()) -> None:
        Path(path).write_bytes(wav_bytes(audio))
        self.encoded.append((fmt, tags, tuple(chapters)))


class MemoryPlayback:
    """A playback that finishes when its fake clock (or `finish()`) says so."""

    def __init__(self, audio: Audio, instant: bool) -> None:
        self.audio = audio
        self.stopped = False
        self.timeline: object = self
        """Its position is counted from `play` (None from `position`): a timeline of its own."""
        self.gains: list[float] = []
        """Every volume change asked for, in order."""
        self._done = threading.Event()
        if instant:
            self._done.set()

    def stop(self) -> None:
        self.stopped = True
        self._done.set()

    def set_gain(self, gain: float) -> None:
        self.gains.append(gain)

    def position(self, at: float) -> None:
        return None

    def finish(self) -> None:
        self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)


class MemoryAudioOut:
    """A speaker that keeps everything it was asked to play."""

    def __init__(self, instant: bool = True) -> None:
        self.instant = instant
        self.played: list[MemoryPlayback] = []

    def play(self, audio: Audio) -> MemoryPlayback:
        playback = MemoryPlayback(audio, self.instant)
        self.played.append(playback)
        return playback

    def prepare(self) -> None:
        """Nothing to open ahead."""


class FakeEchoMemory:
    """Echo paths kept in memory, by speaker and microphone pair (`engines.EchoMemory`)."""

    def __init__(self, kept: Mapping[str, EchoPath] | None = None) -> None:
        self.kept: dict[str, EchoPath] = dict(kept or {})
        self.loaded: list[tuple[str, EchoPath | None]] = []
        """Each pair asked for, with what was found."""

    def load(self, key: str) -> EchoPath | None:
        self.loaded.append((key, self.kept.get(key)))
        return self.kept.get(key)

    def save(self, key: str, path: EchoPath) -> None:
        self.kept[key] = path


class ScriptedAudioIn:
    """A microphone that yields the given sound in fixed blocks, then (optionally) silence."""

    def __init__(self, audio: Audio, blocksize: int = 1600, then_silence: float = 0.0) -> None:
        self.rate = audio.rate
        self.blocksize = blocksize
        tail = np.zeros(round(then_silence * audio.rate), dtype=np.float32)
        self._samples = np.concatenate([audio.samples, tail])

    @contextlib.contextmanager
    def blocks(self) -> Iterator[Iterator[np.ndarray]]:
        def gen() -> Iterator[np.ndarray]:
            for i in range(0, len(self._samples), self.blocksize):
                yield self._samples[i : i + self.blocksize]

        yield gen()


class ScriptedRecognizer:
    """Answers each `decode` with the next scripted n-best list (empty once the script runs out). Given
    an `encoder` name it also stands in for Whisper's encoder (`command_model.Encoding`): an utterance's
    MFCC frames (`hearing.features`) are its encoder states."""

    name = "scripted"
    notice = ""

    def __init__(self, script: Iterable[Sequence[Hypothesis] | str], encoder: str = "") -> None:
        self._script = deque(
            [Hypothesis(item)] if isinstance(item, str) else list(item) for item in script
        )
        self.decoded: list[Audio] = []
        self.encoder = encoder

    def encoder_states(self, audio: Audio) -> np.ndarray:
        from voice_guide.hearing.features import utterance_features

        return utterance_features(audio).astype(np.float32)

    def decode(self, audio: Audio) -> list[Hypothesis]:
        self.decoded.append(audio)
        return self._script.popleft() if self._script else []


class ScriptedScores:
    """A command model that answers each `scores` with the next scripted posterior ({} once the script
    runs out), keyed by command (None: not a command)."""

    def __init__(self, script: Iterable[Mapping]) -> None:
        self._script = deque(dict(item) for item in script)
        self.scored: list[Audio] = []

    def scores(self, audio: Audio) -> dict:
        self.scored.append(audio)
        return self._script.popleft() if self._script else {}


class FakeClock:
    """Time that moves only when slept through or advanced."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)

    advance = sleep


class ClockPlayback:
    """A playback that lasts its sound's duration on a (fake) clock."""

    def __init__(self, audio: Audio, clock: "FakeClock", start: float, timeline: object = None) -> None:
        self.audio = audio
        self.start = start
        self.timeline = timeline
        """The speaker it plays on (one stream: every sound reaches a microphone with one delay)."""
        self.end = start + audio.duration
        self.stopped = False
        self.gains: list[tuple[float, float]] = [(start, 1.0)]
        """(time, volume) of every change: what `ClockAudioOut.sounding` applies."""
        self._clock = clock
        self._resampled: dict[int, np.ndarray] = {}

    def samples_at(self, rate: int) -> np.ndarray:
        if rate not in self._resampled:
            self._resampled[rate] = self.audio.resample(rate).samples
        return self._resampled[rate]

    def set_gain(self, gain: float) -> None:
        self.gains.append((self._clock.now(), gain))

    def position(self, at: float) -> tuple[float, float]:
        return at - self.start, float(self.gain_at(np.array([at]))[0])

    def gain_at(self, times: np.ndarray) -> np.ndarray:
        when = np.array([t for t, _ in self.gains])
        return np.array([g for _, g in self.gains], dtype=np.float32)[np.searchsorted(when, times, "right") - 1]

    def stop(self) -> None:
        self.stopped = True
        self.end = min(self.end, self._clock.now())

    def done(self) -> bool:
        return self.stopped or self._clock.now() >= self.end

    def wait(self, timeout: float | None = None) -> bool:
        return self.done()


class ClockAudioOut:
    """A speaker whose sounds take their real length on a fake clock; keeps the last `keep` playbacks
    and can say what it is sounding at any moment (to feed the guide's own voice back as a microphone)."""

    def __init__(self, clock: "FakeClock", keep: int = 200) -> None:
        self.clock = clock
        self.played: deque[ClockPlayback] = deque(maxlen=keep)

    def play(self, audio: Audio) -> ClockPlayback:
        playback = ClockPlayback(audio, self.clock, self.clock.now(), self)
        self.played.append(playback)
        return playback

    def prepare(self) -> None:
        """Nothing to open ahead."""

    def sounding(self, start: float, seconds: float, rate: int) -> np.ndarray:
        """What a microphone beside the speaker hears from `start` for `seconds`, at `rate`."""
        out = np.zeros(round(seconds * rate), dtype=np.float32)
        for p in self.played:
            a, b = max(start, p.start), min(start + seconds, p.end)
            if b <= a:
                continue
            src = p.samples_at(rate)
            i0, n = round((a - p.start) * rate), round((b - a) * rate)
            o0 = round((a - start) * rate)
            piece = src[i0 : i0 + n][: len(out) - o0]
            out[o0 : o0 + len(piece)] += piece * p.gain_at(a + np.arange(len(piece)) / rate)
        return out


def espeak_speech(text: str, voice: str = "en-us", rate: int = 150, *, trim: bool = True,
                  pad: float = 0.0, noise_floor: float | None = None, seed: int = 0) -> Audio:
    """Test speech from espeak-ng at the recognisers' 16 kHz: trimmed to where it sounds (unless
    `trim` is False), optionally with `pad` seconds of quiet either side and a faint noise floor
    (exact digital silence confuses recognisers). Needs the espeak-ng program."""
    import io
    import subprocess

    import soundfile

    from voice_guide.audio import SPEECH_RATE, add_noise_floor

    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "--stdout", text],
                         check=True, capture_output=True, timeout=30).stdout
    samples, sr = soundfile.read(io.BytesIO(wav), dtype="float32")
    loud = np.flatnonzero(np.abs(samples) > 1e-3)
    if trim and len(loud):
        samples = samples[loud[0] : loud[-1] + 1]
    quiet = np.zeros(round(pad * sr), np.float32)
    audio = Audio(np.concatenate([quiet, samples, quiet]), sr).resample(SPEECH_RATE)
    return audio if noise_floor is None else add_noise_floor(audio, noise_floor, seed=seed)


class TimedKeys:
    """Keys pressed at given times on a (fake) clock: `presses` is [(seconds, key), ...]."""

    def __init__(self, clock: FakeClock, presses) -> None:
        self.clock, self.presses = clock, sorted(presses)

    def poll(self) -> list[str]:
        out = []
        while self.presses and self.presses[0][0] <= self.clock.now():
            out.append(self.presses.pop(0)[1])
        return out

    def close(self) -> None:
        pass


NETWORK_EVENTS = ("socket.connect", "socket.bind", "socket.getaddrinfo", "socket.gethostbyname",
                  "socket.sendto")


def network_use(event: str, args: tuple) -> str | None:
    """For a `sys.addaudithook` hook: a description of the network use this audit event is, or None
    when it is not one. Local (AF_UNIX) sockets and loopback binds pass: urllib3, imported by vosk,
    binds ::1 at import to probe for IPv6 without sending anything. It imports nothing itself: a hook
    that imports sets off audit events of its own."""
    if event not in NETWORK_EVENTS:
        return None
    sock = args[0] if args else None
    if isinstance(sock, socket.socket) and sock.family == socket.AF_UNIX:
        return None
    if event == "socket.bind" and len(args) > 1 and str(args[1][0]) in ("::1", "127.0.0.1", "localhost"):
        return None
    return f"{event}{args[1:]!r}"
