"""The session's part that runs an open item: its title, each step's words and hold (timed so a session
lasts its planned length), pausing and going on, and the end of the item or of the guide."""

from __future__ import annotations

from voice_guide.content.model import Item
from voice_guide.session.events import ClearProgress, Finished, PlayCue, SaveProgress, StopAudio
from voice_guide.session.menu import Menu
from voice_guide.session.parts import Context
from voice_guide.session.prompts import say
from voice_guide.session.state import Hold, Mode
from voice_guide.timeline import HALFWAY_TEXT, TITLE_GAP, hold_segments, resolve_holds


class Reading:
    """An item's steps and holds. `ctx.speech_length(text, rate)` says how many seconds `text` lasts
    when spoken at `rate` (the player measures its rendered audio); holds follow from it."""

    def __init__(self, ctx: Context, menu: Menu) -> None:
        self.ctx = ctx
        self.state = ctx.state
        self.menu = menu

    def where(self, now: float | None = None) -> str:
        s = self.state
        if s.item is None:
            return say("where.menu")
        if s.step < 0:
            return say("where.starting", title=s.item.title)
        parts = [say("where.step", number=s.step + 1, steps=len(s.item.steps), title=s.item.title)]
        title = s.item.steps[s.step].title
        if title:
            parts.append(say("where.step_title", title=title))
        if s.hold is not None:
            left = s.hold.length - (s.hold.at(now) if now is not None else s.hold.elapsed)
            if left >= 10:
                parts.append(say("where.seconds_left", seconds=round(left)))
        return " ".join(parts)

    def open(self, item: Item, now: float, step: int = -1) -> None:
        s = self.state
        s.item, s.hold, s.question, s.paused_from = item, None, None, None
        s.place_saved = None
        s.speech = [None] * len(item.steps)
        s.speech_rates = [None] * len(item.steps)
        s.title_seconds, s.title_rate = None, s.rate  # measured when a fill hold needs it: the title starts at once
        self.begin_step(step, now)

    def _fill_hold(self) -> float:
        """The fill step's hold, so the session lasts its planned length: worked out when it starts,
        from every step's measured speech, each at the rate it was (or will be) spoken. All are measured
        now, in the silence, rather than each as its step begins: a step starts playing with its first
        sentence, before the rest of it is rendered."""
        s = self.state
        assert s.item is not None
        for i, step in enumerate(s.item.steps):
            if s.speech[i] is None:
                rate = s.speech_rates[i] or s.rate
                s.speech[i] = self.ctx.speech_length(step.say, rate) if step.say else 0.0
        if s.title_seconds is None:
            s.title_seconds = self.ctx.speech_length(s.item.title, s.title_rate)
        return resolve_holds(s.item, [x or 0.0 for x in s.speech], s.title_seconds)[s.step]

    def begin_step(self, step: int, now: float) -> None:
        s = self.state
        assert s.item is not None
        s.step, s.hold, s.mode = step, None, "speaking"
        self.ctx.emit(SaveProgress(s.item.name, max(step, 0)))  # from the title on, so a quit knows saves work
        if step >= 0:
            text = s.item.steps[step].say
            s.speech[step], s.speech_rates[step] = None, s.rate
        else:
            text = s.item.title
        if text:
            s.awaiting = self.ctx.say(text, "title" if step < 0 else "step")
        else:
            s.awaiting = None
            self.spoken(now)

    def spoken(self, now: float) -> None:
        """The current step's words are done: start its hold."""
        s = self.state
        assert s.item is not None
        if s.step < 0:
            length, cue, halfway = TITLE_GAP, False, False
        else:
            step = s.item.steps[s.step]
            length = self._fill_hold() if step.fill else step.hold
            cue, halfway = step.cue, step.halfway
        if length <= 0:
            self._advance(now)
            return
        halfway_seconds = self.ctx.speech_length(HALFWAY_TEXT, s.rate) if halfway else 0.0
        events = []
        for seg in hold_segments(0.0, length, s.step, cue, halfway, halfway_seconds):
            if seg.kind == "cue":
                events.append((seg.start, "chime-start" if seg.start == 0.0 else "chime-end"))
            elif seg.kind == "halfway":
                events.append((seg.start, "halfway"))
        s.hold = Hold(length, events)
        s.hold.run(now)
        s.mode = "holding"
        self.tick(now)

    def tick(self, now: float) -> None:
        s = self.state
        if s.mode != "holding" or s.hold is None:
            return
        at = s.hold.at(now)
        while s.hold.events and s.hold.events[0][0] <= at:
            _, what = s.hold.events.pop(0)
            if what == "halfway":
                self.ctx.say(HALFWAY_TEXT, "halfway")
            else:
                self.ctx.emit(PlayCue(what))
        if at >= s.hold.length:
            self._advance(now - (at - s.hold.length))  # when it really ended, so chained holds stay exact

    def _advance(self, now: float) -> None:
        s = self.state
        assert s.item is not None
        if s.step + 1 < len(s.item.steps):
            self.begin_step(s.step + 1, now)
        else:
            self.finish()

    def finish(self) -> None:
        """The item has been read to its end: the menu, or (read only) the end of the guide."""
        s = self.state
        assert s.item is not None
        self.ctx.emit(ClearProgress(s.item.name))
        self.ctx.say(self.closing(s.item), "info")
        if self.ctx.read_only:
            self.quit_now()
        else:
            s.item = None
            self.menu.show(say("menu.what_next"))

    def closing(self, item: Item) -> str:
        """What is said when `item` has been read to its end."""
        return say("answer.that_was_goodbye" if self.ctx.read_only else "answer.that_was", title=item.title)

    def goodbye(self) -> None:
        """Quit, saving the place in an open item once more; say it is saved only when the saves work."""
        s = self.state
        words = [say("answer.goodbye")]
        if s.item is not None:
            self.ctx.emit(SaveProgress(s.item.name, max(s.step, 0)))
            if s.place_saved is not None:
                words.append(say("answer.place_saved" if s.place_saved else "answer.place_not_saved"))
        self.ctx.say(" ".join(words), "info")
        self.quit_now()

    def quit_now(self) -> None:
        s = self.state
        s.mode, s.hold, s.awaiting, s.question = "finished", None, None, None
        self.ctx.emit(Finished())

    def freeze(self, now: float) -> Mode:
        """Stop the running item where it is (speech cut, hold frozen); return the mode it was in."""
        s = self.state
        was = s.mode
        if was == "speaking":
            self.ctx.emit(StopAudio())
            s.awaiting = None
        elif was == "holding" and s.hold is not None:
            s.hold.freeze(now)
            self.ctx.emit(StopAudio())
        return was

    def go_on(self, was: Mode | None, now: float) -> None:
        """Go on from a freeze: repeat the cut sentence from its start, or let the hold run again."""
        s = self.state
        if was == "holding" and s.hold is not None:
            s.mode = "holding"
            s.hold.run(now)
        elif s.item is not None:
            self.begin_step(s.step, now)
        else:
            s.mode = "menu"

    def pause(self, now: float, text: str) -> None:
        s = self.state
        s.device_paused = False
        if s.mode == "paused":
            self.ctx.say(text, "info")
            return
        s.paused_from = self.freeze(now)
        s.mode = "paused"
        self.ctx.say(text, "info")

    def resume(self, now: float) -> None:
        s = self.state
        s.device_paused = False
        was, s.paused_from = s.paused_from, None
        self.ctx.say(say("answer.going_on"), "info")
        self.go_on(was or "speaking", now)

    def info(self, text: str, now: float) -> None:
        """Answer a question without losing the place: a cut sentence is said again afterwards; a
        hold keeps counting."""
        s = self.state
        if s.mode == "speaking":
            self.ctx.emit(StopAudio())
            self.ctx.say(text, "info")
            self.begin_step(s.step, now)
        else:
            self.ctx.say(text, "prompt" if s.mode == "menu" else "info")

    def measure_again(self) -> None:
        """Words not yet spoken are measured again (another rate or voice) when the fill hold needs them."""
        s = self.state
        if s.item is not None:
            spoken = s.mode == "holding" or (s.mode == "paused" and s.paused_from == "holding")
            for i in range(max(0, s.step + 1 if spoken else s.step), len(s.speech)):
                s.speech[i], s.speech_rates[i] = None, None
