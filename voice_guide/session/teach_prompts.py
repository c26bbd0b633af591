"""The session's part that offers to learn how the user says a command ("teach me pause again"), hands
the teaching to the player, and comes back from it to where the user was."""

from __future__ import annotations

from voice_guide.session import menu, prompts
from voice_guide.session.events import EnrolDone, PlayCue
from voice_guide.session.parts import Context, handles
from voice_guide.session.prompts import say
from voice_guide.session.questions import Questions
from voice_guide.session.reading import Reading
from voice_guide.session.state import TeachQuestion
from voice_guide.understanding.command import Command


class TeachPrompts:
    """Asks before teaching (a yes starts it, see `Questions`); the session waits while the player teaches."""

    def __init__(self, ctx: Context, reading: Reading, questions: Questions) -> None:
        self.ctx = ctx
        self.state = ctx.state
        self.reading = reading
        self.questions = questions

    @handles("teach")
    def teach(self, cmd: Command, now: float) -> None:
        """'Teach me pause again': learn how the user says one command (or all), after a yes."""
        if self.state.mic_lost:
            self.reading.info(say("teaching.no_microphone"), now)
            return
        command, answer = cmd.arg, prompts.yes_no(self.ctx.hears)
        if command:
            text = say("question.teach_one", command=command, answer=answer)
        else:
            text = say("question.teach_all", answer=answer)
        self.questions.confirm(TeachQuestion(text=text, command=None if command is None else str(command)), now)

    def done(self, event: EnrolDone, now: float) -> None:
        """Back from teaching to where the user was: paused at the same place, or the menu."""
        s = self.state
        lead = [say("teaching.no_microphone")] if event.no_microphone else []
        if s.item is not None:
            s.mode, s.device_paused = "paused", False
            self.ctx.say(" ".join([*lead, say("teaching.back_to_place", where=self.reading.where(now))]), "info")
        else:
            s.mode = "menu"
            self.ctx.say(" ".join([*lead, say("teaching.back_to_menu", prompt=menu.prompt(self.ctx.hears))]), "prompt")
            self.ctx.emit(PlayCue("listening"))
