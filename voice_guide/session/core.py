"""The running half of the session machine: the menu and its list, an item's steps and holds,
pausing and going on, asking a question and coming back from it. Pure: events in, actions out.

`voice_guide.session.machine.Session` adds what commands, keys and answers do on top of it.
"""

from __future__ import annotations

from typing import Callable, Sequence

from voice_guide.session import menu, prompts
from voice_guide.session.prompts import say
from voice_guide.content.model import Item
from voice_guide.session.keypad import NumberEntry
from voice_guide.session.events import Action, ClearProgress, Finished, PlayCue, SaveProgress, Say, SayKind, StopAudio
from voice_guide.session.state import ChoiceQuestion, Hold, Mode, Question, SessionState
from voice_guide.timeline import HALFWAY_TEXT, TITLE_GAP, hold_segments, resolve_holds

ANSWER_SECONDS = 6.0
"""How long a question waits for its answer once it has been said; then the guide says what it does
and goes back to where it was (a running item goes on paused), so a question never leaves silence."""


class Machine:
    """The guide's behaviour. `speech_length(text, rate)` says how many seconds `text` lasts when
    spoken at `rate` (the player measures its rendered audio); holds follow from it so a session
    lasts its planned length. `read_only` ends the guide after one item instead of returning to the
    menu. `listening` says whether spoken commands can be heard at all (else it speaks of keys);
    `keys` whether there is a keyboard to fall back on. `voices` and `voice`: the voices a person may
    try by ear, as (name, how it introduces itself), in order, and the one speaking."""

    def __init__(self, items: Sequence[Item], speech_length: Callable[[str, int], float], *,
                 rate: int = 150, volume: float = 1.0, read_only: bool = False, listening: bool = True,
                 keys: bool = True, voices: Sequence[tuple[str, str]] = (), voice: str | None = None) -> None:
        self.items = list(items)
        self.voices = tuple(voices)
        self.speech_length = speech_length
        self.read_only = read_only
        self.listening = listening
        self.keys = keys
        self.numbers = NumberEntry()
        self.state = SessionState(rate=rate, volume=volume, voice=voice)
        self._next_id = 0
        self._out: list[Action] = []

    @property
    def mode(self) -> Mode:
        return self.state.mode

    @property
    def hears(self) -> bool:
        """Spoken commands can be heard now (else the user has only keys)."""
        return self.listening and not self.state.mic_lost

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

    def help(self) -> str:
        s = self.state
        if s.mode == "confirming" and s.question is not None:
            if isinstance(s.question, ChoiceQuestion):
                return prompts.which_one(self.hears, len(s.question.options))
            return prompts.help_text("question", self.hears)
        mode = s.mode if s.mode in ("menu", "paused") else "running"
        return prompts.help_text(mode, self.hears)

    def _flush(self) -> list[Action]:
        out, self._out = self._out, []
        return out

    def _say(self, text: str, kind: SayKind) -> int:
        self._next_id += 1
        self._out.append(Say(text, kind, self._next_id))
        return self._next_id

    def _emit(self, action: Action) -> None:
        self._out.append(action)

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

    def _open(self, item: Item, now: float, step: int = -1) -> None:
        s = self.state
        s.item, s.hold, s.question, s.paused_from = item, None, None, None
        s.place_saved = None
        s.speech = [None] * len(item.steps)
        s.title_seconds, s.title_rate = None, s.rate  # measured when a fill hold needs it: the title starts at once
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
        if s.title_seconds is None:
            s.title_seconds = self.speech_length(s.item.title, s.title_rate)
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
        self._emit(ClearProgress(s.item.name))
        self._say(self.closing(s.item), "info")
        if self.read_only:
            self._quit_now()
        else:
            s.item = None
            self._menu(say("menu.what_next"))

    def closing(self, item: Item) -> str:
        """What is said when `item` has been read to its end."""
        return say("answer.that_was_goodbye" if self.read_only else "answer.that_was", title=item.title)

    def _goodbye(self) -> None:
        """Quit, saving the place in an open item once more; say it is saved only when the saves work."""
        s = self.state
        words = [say("answer.goodbye")]
        if s.item is not None:
            self._emit(SaveProgress(s.item.name, max(s.step, 0)))
            if s.place_saved is not None:
                words.append(say("answer.place_saved" if s.place_saved else "answer.place_not_saved"))
        self._say(" ".join(words), "info")
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
        self._say(say("answer.going_on"), "info")
        self._continue(was or "speaking", now)

    def _ask(self, question: Question, now: float) -> None:
        s = self.state
        s.question, s.mode = question, "confirming"
        self._ask_again(question.text, now)
        self._emit(PlayCue("listening"))

    def _ask_again(self, text: str, now: float) -> None:
        """Say (part of) the question; the answer is awaited ANSWER_SECONDS after it ends (counted from
        now plus its length until the player says it ended, so a sentence cut short still times out)."""
        s = self.state
        s.question_say = self._say(text, "prompt")
        s.question_due = now + self.speech_length(text, s.rate) + ANSWER_SECONDS

    def _question_said(self, now: float) -> None:
        self.state.question_due = now + ANSWER_SECONDS

    def _question_tick(self, now: float) -> None:
        s = self.state
        if s.mode == "confirming" and s.question is not None and s.question_due is not None and now >= s.question_due:
            self._no_answer(now)

    def _no_answer(self, now: float) -> None:
        raise NotImplementedError  # what silence means is Answering's

    def _confirm(self, question: Question, now: float) -> None:
        """Freeze what runs and ask; 'no' goes back to exactly where it was."""
        s = self.state
        question.back = "paused" if s.mode == "paused" else "menu"
        if self._running():
            s.paused_from = self._freeze(now)
            question.back = "run"
        self._ask(question, now)

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

    def _find(self, name: object) -> Item | None:
        for item in self.items:
            if item.name == name:
                return item
        return None

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

    def _not_understood(self, now: float) -> None:
        s = self.state
        self._emit(PlayCue("not-understood"))
        if s.mode == "confirming" and s.question_due is not None:
            s.question_due = max(s.question_due, now + ANSWER_SECONDS)  # they tried: time to try again
        if not s.reprompted:
            s.reprompted = True
            self._say(say("answer.not_caught"), "info" if self._running() else "prompt")

    def _device_lost(self, now: float, at_start: bool) -> None:
        s = self.state
        if s.mic_lost:
            return
        s.mic_lost = True
        keys = say("microphone.keys_in_item" if s.item is not None else "microphone.keys_at_menu")
        if at_start:
            self._say(say("microphone.none_at_start", keys=keys) if self.keys else say("microphone.none_and_no_keys"),
                      "info")
            return
        if s.item is not None and self._running():
            s.paused_from = self._freeze(now)
            s.mode = "paused"
            s.device_paused = True
            self._say(say("microphone.lost_paused", keys=keys), "info")
        else:
            self._say(say("microphone.lost", keys=keys), "info")
