"""The session player as a pure state machine: events in, actions out, no I/O.

Everything the guide does while it runs — reading a topic, leading a timed session, pausing, asking
"are you sure?" — is decided here, so it can be tested in tables without devices, engines or threads.
`voice_guide.player` feeds it events (commands heard, keys, clock ticks, "that sentence has finished")
and carries out the actions it returns (speak, play a cue, cut the sound, save progress).

Time only enters through the `now` passed with each event; a hold keeps counting while the user
talks, and freezes while paused or while a question is pending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal, Sequence

from voice_guide import menu, prompts
from voice_guide.content.model import Item
from voice_guide.engines import RATE_MAX, RATE_MIN, VOLUME_MAX, VOLUME_MIN
from voice_guide.keypad import ENTER, NumberEntry
from voice_guide.session_events import (Action, Ask, ClearProgress, DeviceBack, DeviceLost, Do, Enrol, EnrolDone,
                                        Event, Finished, Key, Notice, NotUnderstood, PlaceSaved, PlayCue,
                                        SaveProgress, Say, SayKind, SetVoice, SpeechDone, StopAudio, Tick)
from voice_guide.timeline import HALFWAY_TEXT, TITLE_GAP, hold_segments, resolve_holds

RATE_STEP, VOLUME_STEP = 20, 0.2
"""How much one slower, faster, louder or quieter changes the voice (within the limits in `engines`)."""

KEYS = {
    " ": "toggle", "p": "toggle", "n": "next", "b": "back", "r": "repeat", "q": "quit",
    "+": "faster", "=": "faster", "-": "slower", ">": "louder", "<": "quieter",
    "?": "help", "h": "help", "w": "where", "m": "menu", "l": "menu", "y": "yes",
}
"""Keyboard shortcuts: the same commands as the voice. Numbers (see voice_guide.keypad) choose an item
or a step; while a question is pending, `y` answers yes and `n` answers no."""

NO_MIC_TO_TEACH = "I can't learn your voice without a microphone."

Mode = Literal["menu", "speaking", "holding", "paused", "confirming", "enrolling", "finished"]


# ---- state --------------------------------------------------------------------------------------

@dataclass
class Hold:
    """A timed silence: `elapsed` seconds counted so far, running since `since` (None when frozen)."""

    length: float
    events: list[tuple[float, str]]
    """(offset, 'chime-start' | 'chime-end' | 'halfway') in time order, still to fire."""
    elapsed: float = 0.0
    since: float | None = None

    def at(self, now: float) -> float:
        return self.elapsed + (now - self.since if self.since is not None else 0.0)

    def freeze(self, now: float) -> None:
        self.elapsed, self.since = self.at(now), None

    def run(self, now: float) -> None:
        if self.since is None:
            self.since = now


@dataclass
class Question:
    """A pending yes/no (or which-one) question and what it decides."""

    text: str
    kind: Literal["resume", "leave", "open", "quit", "choice", "suggestion", "teach"]
    payload: object = None
    back: Literal["menu", "paused", "run"] = "menu"
    """Where 'no' returns: the menu, the pause, or the running item exactly where it was frozen."""


@dataclass
class SessionState:
    """Everything the machine knows; inspectable by tests."""

    mode: Mode = "menu"
    item: Item | None = None
    step: int = -1
    """Index into item.steps; -1 is the spoken title."""
    speech: list[float | None] = field(default_factory=list)
    """Measured seconds of each step's words (None until needed again after a rate change)."""
    title_seconds: float = 0.0
    hold: Hold | None = None
    awaiting: int | None = None
    """The id of the sentence whose end moves the item on."""
    paused_from: Mode | None = None
    question: Question | None = None
    rate: int = 150
    volume: float = 1.0
    reprompted: bool = False
    mic_lost: bool = False
    device_paused: bool = False
    """Paused because the microphone went away (not by the user): going on when it comes back."""
    listing: list[str] = field(default_factory=list)
    """Groups of the menu's list still to be read (see voice_guide.menu)."""
    list_id: int | None = None
    """The id of the group being read."""
    list_due: float | None = None
    """When the next group is read (after a moment to speak)."""
    place_saved: bool | None = None
    """Whether the place in the open item was last saved (None: not tried yet)."""


