"""The session player as a pure state machine: events in, actions out, no I/O.

`voice_guide.session.core` runs items, pauses and questions; this module adds what each command, key
and answer does (commands through the `Session.HANDLERS` table); `voice_guide.session.state` is what
it knows.

Everything the guide does while it runs — reading a topic, leading a timed session, pausing, asking
"are you sure?" — is decided here, so it can be tested in tables without devices, engines or threads.
`voice_guide.live.player` feeds it events (commands heard, keys, clock ticks, "that sentence has finished")
and carries out the actions it returns (speak, play a cue, cut the sound, save progress).

Time only enters through the `now` passed with each event; a hold keeps counting while the user
talks, and freezes while paused or while a question is pending.
"""

from __future__ import annotations

from typing import Callable, ClassVar, Sequence

from voice_guide.session import menu, prompts
from voice_guide.session.prompts import say
from voice_guide.content.model import Item
from voice_guide.engines import RATE_MAX, RATE_MIN, VOLUME_MAX, VOLUME_MIN
from voice_guide.session.keypad import ENTER
from voice_guide.session.answers import Answering
from voice_guide.understanding.command import Command
from voice_guide.session.events import (Action, Ask, DeviceBack, DeviceLost, EnrolDone, Event, Key, Notice,
                                        NotUnderstood, PlaceSaved, SetVoice, SpeechDone, StopAudio, Tick)
from voice_guide.session.state import (LeaveQuestion, OpenQuestion, QuitQuestion, ResumeQuestion, SuggestionQuestion,
                                       TeachQuestion)

RATE_STEP, VOLUME_STEP = 20, 0.2
"""How much one slower, faster, louder or quieter changes the voice (within the limits in `engines`)."""

KEYS = {
    " ": "toggle", "p": "toggle", "n": "next", "b": "back", "r": "repeat", "q": "quit",
    "+": "faster", "=": "faster", "-": "slower", ">": "louder", "<": "quieter",
    "?": "help", "h": "help", "w": "where", "m": "menu", "l": "menu", "y": "yes",
}
"""Keyboard shortcuts: the same commands as the voice. Numbers (see voice_guide.session.keypad) choose an item
or a step; while a question is pending, `y` answers yes and `n` answers no."""

