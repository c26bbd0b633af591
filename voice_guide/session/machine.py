"""The session player as a pure state machine: events in, actions out, no I/O.

Everything the guide does while it runs — reading a topic, leading a timed session, pausing, asking
"are you sure?" — is decided here, so it can be tested in tables without devices, engines or threads.
`voice_guide.live.player` feeds it events (commands heard, keys, clock ticks, "that sentence has finished")
and carries out the actions it returns (speak, play a cue, cut the sound, save progress).

`Session` holds small parts, each for one thing: the menu (`menu`), the open item (`reading`),
questions and their answers (`questions`), moving about (`navigation`), the voice (`voice_control`),
teaching prompts (`teach_prompts`) and the microphone (`microphone`); all share one `parts.Context`.
Commands go through one table, `Session.handlers` (command id -> the part's method marked `@handles`);
`state` is what it knows.

Time only enters through the `now` passed with each event; a hold keeps counting while the user
talks, and freezes while paused or while a question is pending.
"""

from __future__ import annotations

from typing import Callable, Sequence

from voice_guide.content.model import Item
from voice_guide.session import menu, prompts
from voice_guide.session.events import (Action, Ask, DeviceBack, DeviceLost, EnrolDone, Event, Key, Notice,
                                        NotUnderstood, PlaceSaved, SpeechDone, StopAudio, Tick)
from voice_guide.session.keypad import ENTER, NumberEntry
from voice_guide.session.microphone import Microphone
from voice_guide.session.navigation import Navigation
from voice_guide.session.parts import Context, dispatch_table, handles
from voice_guide.session.prompts import say
from voice_guide.session.questions import Questions
from voice_guide.session.reading import Reading
from voice_guide.session.state import Mode, ResumeQuestion, SessionState, Speaking
from voice_guide.session.teach_prompts import TeachPrompts
from voice_guide.session.voice_control import VoiceControl
from voice_guide.understanding.command import Command

KEYS = {
    " ": "toggle", "p": "toggle", "n": "next", "b": "back", "r": "repeat", "q": "quit",
    "+": "faster", "=": "faster", "-": "slower", ">": "louder", "<": "quieter",
    "?": "help", "h": "help", "w": "where", "m": "menu", "l": "menu", "y": "yes",
}
"""Keyboard shortcuts: the same commands as the voice. Numbers (see voice_guide.session.keypad) choose an item
or a step; while a question is pending, `y` answers yes and `n` answers no."""

RESOLVED = {"toggle": ("pause", "resume"), "stop": ("stop", "close")}
"""Ids that stand for one of two handlers, chosen by where the user is (see `Session._command`)."""