class Session:
    """The guide's behaviour. `speech_length(text, rate)` says how many seconds `text` lasts when
    spoken at `rate` (the player measures its rendered audio); holds follow from it so a session
    lasts its planned length. `read_only` ends the guide after one item instead of returning to the
    menu. `listening` says whether spoken commands can be heard at all (else it speaks of keys)."""

    def __init__(self, items: Sequence[Item], speech_length: Callable[[str, int], float], *,
                 rate: int = 150, volume: float = 1.0, read_only: bool = False, listening: bool = True) -> None:
        self.items = list(items)
        self.speech_length = speech_length
        self.read_only = read_only
        self.listening = listening
        self.numbers = NumberEntry()
        self.state = SessionState(rate=rate, volume=volume)
        self._next_id = 0
        self._out: list[Action] = []

    # -- public ------------------------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self.state.mode

    @property
    def hears(self) -> bool:
        """Spoken commands can be heard now (else the user has only keys)."""
        return self.listening and not self.state.mic_lost

    def start(self, now: float, *, item: Item | None = None, resume: tuple[Item, int] | None = None,
              notices: Sequence[str] = (), first_time: bool = True) -> list[Action]:
        """Begin: say any notices once; at the menu, the greeting (and the first time the safety
        line); then offer to resume, open `item`, or say the menu's prompt."""
        for notice in notices:
            self._say(notice, "info")
        if item is None:
            for text in menu.intro(self.items, first_time):
                self._say(text, "info")
        if resume is not None:
            saved, step = resume
            where = f"step {step + 1} of {len(saved.steps)} of {saved.title}"
            text = f"Last time you were at {where}. {prompts.resume_offer(self.hears, item is not None)}"
            self._ask(Question(text, "resume", (saved, step, item), back="menu"))
        elif item is not None:
            self._open(item, now)
        else:
            self._menu()
        return self._flush()

    def handle(self, event: Event, now: float) -> list[Action]:
        s = self.state
        if s.mode == "finished":
            return []
        if s.mode == "enrolling":
            # The player is teaching the guide the user's voice; everything waits until it is done.
            if isinstance(event, EnrolDone):
                self._enrolled(event, now)
            return self._flush()
        if isinstance(event, Tick):
            number = self.numbers.due(now)
            if number is not None:
                self._command(Do("step", number), now)
            self._list_tick(now)
            self._tick(now)
        elif isinstance(event, SpeechDone):
            if event.say_id == s.awaiting:
                s.awaiting = None
                self._spoken(min(now, event.at) if event.at is not None else now)
            elif event.say_id == s.list_id:
                s.list_id = None
                self._listed(now)
        elif isinstance(event, Key):
            self._key(event.char, now)
        elif isinstance(event, Do):
            self._command(event, now)
        elif isinstance(event, Ask):
            self._choice(event, now)
        elif isinstance(event, NotUnderstood):
            self._not_understood()
        elif isinstance(event, PlaceSaved):
            s.place_saved = event.ok
        elif isinstance(event, DeviceLost):
            self._device_lost(now, event.at_start)
        elif isinstance(event, Notice):
            s.mic_lost = s.mic_lost or event.deaf
            self._say(event.text, "info")
        elif isinstance(event, DeviceBack):
            s.mic_lost = False
            if s.device_paused and s.mode == "paused":
                self._say("The microphone is back. Going on.", "info")
                was, s.paused_from = s.paused_from, None
                self._continue(was or "speaking", now)
            else:
                self._say("The microphone is back. I am listening again.", "info")
            s.device_paused = False
        return self._flush()

    def where(self, now: float | None = None) -> str:
        s = self.state
        if s.item is None:
            return "You are at the menu."
        if s.step < 0:
            return f"Starting {s.item.title}."
        text = f"Step {s.step + 1} of {len(s.item.steps)} of {s.item.title}."
        title = s.item.steps[s.step].title
        text += f" {title}." if title else ""
        if s.hold is not None:
            left = s.hold.length - (s.hold.at(now) if now is not None else s.hold.elapsed)
            if left >= 10:
                text += f" About {round(left)} seconds left in this step."
        return text

    def help(self) -> str:
        s = self.state
        if s.mode == "confirming" and s.question is not None:
            if s.question.kind == "choice":
                return "Say which one you meant, or say no." if self.hears else "Type its number, or press n."
            return prompts.help_text("question", self.hears)
        mode = s.mode if s.mode in ("menu", "paused") else "running"
        return prompts.help_text(mode, self.hears)

    # -- output helpers ----------------------------------------------------------------------------

    def _flush(self) -> list[Action]:
        out, self._out = self._out, []
        return out

    def _say(self, text: str, kind: SayKind) -> int:
        self._next_id += 1
        self._out.append(Say(text, kind, self._next_id))
        return self._next_id

    def _emit(self, action: Action) -> None:
        self._out.append(action)

    # -- menu --------------------------------------------------------------------------------------

    def _menu(self, lead: str = "") -> None:
        """At the menu: `lead` (e.g. "What next?"), then the one-line prompt, and listen."""
        s = self.state
        s.mode, s.item, s.step, s.hold, s.awaiting, s.question = "menu", None, -1, None, None, None
        s.paused_from = None
        self._say(f"{lead} {menu.prompt(self.hears)}".strip(), "prompt")
        self._emit(PlayCue("listening"))

    def _list(self) -> None:
        """Read the whole list, a small group at a time, with a moment to speak between groups."""
        s = self.state
        s.listing = menu.groups(self.items)
        self._next_group()

    def _next_group(self) -> None:
        s = self.state
        s.list_due = None
        s.list_id = self._say(s.listing.pop(0), "prompt")

    def _listed(self, now: float) -> None:
        """A group has been read: wait a moment for the user before the next, or end with the prompt."""
        s = self.state
        if s.listing:
            s.list_due = now + menu.GROUP_GAP
        else:
            self._say(menu.choose(self.hears), "prompt")
            self._emit(PlayCue("listening"))

    def _list_tick(self, now: float) -> None:
        s = self.state
        if s.list_due is not None and now >= s.list_due and s.listing:
            self._next_group()

    def _stop_list(self) -> bool:
        """Anything the user does stops the list; True when it was being read."""
        s = self.state
        was = bool(s.listing) or s.list_id is not None
        s.listing, s.list_id, s.list_due = [], None, None
        return was

    # -- running an item ---------------------------------------------------------------------------

    def _open(self, item: Item, now: float, step: int = -1) -> None:
        s = self.state
        s.item, s.hold, s.question, s.paused_from = item, None, None, None
        s.place_saved = None
        s.speech = [None] * len(item.steps)
        s.title_seconds = self.speech_length(item.title, s.rate)
        self._begin_step(step, now)

    def _fill_hold(self) -> float:
        """The fill step's hold, so the session lasts its planned length: worked out when it starts,
        from every step's measured speech (words not yet spoken are measured now, in the silence,
        rather than all at the start, which would keep the user waiting)."""
        s = self.state
        assert s.item is not None
        for i, step in enumerate(s.item.steps):
            if s.speech[i] is None:
                s.speech[i] = self.speech_length(step.say, s.rate) if step.say else 0.0
        return resolve_holds(s.item, [x or 0.0 for x in s.speech], s.title_seconds)[s.step]

    def _begin_step(self, step: int, now: float) -> None:
        s = self.state
        assert s.item is not None
        s.step, s.hold, s.mode = step, None, "speaking"
        self._emit(SaveProgress(s.item.name, max(step, 0)))  # from the title on, so a quit knows saves work
        if step >= 0:
            text = s.item.steps[step].say
            s.speech[step] = self.speech_length(text, s.rate) if text else 0.0
        else:
            text = s.item.title
        if text:
            s.awaiting = self._say(text, "title" if step < 0 else "step")
        else:
            s.awaiting = None
            self._spoken(now)

    def _spoken(self, now: float) -> None:
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
        halfway_seconds = self.speech_length(HALFWAY_TEXT, s.rate) if halfway else 0.0
        events = []
        for seg in hold_segments(0.0, length, s.step, cue, halfway, halfway_seconds):
            if seg.kind == "cue":
                events.append((seg.start, "chime-start" if seg.start == 0.0 else "chime-end"))
            elif seg.kind == "halfway":
                events.append((seg.start, "halfway"))
        s.hold = Hold(length, events)
        s.hold.run(now)
        s.mode = "holding"
        self._tick(now)

    def _tick(self, now: float) -> None:
        s = self.state
        if s.mode != "holding" or s.hold is None:
            return
        at = s.hold.at(now)
        while s.hold.events and s.hold.events[0][0] <= at:
            _, what = s.hold.events.pop(0)
            if what == "halfway":
                self._say(HALFWAY_TEXT, "halfway")
            else:
                self._emit(PlayCue(what))
        if at >= s.hold.length:
            self._advance(now - (at - s.hold.length))  # when it really ended, so chained holds stay exact

    def _advance(self, now: float) -> None:
        s = self.state
        assert s.item is not None
        if s.step + 1 < len(s.item.steps):
            self._begin_step(s.step + 1, now)
        else:
            self._finish_item()

    def _finish_item(self) -> None:
        s = self.state
        assert s.item is not None
        title = s.item.title
        self._emit(ClearProgress(s.item.name))
        if self.read_only:
            self._say(f"That was {title}. Goodbye.", "info")
            self._quit_now()
        else:
            s.item = None
            self._say(f"That was {title}.", "info")
            self._menu("What next?")

    def _goodbye(self) -> None:
        """Quit, saving the place in an open item once more; say it is saved only when the saves work."""
        s = self.state
        words = "Goodbye."
        if s.item is not None:
            self._emit(SaveProgress(s.item.name, max(s.step, 0)))
            if s.place_saved is not None:
                words += " Your place is saved." if s.place_saved else " Your place could not be saved."
        self._say(words, "info")
        self._quit_now()

    def _quit_now(self) -> None:
        s = self.state
        s.mode, s.hold, s.awaiting, s.question = "finished", None, None, None
        self._emit(Finished())

    def _running(self) -> bool:
        return self.state.mode in ("speaking", "holding")

    def _freeze(self, now: float) -> Mode:
        """Stop the running item where it is (speech cut, hold frozen); return the mode it was in."""
        s = self.state
        was = s.mode
        if was == "speaking":
            self._emit(StopAudio())
            s.awaiting = None
        elif was == "holding" and s.hold is not None:
            s.hold.freeze(now)
            self._emit(StopAudio())
        return was

    def _continue(self, was: Mode | None, now: float) -> None:
        """Go on from a freeze: repeat the cut sentence from its start, or let the hold run again."""
        s = self.state
        if was == "holding" and s.hold is not None:
            s.mode = "holding"
            s.hold.run(now)
        elif s.item is not None:
            self._begin_step(s.step, now)
        else:
            s.mode = "menu"

    def _pause(self, now: float, text: str) -> None:
        s = self.state
        s.device_paused = False
        if s.mode == "paused":
            self._say(text, "info")
            return
        s.paused_from = self._freeze(now)
        s.mode = "paused"
        self._say(text, "info")

    def _resume(self, now: float) -> None:
        s = self.state
        s.device_paused = False
        was, s.paused_from = s.paused_from, None
        self._say("Going on.", "info")
        self._continue(was or "speaking", now)

    # -- questions ---------------------------------------------------------------------------------

    def _ask(self, question: Question) -> None:
        s = self.state
        s.question, s.mode = question, "confirming"
        self._say(question.text, "prompt")
        self._emit(PlayCue("listening"))

    def _confirm(self, question_text: str, kind, payload, now: float) -> None:
        """Freeze what runs and ask; 'no' goes back to exactly where it was."""
        s = self.state
        back = "paused" if s.mode == "paused" else "menu"
        if self._running():
            s.paused_from = self._freeze(now)
            back = "run"
        self._ask(Question(question_text, kind, payload, back=back))

    def _answer(self, yes: bool, now: float) -> None:
        s = self.state
        q = s.question
        assert q is not None
        s.question = None
        if q.kind == "resume":
            saved, step, item = q.payload  # type: ignore[misc]
            if yes:
                self._open(saved, now, step)
            else:
                self._emit(ClearProgress(saved.name))
                if item is not None:
                    self._open(item, now)
                else:
                    self._menu()
            return
        if not yes:
            self._say("All right.", "info")
            self._back_from(q, now)
            return
        if q.kind == "leave":
            self._menu()
        elif q.kind == "open":
            self._open(q.payload, now)  # type: ignore[arg-type]
        elif q.kind == "quit":
            self._goodbye()
        elif q.kind == "suggestion":
            item, step = q.payload  # type: ignore[misc]
            self._open(item, now, step)
        elif q.kind == "teach":
            s.mode = "enrolling"
            self._emit(Enrol(() if q.payload is None else (str(q.payload),)))

    def _back_from(self, q: Question, now: float, say: bool = True) -> None:
        """Return to where the question was asked from (the player drops a sentence that a later
        StopAudio in the same batch would cut anyway)."""
        s = self.state
        if q.back == "run":
            was, s.paused_from = s.paused_from, None
            self._continue(was, now)
        elif q.back == "paused":
            s.mode = "paused"
        else:
            s.mode = "menu"
            if say:
                self._emit(PlayCue("listening"))

    def _choice(self, event: Ask, now: float) -> None:
        s = self.state
        options = event.options[:3]
        if s.mode == "confirming":
            return
        names = [self._describe(o) for o in options]
        text = " or ".join(names) + "?"
        text = text[0].upper() + text[1:]
        self._confirm(text, "choice", options, now)

    def _describe(self, cmd: Do) -> str:
        if cmd.id == "open":
            item = self._find(cmd.arg)
            return item.title if item else str(cmd.arg)
        if cmd.id == "step":
            return f"step {cmd.arg}"
        if cmd.id == "teach":
            return f"learning how you say {cmd.arg}" if cmd.arg else "learning your voice"
        return cmd.id

    def _pick(self, cmd: Do, now: float) -> bool:
        """An answer to a which-one question: one of the options, or its number."""
        s = self.state
        q = s.question
        assert q is not None
        options: tuple[Do, ...] = q.payload  # type: ignore[assignment]
        chosen = None
        if cmd.id in ("suggestion", "step") and isinstance(cmd.arg, int) and 1 <= cmd.arg <= len(options):
            chosen = options[cmd.arg - 1]
        for option in options:
            if option.id == cmd.id and (option.arg == cmd.arg or option.id != "open"):
                chosen = option
        if chosen is None:
            return False
        s.question = None
        self._back_from(q, now, say=False)
        self._command(Do(chosen.id, chosen.arg), now)
        return True

    # -- commands ----------------------------------------------------------------------------------

    def _key(self, char: str, now: float) -> None:
        s = self.state
        number = None
        if s.mode == "confirming" and char in ("y", "n"):
            self._command(Do("yes" if char == "y" else "no"), now)
        elif char.isdigit():
            if s.mode == "confirming":
                number = int(char) or None
            else:
                limit = len(s.item.steps) if s.item is not None else len(self.items)
                number = self.numbers.press(char, limit, now)
                if number is None and self.numbers.digits and s.mode == "menu":
                    self._stop_list()  # the user is typing a number: the list gives way
                    self._emit(StopAudio())
        elif char in ENTER:
            number = self.numbers.enter()
        elif char in KEYS:
            self.numbers.clear()
            self._command(Do(KEYS[char]), now)
        if number is not None:
            self._command(Do("step", number), now)

    def _find(self, name: object) -> Item | None:
        for item in self.items:
            if item.name == name:
                return item
        return None

    def _command(self, cmd: Do, now: float) -> None:
        s = self.state
        s.reprompted = False
        cid = cmd.id
        listing = self._stop_list()
        if s.mode in ("menu", "paused", "confirming"):
            # Whatever the guide is saying here (the list, a question) gives way to the answer at once.
            self._emit(StopAudio())
        if s.mode == "confirming":
            self._command_confirming(cmd, now)
            return
        if cid == "toggle":
            cid = "resume" if s.mode == "paused" else "pause"
        in_item = s.item is not None
        if cid in ("pause", "stop"):
            if not in_item:
                if cid == "stop" and not listing:
                    self._confirm(f"Close the guide? {prompts.yes_no(self.hears)}", "quit", None, now)
                else:
                    self._say(f"All right. {menu.prompt(self.hears)}", "prompt")
            elif s.mode == "paused" and cid == "stop":
                self._ask_leave(now)
            else:
                self._pause(now, f"Paused. {prompts.go_on(self.hears, self.read_only)}")
        elif cid == "resume":
            if s.mode == "paused":
                self._resume(now)
            elif in_item:
                self._say("I am already going on.", "info")
            else:
                self._say(f"Nothing is paused. {menu.choose(self.hears)}", "info")
        elif cid in ("slower", "faster", "louder", "quieter"):
            self._voice(cid, now)
        elif cid == "where":
            self._info(self.where(now), now)
        elif cid == "help":
            self._info(self.help(), now)
        elif cid == "quit":
            if in_item:
                self._freeze(now)
            self._goodbye()
        elif cid == "menu":
            if not in_item:
                self._list()
            else:
                self._ask_leave(now, to_menu=True)
        elif cid == "open":
            item = self._find(cmd.arg)
            if item is None:
                self._not_understood()
            elif not in_item:
                self._open(item, now)
            elif item is s.item:
                self._info(f"This is {item.title}. " + self.where(now), now)
            else:
                assert s.item is not None
                self._confirm(f"Leave {s.item.title} and open {item.title}? {prompts.yes_no(self.hears)}", "open",
                              item, now)
        elif cid in ("next", "back", "repeat", "step"):
            self._move(cid, cmd.arg, now)
        elif cid == "suggestion":
            self._suggestion(cmd.arg, now)
        elif cid == "teach":
            self._teach(cmd.arg, now)
        elif cid in ("yes", "no"):
            self._say("There is no question to answer. Say help to hear what you can say.", "info")
        else:
            self._not_understood()

    def _command_confirming(self, cmd: Do, now: float) -> None:
        s = self.state
        q = s.question
        assert q is not None
        if q.kind == "choice":
            if cmd.id == "no":
                self._answer(False, now)
            elif self._pick(cmd, now):
                pass
            elif cmd.id in ("repeat", "help", "yes"):
                self._say(self.help() if cmd.id == "help" else q.text, "prompt")
            else:
                s.question = None
                self._back_from(q, now, say=False)
                self._command(cmd, now)
            return
        if cmd.id in ("yes", "no"):
            self._answer(cmd.id == "yes", now)
        elif cmd.id in ("repeat", "help", "where"):
            self._say(self.help() if cmd.id == "help" else q.text, "prompt")
        elif q.kind == "resume":
            self._say(prompts.yes_no(self.hears), "prompt")
        else:
            # Another command means "no, I meant this": drop the question and do it from where we were.
            s.question = None
            self._back_from(q, now, say=False)
            self._command(cmd, now)

    def _suggestion(self, number: object, now: float) -> None:
        """'Suggestion 3' goes to the step labelled so (in the five suggestions), opening it if need be."""
        s = self.state
        label = f"suggestion {number}"
        places = [(item, i) for item in self.items for i, step in enumerate(item.steps) if step.label == label]
        here = [(item, i) for item, i in places if item is s.item]
        if here:
            self._move("step", here[0][1] + 1, now)
        elif not places:
            self._info(f"There is no {label}.", now)
        elif s.item is None:
            self._open(places[0][0], now, places[0][1])
        else:
            item, step = places[0]
            self._confirm(f"Leave {s.item.title} and go to {label} of {item.title}? {prompts.yes_no(self.hears)}",
                          "suggestion", (item, step), now)

    def _teach(self, command: object, now: float) -> None:
        """'Teach me pause again': learn how the user says one command (or all), after a yes."""
        if self.state.mic_lost:
            self._info(NO_MIC_TO_TEACH, now)
            return
        what = f"how you say {command}?" if command else "how you say my commands? It takes about three minutes."
        self._confirm(f"Shall I learn {what} {prompts.yes_no(self.hears)}", "teach", command, now)

    def _enrolled(self, done: EnrolDone, now: float) -> None:
        """Back from teaching to where the user was: paused at the same place, or the menu."""
        s = self.state
        lead = NO_MIC_TO_TEACH + " " if done.no_microphone else ""
        if s.item is not None:
            s.mode, s.device_paused = "paused", False
            self._say(f"{lead}Back to where we were. {self.where(now)} Say resume to go on.", "info")
        else:
            s.mode = "menu"
            self._say(f"{lead}Back to the menu. {menu.prompt(self.hears)}", "prompt")
            self._emit(PlayCue("listening"))

    def _ask_leave(self, now: float, to_menu: bool = False) -> None:
        s = self.state
        assert s.item is not None
        if self.read_only and not to_menu:
            self._confirm(f"Stop {s.item.title} and close the guide? {prompts.yes_no(self.hears)}", "quit", None, now)
        else:
            self._confirm(f"Leave {s.item.title} and go to the menu? {prompts.yes_no(self.hears)}", "leave", None, now)

    def _info(self, text: str, now: float) -> None:
        """Answer a question without losing the place: a cut sentence is said again afterwards; a
        hold keeps counting."""
        s = self.state
        if s.mode == "speaking":
            self._emit(StopAudio())
            self._say(text, "info")
            self._begin_step(s.step, now)
        else:
            self._say(text, "prompt" if s.mode == "menu" else "info")

    def _voice(self, cid: str, now: float) -> None:
        s = self.state
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
            limit = {"slower": "the slowest", "faster": "the fastest", "louder": "the loudest",
                     "quieter": "the quietest"}[cid]
            self._info(f"That is {limit} I can speak.", now)
            return
        before = s.rate
        s.rate, s.volume = rate, volume
        self._emit(SetVoice(rate, volume))
        if s.item is not None and rate != before:
            # Words not yet spoken are measured again at the new rate when the fill hold needs them.
            spoken = s.mode == "holding" or (s.mode == "paused" and s.paused_from == "holding")
            for i in range(max(0, s.step + 1 if spoken else s.step), len(s.speech)):
                s.speech[i] = None
        word = {"slower": "Slower.", "faster": "Faster.", "louder": "Louder.", "quieter": "Quieter."}[cid]
        self._info(word, now)

    def _move(self, cid: str, arg: object, now: float) -> None:
        s = self.state
        if s.item is None:
            if cid == "step" and isinstance(arg, int):
                if 1 <= arg <= len(self.items):
                    self._open(self.items[arg - 1], now)
                else:
                    self._say(f"Please choose a number from 1 to {len(self.items)}.", "prompt")
            elif cid == "repeat":
                self._list()
            else:
                self._say(menu.prompt(self.hears), "prompt")
            return
        n = len(s.item.steps)
        if cid == "next":
            target = s.step + 1
        elif cid == "back":
            target = max(0, s.step - 1)
        elif cid == "repeat":
            target = max(s.step, -1)
        else:
            if not isinstance(arg, int) or not 1 <= arg <= n:
                self._info(f"There are {n} steps; say a number from 1 to {n}.", now)
                return
            target = arg - 1
        self._freeze(now)
        s.paused_from = None
        if target >= n:
            self._finish_item()
        else:
            self._begin_step(target, now)

    def _not_understood(self) -> None:
        s = self.state
        self._emit(PlayCue("not-understood"))
        if not s.reprompted:
            s.reprompted = True
            self._say("Sorry, I did not catch that.", "info" if self._running() else "prompt")

    def _device_lost(self, now: float, at_start: bool) -> None:
        s = self.state
        if s.mic_lost:
            return
        s.mic_lost = True
        keys = "press space to go on, or q to quit" if s.item is not None else "type a number to choose"
        if at_start:
            self._say(f"I cannot find a microphone, so I will not hear you. Use the keyboard: {keys}, "
                      "or question mark for help.", "info")
            return
        if s.item is not None and self._running():
            s.paused_from = self._freeze(now)
            s.mode = "paused"
            s.device_paused = True
            self._say(f"I can't hear the microphone any more, so I have paused. Use the keyboard: {keys}.",
                      "info")
        else:
            self._say(f"I can't hear the microphone any more. Use the keyboard: {keys}.", "info")