class Session(Answering):
    """The guide's behaviour: the running machine plus what commands, keys and answers do."""

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
            text = say("question.resume", number=step + 1, steps=len(saved.steps), title=saved.title,
                       answer=prompts.resume_offer(self.hears, item is not None))
            self._ask(ResumeQuestion(text=text, saved=saved, step=step, item=item), now)
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
                self._command(Command("step", number), now)
            self._list_tick(now)
            if not event.hearing:
                self._question_tick(now)
            self._tick(now)
        elif isinstance(event, SpeechDone):
            if event.say_id == s.awaiting:
                s.awaiting = None
                self._spoken(min(now, event.at) if event.at is not None else now)
            elif event.say_id == s.list_id:
                s.list_id = None
                self._listed(now)
            elif event.say_id == s.question_say and s.mode == "confirming":
                self._question_said(min(now, event.at) if event.at is not None else now)
        elif isinstance(event, Key):
            self._key(event.char, now)
        elif isinstance(event, Command):
            self._command(event, now)
        elif isinstance(event, Ask):
            self._choice(event, now)
        elif isinstance(event, NotUnderstood):
            self._not_understood(now)
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
                self._say(say("microphone.back_going_on"), "info")
                was, s.paused_from = s.paused_from, None
                self._continue(was or "speaking", now)
            else:
                self._say(say("microphone.back_listening"), "info")
            s.device_paused = False
        return self._flush()

    def _key(self, char: str, now: float) -> None:
        s = self.state
        number = None
        if s.mode == "confirming" and char in ("y", "n"):
            self._command(Command("yes" if char == "y" else "no"), now)
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
            self._command(Command(KEYS[char]), now)
        if number is not None:
            self._command(Command("step", number), now)

    def _command(self, cmd: Command, now: float) -> None:
        s = self.state
        s.reprompted = False
        listing = self._stop_list()
        if s.mode in ("menu", "paused", "confirming"):
            # Whatever the guide is saying here (the list, a question) gives way to the answer at once.
            self._emit(StopAudio())
        if s.mode == "confirming":
            self._command_confirming(cmd, now)
            return
        cid = cmd.id
        if cid == "toggle":
            cid = "resume" if s.mode == "paused" else "pause"
        elif cid == "stop" and s.item is None and not listing:
            cid = "close"
        handler = self.HANDLERS.get(cid)
        if handler is None:
            self._not_understood(now)
        else:
            handler(self, Command(cid, cmd.arg), now)

    # -- one handler per command (see HANDLERS) ----------------------------------------------------

    def _do_pause(self, cmd: Command, now: float) -> None:
        s = self.state
        if s.item is None:
            self._say(f"{say('answer.all_right')} {menu.prompt(self.hears)}", "prompt")
        elif s.mode == "paused" and cmd.id == "stop":
            self._ask_leave(now)
        else:
            self._pause(now, f"{say('answer.paused')} {prompts.go_on(self.hears, self.read_only)}")

    def _do_close(self, cmd: Command, now: float) -> None:
        self._confirm(QuitQuestion(text=say("question.close", answer=prompts.yes_no(self.hears))), now)

    def _do_resume(self, cmd: Command, now: float) -> None:
        s = self.state
        if s.mode == "paused":
            self._resume(now)
        elif s.item is not None:
            self._say(say("answer.already_going_on"), "info")
        else:
            self._say(f"{say('menu.nothing_paused')} {menu.choose(self.hears)}", "info")

    def _do_where(self, cmd: Command, now: float) -> None:
        self._info(self.where(now), now)

    def _do_help(self, cmd: Command, now: float) -> None:
        self._info(self.help(), now)

    def _do_quit(self, cmd: Command, now: float) -> None:
        if self.state.item is not None:
            self._freeze(now)
        self._goodbye()

    def _do_menu(self, cmd: Command, now: float) -> None:
        if self.state.item is None:
            self._list()
        else:
            self._ask_leave(now, to_menu=True)

    def _do_open(self, cmd: Command, now: float) -> None:
        s = self.state
        item = self._find(cmd.arg)
        if item is None:
            self._not_understood(now)
        elif s.item is None:
            self._open(item, now)
        elif item is s.item:
            self._info(f"{say('where.this_is', title=item.title)} {self.where(now)}", now)
        else:
            text = say("question.leave_and_open", title=s.item.title, other=item.title,
                       answer=prompts.yes_no(self.hears))
            self._confirm(OpenQuestion(text=text, item=item), now)

    def _do_no_question(self, cmd: Command, now: float) -> None:
        self._say(say("question.none_asked", self.hears), "info")

    def _do_suggestion(self, cmd: Command, now: float) -> None:
        """'Suggestion 3' goes to the step labelled so (in the five suggestions), opening it if need be."""
        s = self.state
        label = f"suggestion {cmd.arg}"
        places = [(item, i) for item in self.items for i, step in enumerate(item.steps) if step.label == label]
        here = [(item, i) for item, i in places if item is s.item]
        if here:
            self._do_move(Command("step", here[0][1] + 1), now)
        elif not places:
            self._info(say("where.no_such_label", label=label), now)
        elif s.item is None:
            self._open(places[0][0], now, places[0][1])
        else:
            item, step = places[0]
            text = say("question.leave_for_label", title=s.item.title, label=label, other=item.title,
                       answer=prompts.yes_no(self.hears))
            self._confirm(SuggestionQuestion(text=text, item=item, step=step), now)

    def _do_teach(self, cmd: Command, now: float) -> None:
        """'Teach me pause again': learn how the user says one command (or all), after a yes."""
        if self.state.mic_lost:
            self._info(say("teaching.no_microphone"), now)
            return
        command, answer = cmd.arg, prompts.yes_no(self.hears)
        if command:
            text = say("question.teach_one", command=command, answer=answer)
        else:
            text = say("question.teach_all", answer=answer)
        self._confirm(TeachQuestion(text=text, command=None if command is None else str(command)), now)

    def _ask_leave(self, now: float, to_menu: bool = False) -> None:
        s = self.state
        assert s.item is not None
        answer = prompts.yes_no(self.hears)
        if self.read_only and not to_menu:
            self._confirm(QuitQuestion(text=say("question.stop_and_close", title=s.item.title, answer=answer)), now)
        else:
            self._confirm(LeaveQuestion(text=say("question.leave_for_menu", title=s.item.title, answer=answer)), now)

    def _do_voice(self, cmd: Command, now: float) -> None:
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
            limit = {"slower": "slowest", "faster": "fastest", "louder": "loudest", "quieter": "quietest"}[cid]
            self._info(say(f"voice.{limit}"), now)
            return
        before = s.rate
        s.rate, s.volume = rate, volume
        self._emit(SetVoice(rate, volume))
        if rate != before:
            self._measure_again()
        self._info(say(f"voice.{cid}"), now)

    def _measure_again(self) -> None:
        """Words not yet spoken are measured again (another rate or voice) when the fill hold needs them."""
        s = self.state
        if s.item is not None:
            spoken = s.mode == "holding" or (s.mode == "paused" and s.paused_from == "holding")
            for i in range(max(0, s.step + 1 if spoken else s.step), len(s.speech)):
                s.speech[i] = None

    def _do_another_voice(self, cmd: Command, now: float) -> None:
        """The next voice speaks from now on, introducing itself; "keep this one" saves it."""
        s, names = self.state, [name for name, _ in self.voices]
        if len(names) < 2:
            self._info(say("voice.only_one"), now)
            return
        s.voice = names[(names.index(s.voice) + 1) % len(names) if s.voice in names else 0]
        self._emit(SetVoice(s.rate, s.volume, voice=s.voice))
        self._measure_again()
        self._info(say("voice.sample", label=dict(self.voices)[s.voice]), now)

    def _do_keep_voice(self, cmd: Command, now: float) -> None:
        self._emit(SetVoice(self.state.rate, self.state.volume, keep=True))
        self._info(say("voice.kept"), now)

    def _do_move(self, cmd: Command, now: float) -> None:
        s, cid, arg = self.state, cmd.id, cmd.arg
        if s.item is None:
            if cid == "step" and isinstance(arg, int):
                if 1 <= arg <= len(self.items):
                    self._open(self.items[arg - 1], now)
                else:
                    self._say(say("menu.pick_a_number", count=len(self.items)), "prompt")
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
                self._info(say("where.no_such_step", steps=n), now)
                return
            target = arg - 1
        self._freeze(now)
        s.paused_from = None
        if target >= n:
            self._finish_item()
        else:
            self._begin_step(target, now)

    HANDLERS: ClassVar[dict[str, Callable[[Session, Command, float], None]]] = {
        "pause": _do_pause, "stop": _do_pause, "close": _do_close, "resume": _do_resume,
        "slower": _do_voice, "faster": _do_voice, "louder": _do_voice, "quieter": _do_voice,
        "another_voice": _do_another_voice, "keep_voice": _do_keep_voice,
        "where": _do_where, "help": _do_help, "quit": _do_quit, "menu": _do_menu, "open": _do_open,
        "next": _do_move, "back": _do_move, "repeat": _do_move, "step": _do_move,
        "suggestion": _do_suggestion, "teach": _do_teach, "yes": _do_no_question, "no": _do_no_question,
        "choice": _do_no_question,
    }
    """What each command does outside a question ("toggle" and "stop" at the menu are resolved first)."""
