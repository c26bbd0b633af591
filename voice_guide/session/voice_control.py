"""The session's part that changes how the guide sounds: slower, faster, louder, quieter (within the limits
in `engines`), and another voice tried by ear."""

from __future__ import annotations

from voice_guide.engines import RATE_MAX, RATE_MIN, VOLUME_MAX, VOLUME_MIN
from voice_guide.session.events import SetVoice
from voice_guide.session.parts import Context, handles
from voice_guide.session.prompts import say
from voice_guide.session.reading import Reading
from voice_guide.understanding.command import Command

RATE_STEP, VOLUME_STEP = 20, 0.2
"""How much one slower, faster, louder or quieter changes the voice (within the limits in `engines`)."""

LIMITS = {"slower": "slowest", "faster": "fastest", "louder": "loudest", "quieter": "quietest"}
"""What is said when a change would go past its limit."""


class VoiceControl:
    """The rate, volume and voice the guide speaks with (kept in the state)."""

    def __init__(self, ctx: Context, reading: Reading) -> None:
        self.ctx = ctx
        self.state = ctx.state
        self.reading = reading

    @handles("slower", "faster", "louder", "quieter")
    def change(self, cmd: Command, now: float) -> None:
        s, cid = self.state, cmd.id
        rate, volume = s.rate, s.volume
        if cid == "slower":
            rate = max(RATE_MIN, rate - RATE_STEP)
        elif cid == "faster":
            rate = min(RATE_MAX, rate + RATE_STEP)
        elif cid == "louder":
            volume = round(min(VOLUME_MAX, volume + VOLUME_STEP), 2)
        else:
            volume = round(max(VOLUME_MIN, volume - VOLUME_STEP), 2)
        if (rate, volume) == (s.rate, s.volume):
            self.reading.info(say(f"voice.{LIMITS[cid]}"), now)
            return
        before = s.rate
        s.rate, s.volume = rate, volume
        self.ctx.emit(SetVoice(rate, volume))
        if rate != before:
            self.reading.measure_again()
        self.reading.info(say(f"voice.{cid}"), now)

    @handles("another_voice")
    def another(self, cmd: Command, now: float) -> None:
        """The next voice speaks from now on, introducing itself; "keep this one" saves it."""
        s, voices = self.state, self.ctx.voices
        names = [name for name, _ in voices]
        if len(names) < 2:
            self.reading.info(say("voice.only_one"), now)
            return
        s.voice = names[(names.index(s.voice) + 1) % len(names) if s.voice in names else 0]
        self.ctx.emit(SetVoice(s.rate, s.volume, voice=s.voice))
        self.reading.measure_again()
        self.reading.info(say("voice.sample", label=dict(voices)[s.voice]), now)

    @handles("keep_voice")
    def keep(self, cmd: Command, now: float) -> None:
        self.ctx.emit(SetVoice(self.state.rate, self.state.volume, keep=True))
        self.reading.info(say("voice.kept"), now)
