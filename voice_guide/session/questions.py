"""The session's part that asks and hears answers: yes, no, which one, silence, or another command
instead; each question goes back to exactly where it was asked from."""

from __future__ import annotations

from voice_guide.session import menu, prompts
from voice_guide.session.events import Ask, ClearProgress, Enrol, PlayCue
from voice_guide.session.menu import Menu
from voice_guide.session.parts import Context, Handler
from voice_guide.session.prompts import say
from voice_guide.session.reading import Reading
from voice_guide.session.state import (ChoiceQuestion, LeaveQuestion, OpenQuestion, Question, QuitQuestion,
                                       ResumeQuestion, SuggestionQuestion, TeachQuestion)
from voice_guide.understanding.command import NUMBERED, Command

ANSWER_SECONDS = 6.0
"""How long a question waits for its answer once it has been said; then the guide says what it does
and goes back to where it was (a running item goes on paused), so a question never leaves silence."""
MISHEARD = 3
"""Utterances in a row that were no command after which the guide says, once a run, which words it
hears best and how to teach it a word: a person with weak lips, misheard again and again, may not
think to ask for help (and "help" has a lip sound itself)."""


class Questions:
    """A pending question and its answer. `dispatch` carries out a command given instead of an
    answer (or chosen by one), from where the question was asked."""

    def __init__(self, ctx: Context, reading: Reading, menu: Menu, dispatch: Handler) -> None:
        self.ctx = ctx
        self.state = ctx.state
        self.reading = reading
        self.menu = menu
        self.dispatch = dispatch

    def ask(self, question: Question, now: float) -> None:
        s = self.state
        s.question, s.mode = question, "confirming"
        self.ask_again(question.text, now)
        self.ctx.emit(PlayCue("listening"))

    def ask_again(self, text: str, now: float) -> None:
        """Say (part of) the question; the answer is awaited ANSWER_SECONDS after it ends (counted from
        now plus its length until the player says it ended, so a sentence cut short still times out)."""
        s = self.state
        s.question_say = self.ctx.say(text, "prompt")
        s.question_due = now + self.ctx.speech_length(text, s.rate) + ANSWER_SECONDS

    def said(self, now: float) -> None:
        """The question has been said to its end: the wait for the answer starts now."""
        self.state.question_due = now + ANSWER_SECONDS

    def tick(self, now: float) -> None:
        s = self.state
        if s.mode == "confirming" and s.question is not None and s.question_due is not None and now >= s.question_due:
            self._no_answer(now)

    def confirm(self, question: Question, now: float) -> None:
        """Freeze what runs and ask; 'no' goes back to exactly where it was."""
        s = self.state
        question.back = "paused" if s.mode == "paused" else "menu"
        if self.ctx.running():
            s.paused_from = self.reading.freeze(now)
            question.back = "run"
        self.ask(question, now)

    def _back_from(self, q: Question, now: float, say: bool = True) -> None:
        """Return to where the question was asked from (the player drops a sentence that a later
        StopAudio in the same batch would cut anyway)."""
        s = self.state
        if q.back == "run":
            was, s.paused_from = s.paused_from, None
            self.reading.go_on(was, now)
        elif q.back == "paused":
            s.mode = "paused"
        else:
            s.mode = "menu"
            if say:
                self.ctx.emit(PlayCue("listening"))

    def _instead(self, q: Question, cmd: Command, now: float) -> None:
        """Another command means "no, I meant this": drop the question and do it from where we were."""
        self.state.question = None
        self._back_from(q, now, say=False)
        self.dispatch(cmd, now)

    def command(self, cmd: Command, now: float) -> None:
        """A command while the question waits: an answer, a request to hear it again, or another command."""
        q = self.state.question
        assert q is not None
        if isinstance(q, ChoiceQuestion):
            if cmd.id == "no":
                self._answer(False, now)
            elif self._pick(cmd, now):
                pass
            elif cmd.id in ("repeat", "help", "yes"):
                self.ask_again(self.ctx.help() if cmd.id == "help" else q.text, now)
            else:
                self._instead(q, cmd, now)
            return
        if cmd.id in ("yes", "no"):
            self._answer(cmd.id == "yes", now)
        elif cmd.id in ("repeat", "help", "where"):
            self.ask_again(self.ctx.help() if cmd.id == "help" else q.text, now)
        elif isinstance(q, ResumeQuestion):
            self.ask_again(prompts.yes_no(self.ctx.hears), now)
        else:
            self._instead(q, cmd, now)

    def _answer(self, yes: bool, now: float) -> None:
        s = self.state
        q = s.question
        assert q is not None
        s.question = None
        if isinstance(q, ResumeQuestion):
            if yes:
                self.reading.open(q.saved, now, q.step)
            else:
                self.ctx.emit(ClearProgress(q.saved.name))
                if q.item is not None:
                    self.reading.open(q.item, now)
                else:
                    self.menu.show()
            return
        if not yes:
            self.ctx.say(say("answer.all_right"), "info")
            self._back_from(q, now)
            return
        if isinstance(q, LeaveQuestion):
            self.menu.show()
        elif isinstance(q, OpenQuestion):
            self.reading.open(q.item, now)
        elif isinstance(q, QuitQuestion):
            self.reading.goodbye()
        elif isinstance(q, SuggestionQuestion):
            self.reading.open(q.item, now, q.step)
        elif isinstance(q, TeachQuestion):
            s.mode = "enrolling"
            self.ctx.emit(Enrol(() if q.command is None else (q.command,)))

    def _no_answer(self, now: float) -> None:
        """The question went unanswered: say so and what happens now, and go back to where it was
        asked from; a running item goes on paused, with how to go on. A saved place offered at the
        start is gone on from (nothing is forgotten on silence)."""
        s = self.state
        q = s.question
        assert q is not None
        s.question = None
        if isinstance(q, ResumeQuestion):
            self.ctx.say(say("question.no_answer_go_on"), "info")
            self.reading.open(q.saved, now, q.step)
        elif q.back in ("run", "paused"):
            s.mode = "paused"
            self.ctx.say(say("question.no_answer_paused", self.ctx.hears), "info")
        else:
            self.ctx.say(f"{say('question.no_answer')} {menu.prompt(self.ctx.hears)}", "prompt")
            self._back_from(q, now)

    def choice(self, event: Ask, now: float) -> None:
        """Commands scored too close to choose between: ask which one was meant."""
        options = event.options[:3]
        self.state.misheard = 0
        if self.state.mode == "confirming":
            return
        names = [self._describe(o) for o in options]
        text = ", or ".join(names) + "?"
        text = f"{text[0].upper()}{text[1:]} {prompts.which_one(self.ctx.hears, len(options))}"
        self.confirm(ChoiceQuestion(text=text, options=options), now)

    def _describe(self, cmd: Command) -> str:
        if cmd.id == "open":
            item = self.ctx.find(cmd.arg)
            return item.title if item else str(cmd.arg)
        if cmd.id == "step":
            return say("question.choice_step", number=cmd.arg)
        if cmd.id == "teach":
            return say("question.choice_teach_one", command=cmd.arg) if cmd.arg else say("question.choice_teach_all")
        return cmd.id

    def _pick(self, cmd: Command, now: float) -> bool:
        """An answer to a which-one question: one of the options, or its number."""
        q = self.state.question
        assert isinstance(q, ChoiceQuestion)
        options = q.options
        chosen = None
        if cmd.id in NUMBERED and isinstance(cmd.arg, int) and 1 <= cmd.arg <= len(options):
            chosen = options[cmd.arg - 1]
        for option in options:
            if option.id == cmd.id and (option.arg == cmd.arg or option.id != "open"):
                chosen = option
        if chosen is None:
            return False
        self._instead(q, Command(chosen.id, chosen.arg), now)
        return True

    def not_understood(self, now: float, near: bool = True) -> None:
        """Heard but not a command: the not-understood sound; the `MISHEARD`th in a row, outside a
        question, the words heard best; else near a command, the first time a word of help, and a
        pending question waits a little longer (they tried: time to try again)."""
        s = self.state
        self.ctx.emit(PlayCue("not-understood"))
        kind = "info" if self.ctx.running() else "prompt"
        s.misheard += 1
        if s.misheard >= MISHEARD and not s.tipped and self.ctx.hears and s.mode != "confirming":
            s.tipped = s.reprompted = True
            self.ctx.say(prompts.misheard(teach=s.mode in ("menu", "paused")), kind)
            return
        if not near:
            return
        if s.mode == "confirming" and s.question_due is not None:
            s.question_due = max(s.question_due, now + ANSWER_SECONDS)
        if not s.reprompted:
            s.reprompted = True
            self.ctx.say(say("answer.not_caught"), kind)
