"""The session's part that follows the microphone: gone at the start, lost mid-item (the item pauses and
goes on when it is back), and what a loading engine has to say once the guide runs."""

from __future__ import annotations

from voice_guide.session.events import Notice
from voice_guide.session.parts import Context
from voice_guide.session.prompts import say
from voice_guide.session.reading import Reading


class Microphone:
    """What the guide says and does as the microphone comes and goes."""

    def __init__(self, ctx: Context, reading: Reading) -> None:
        self.ctx = ctx
        self.state = ctx.state
        self.reading = reading

    def lost(self, now: float, at_start: bool) -> None:
        s = self.state
        if s.mic_lost:
            return
        s.mic_lost = True
        keys = say("microphone.keys_in_item" if s.item is not None else "microphone.keys_at_menu")
        if at_start:
            self.ctx.say(say("microphone.none_at_start", keys=keys) if self.ctx.keys
                         else say("microphone.none_and_no_keys"), "info")
            return
        if s.item is not None and self.ctx.running():
            s.paused_from = self.reading.freeze(now)
            s.mode = "paused"
            s.device_paused = True
            self.ctx.say(say("microphone.lost_paused", keys=keys), "info")
        else:
            self.ctx.say(say("microphone.lost", keys=keys), "info")

    def back(self, now: float) -> None:
        s = self.state
        s.mic_lost = False
        if s.device_paused and s.mode == "paused":
            self.ctx.say(say("microphone.back_going_on"), "info")
            was, s.paused_from = s.paused_from, None
            self.reading.go_on(was or "speaking", now)
        else:
            self.ctx.say(say("microphone.back_listening"), "info")
        s.device_paused = False

    def notice(self, event: Notice) -> None:
        """A sentence found while the guide runs; `deaf` ones mean spoken commands cannot be heard."""
        self.state.mic_lost = self.state.mic_lost or event.deaf
        self.ctx.say(event.text, "info")
