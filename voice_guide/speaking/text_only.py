"""No speaker is not an error: the guide then runs as text. Every sound still takes its real time on
the clock (silently), so the printed words keep the pace of a session and its holds, and keys and
`--input` work as before. Export never needed a speaker."""

from __future__ import annotations

from typing import Callable

from voice_guide.audio import Audio
from voice_guide.engines import AudioOut, Clock
from voice_guide.errors import DeviceError

NO_SOUND = "There is no sound output here, so I will print what I would say."


class SilentPlayback:
    """A sound that 'plays' in silence for its length."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        self._clock = clock
        self._end = clock.now() + seconds
        self.timeline: object = self

    def stop(self) -> None:
        self._end = min(self._end, self._clock.now())

    def set_gain(self, gain: float) -> None:
        pass

    def position(self, at: float) -> None:
        return None

    def done(self) -> bool:
        return self._clock.now() >= self._end

    def wait(self, timeout: float | None = None) -> bool:
        left = self._end - self._clock.now()
        if timeout is not None and left > timeout:
            self._clock.sleep(timeout)
            return False
        self._clock.sleep(left)
        return True


class SpeakerOrText:
    """The speaker while it can be opened; from the first time it cannot (DeviceError), silent
    timed playback, said once with `tell(NO_SOUND)`."""

    def __init__(self, speaker: AudioOut | None, clock: Clock, tell: Callable[[str], None]) -> None:
        self.speaker = speaker
        self.clock = clock
        self.tell = tell
        self.text_only = speaker is None
        if speaker is None:
            tell(NO_SOUND)

    def play(self, audio: Audio):
        if not self.text_only:
            try:
                return self.speaker.play(audio)  # type: ignore[union-attr]
            except DeviceError:
                self.text_only = True
                self.tell(NO_SOUND)
        return SilentPlayback(self.clock, audio.duration)
