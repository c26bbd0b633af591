"""Answers to the session machine's questions: yes, no, which one, or another command instead; and
coming back from teaching the guide a voice. Pure, like the rest of the machine."""

from __future__ import annotations

from voice_guide.session import menu, prompts
from voice_guide.session.prompts import say
from voice_guide.session.core import Machine
from voice_guide.understanding.command import Command
from voice_guide.session.events import Ask, ClearProgress, Enrol, EnrolDone, PlayCue
from voice_guide.session.state import (ChoiceQuestion, LeaveQuestion, OpenQuestion, QuitQuestion, ResumeQuestion,
                                       SuggestionQuestion, TeachQuestion)


class Answering(Machine):
    """The running machine plus what answers do; `voice_guide.session.machine.Session` adds the commands."""

    def _command(self, cmd: Command, now: float) -> None:
        raise NotImplementedError  # the commands are Session's

    def _command_confirming(self, cmd: Command, now: float) -> None:
        s = self.state
        q = s.question
        assert q is not None
        if isinstance(q, ChoiceQuestion):
            if cmd.id == "no":
                self._answer(False, now)
            elif self._pick(cmd, now):
                pass
            elif cmd.id in ("repeat", "help", "yes"):
                self._ask_again(self.help() if cmd.id == "help" else q.text, now)
            else:
                s.question = None
                self._back_from(q, now, say=False)
                self._command(cmd, now)
            return
        if cmd.id in ("yes", "no"):
            self._answer(cmd.id == "yes", now)
        elif cmd.id in ("repeat", "help", "where"):
            self._ask_again(self.help() if cmd.id == "help" else q.text, now)
        elif isinstance(q, ResumeQuestion):
            self._ask_again(prompts.yes_no(self.hears), now)
        else:
            # Another command means "no, I meant this": drop the question and do it from where we were.
            s.question = None
            self._back_from(q, now, say=False)
            self._command(cmd, now)

    def _answer(self, yes: bool, now: float) -> None:
        s = self.state
        q = s.question
        assert q is not None
        s.question = None
        if isinstance(q, ResumeQuestion):
            if yes:
                self._open(q.saved, now, q.step)
            else:
                self._emit(ClearProgress(q.saved.name))
                if q.item is not None:
                    self._open(q.item, now)
                else:
                    self._menu()
            return
        if not yes:
            self._say(say("answer.all_right"), "info")
            self._back_from(q, now)
            return
        if isinstance(q, LeaveQuestion):
            self._menu()
        elif isinstance(q, OpenQuestion):
            self._open(q.item, now)
        elif isinstance(q, QuitQuestion):
            self._goodbye()
        elif isinstance(q, SuggestionQuestion):
            self._open(q.item, now, q.step)
        elif isinstance(q, TeachQuestion):
            s.mode = "enrolling"
            self._emit(Enrol(() if q.command is None else (q.command,)))

    def _no_answer(self, now: float) -> None:
        """The question went unanswered: say so and what happens now, and go back to where it was
        asked from; a running item goes on paused, with how to go on. A saved place offered at the
        start is gone on from (nothing is forgotten on silence)."""
        s = self.state
        q = s.question
        assert q is not None
        s.question = None
        if isinstance(q, ResumeQuestion):
            self._say(say("question.no_answer_go_on"), "info")
            self._open(q.saved, now, q.step)
        elif q.back in ("run", "paused"):
            s.mode = "paused"
            self._say(say("question.no_answer_paused", self.hears), "info")
        else:
            self._say(f"{say('question.no_answer')} {menu.prompt(self.hears)}", "prompt")
            self._back_from(q, now)

    def _choice(self, event: Ask, now: float) -> None:
        s = self.state
        options = event.options[:3]
        if s.mode == "confirming":
            return
        names = [self._describe(o) for o in options]
        text = ", or ".join(names) + "?"
        text = f"{text[0].upper()}{text[1:]} {prompts.which_one(self.hears, len(options))}"
        self._confirm(ChoiceQuestion(text=text, options=options), now)

    def _describe(self, cmd: Command) -> str:
        if cmd.id == "open":
            item = self._find(cmd.arg)
            return item.title if item else str(cmd.arg)
        if cmd.id == "step":
            return say("question.choice_step", number=cmd.arg)
        if cmd.id == "teach":
            return say("question.choice_teach_one", command=cmd.arg) if cmd.arg else say("question.choice_teach_all")
        return cmd.id

    def _pick(self, cmd: Command, now: float) -> bool:
        """An answer to a which-one question: one of the options, or its number."""
        s = self.state
        q = s.question
        assert isinstance(q, ChoiceQuestion)
        options = q.options
        chosen = None
        if cmd.id in ("suggestion", "step", "choice") and isinstance(cmd.arg, int) and 1 <= cmd.arg <= len(options):
            chosen = options[cmd.arg - 1]
        for option in options:
            if option.id == cmd.id and (option.arg == cmd.arg or option.id != "open"):
                chosen = option
        if chosen is None:
            return False
        s.question = None
        self._back_from(q, now, say=False)
        self._command(Command(chosen.id, chosen.arg), now)
        return True

    def _enrolled(self, done: EnrolDone, now: float) -> None:
        """Back from teaching to where the user was: paused at the same place, or the menu."""
        s = self.state
        lead = [say("teaching.no_microphone")] if done.no_microphone else []
        if s.item is not None:
            s.mode, s.device_paused = "paused", False
            self._say(" ".join([*lead, say("teaching.back_to_place", where=self.where(now))]), "info")
        else:
            s.mode = "menu"
            self._say(" ".join([*lead, say("teaching.back_to_menu", prompt=menu.prompt(self.hears))]), "prompt")
            self._emit(PlayCue("listening"))