class Session:
    """The guide's behaviour. `speech_length(text, rate)` says how many seconds `text` lasts when
    spoken at `rate`; `read_only`, `listening`, `keys` and `voices` are the `parts.Context`'s; `rate`,
    `volume` and `voice` (a name from `voices`) are how it speaks at the start."""

    def __init__(self, items: Sequence[Item], speech_length: Callable[[str, int], float], *,
                 speaking: Speaking = Speaking(), read_only: bool = False, listening: bool = True,
                 keys: bool = True, voices: Sequence[tuple[str, str]] = ()) -> None:
        self.state = SessionState(rate=speaking.rate, volume=speaking.volume, voice=speaking.voice)
        self.ctx = Context(items, speech_length, self.state, read_only=read_only, listening=listening, keys=keys,
                           voices=voices)
        self.numbers = NumberEntry()
        self.menu = menu.Menu(self.ctx)
        self.reading = Reading(self.ctx, self.menu)
        self.questions = Questions(self.ctx, self.reading, self.menu, self._command)
        self.teaching = TeachPrompts(self.ctx, self.reading, self.questions)
        self.microphone = Microphone(self.ctx, self.reading)
        navigation = Navigation(self.ctx, self.reading, self.menu, self.questions)
        self.handlers = dispatch_table(self, navigation, VoiceControl(self.ctx, self.reading), self.teaching)
        """What each command does outside a question (the ids of RESOLVED are resolved first)."""

    @property
    def mode(self) -> Mode:
        return self.state.mode

    @property
    def hears(self) -> bool:
        """Spoken commands can be heard now (else the user has only keys)."""
        return self.ctx.hears

    def where(self, now: float | None = None) -> str:
        return self.reading.where(now)

    def help(self) -> str:
        return self.ctx.help()

    def closing(self, item: Item) -> str:
        """What is said when `item` has been read to its end."""
        return self.reading.closing(item)

    def start(self, now: float, *, item: Item | None = None, resume: tuple[Item, int] | None = None,
              notices: Sequence[str] = (), first_time: bool = True) -> list[Action]:
        """Begin: say any notices once; at the menu, the greeting (and the first time the safety
        line); then offer to resume, open `item`, or say the menu's prompt."""
        for notice in notices:
            self.ctx.say(notice, "info")
        if item is None:
            for text in menu.intro(self.ctx.items, first_time):
                self.ctx.say(text, "info")
        if resume is not None:
            saved, step = resume
            text = say("question.resume", number=step + 1, steps=len(saved.steps), title=saved.title,
                       answer=prompts.resume_offer(self.hears, item is not None))
            self.questions.ask(ResumeQuestion(text=text, saved=saved, step=step, item=item), now)
        elif item is not None:
            self.reading.open(item, now)
        else:
            self.menu.show()
        return self.ctx.flush()

    def handle(self, event: Event, now: float) -> list[Action]:
        s = self.state
        if s.mode == "finished":
            return []
        if s.mode == "enrolling":
            # The player is teaching the guide the user's voice; everything waits until it is done.
            if isinstance(event, EnrolDone):
                self.teaching.done(event, now)
        elif isinstance(event, Tick):
            self._tick(event, now)
        elif isinstance(event, SpeechDone):
            self._speech_done(event, now)
        elif isinstance(event, Key):
            self._key(event.char, now)
        elif isinstance(event, Command):
            self._command(event, now)
        elif isinstance(event, Ask):
            self.questions.choice(event, now)
        elif isinstance(event, NotUnderstood):
            self.questions.not_understood(now, event.near)
        elif isinstance(event, PlaceSaved):
            s.place_saved = event.ok
        elif isinstance(event, DeviceLost):
            self.microphone.lost(now, event.at_start)
        elif isinstance(event, Notice):
            self.microphone.notice(event)
        elif isinstance(event, DeviceBack):
            self.microphone.back(now)
        return self.ctx.flush()

    def _tick(self, event: Tick, now: float) -> None:
        number = self.numbers.due(now)
        if number is not None:
            self._command(Command("step", number), now)
        self.menu.tick(now)
        if not event.hearing:
            self.questions.tick(now)
        self.reading.tick(now)

    def _speech_done(self, event: SpeechDone, now: float) -> None:
        s = self.state
        at = min(now, event.at) if event.at is not None else now
        if event.say_id == s.awaiting:
            s.awaiting = None
            self.reading.spoken(at)
        elif event.say_id == s.list_id:
            s.list_id = None
            self.menu.listed(now)
        elif event.say_id == s.question_say and s.mode == "confirming":
            self.questions.said(at)

    def _key(self, char: str, now: float) -> None:
        s = self.state
        number = None
        if s.mode == "confirming" and char in ("y", "n"):
            self._command(Command("yes" if char == "y" else "no"), now)
        elif char.isdigit():
            if s.mode == "confirming":
                number = int(char) or None
            else:
                limit = len(s.item.steps) if s.item is not None else len(self.ctx.items)
                number = self.numbers.press(char, limit, now)
                if number is None and self.numbers.digits and s.mode == "menu":
                    self.menu.stop_list()  # the user is typing a number: the list gives way
                    self.ctx.emit(StopAudio())
        elif char in ENTER:
            number = self.numbers.enter()
        elif char in KEYS:
            self.numbers.clear()
            self._command(Command(KEYS[char]), now)
        if number is not None:
            self._command(Command("step", number), now)

    def _command(self, cmd: Command, now: float) -> None:
        s = self.state
        s.reprompted = False
        s.misheard = 0
        listing = self.menu.stop_list()
        if s.mode in ("menu", "paused", "confirming"):
            # Whatever the guide is saying here (the list, a question) gives way to the answer at once.
            self.ctx.emit(StopAudio())
        if s.mode == "confirming":
            self.questions.command(cmd, now)
            return
        cid = cmd.id
        if cid == "toggle":
            cid = "resume" if s.mode == "paused" else "pause"
        elif cid == "stop" and s.item is None and not listing:
            cid = "close"
        handler = self.handlers.get(cid)
        if handler is None:
            self.questions.not_understood(now)
        else:
            handler(Command(cid, cmd.arg), now)

    @handles("where")
    def _do_where(self, cmd: Command, now: float) -> None:
        self.reading.info(self.where(now), now)

    @handles("help")
    def _do_help(self, cmd: Command, now: float) -> None:
        self.reading.info(self.help(), now)

    @handles("yes", "no", "choice")
    def _do_no_question(self, cmd: Command, now: float) -> None:
        self.ctx.say(say("question.none_asked", self.hears), "info")
