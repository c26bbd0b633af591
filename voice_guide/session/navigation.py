"""The session's part that moves the user about: pausing and going on, the next or another step, another
item, the menu, closing the guide. A move that would lose the place asks first."""

from __future__ import annotations

from voice_guide.session import menu, prompts
from voice_guide.session.menu import Menu
from voice_guide.session.parts import Context, handles
from voice_guide.session.prompts import say
from voice_guide.session.questions import Questions
from voice_guide.session.reading import Reading
from voice_guide.session.state import LeaveQuestion, OpenQuestion, QuitQuestion, SuggestionQuestion
from voice_guide.understanding.command import Command


class Navigation:
    """Where the user is, and where a command takes them."""

    def __init__(self, ctx: Context, reading: Reading, menu: Menu, questions: Questions) -> None:
        self.ctx = ctx
        self.state = ctx.state
        self.reading = reading
        self.menu = menu
        self.questions = questions

    @handles("pause", "stop")
    def pause(self, cmd: Command, now: float) -> None:
        s = self.state
        if s.item is None:
            self.ctx.say(f"{say('answer.all_right')} {menu.prompt(self.ctx.hears)}", "prompt")
        elif s.mode == "paused" and cmd.id == "stop":
            self._ask_leave(now)
        else:
            self.reading.pause(now, f"{say('answer.paused')} {prompts.go_on(self.ctx.hears, self.ctx.read_only)}")

    @handles("close")
    def close(self, cmd: Command, now: float) -> None:
        self.questions.confirm(QuitQuestion(text=say("question.close", answer=prompts.yes_no(self.ctx.hears))), now)

    @handles("resume")
    def resume(self, cmd: Command, now: float) -> None:
        s = self.state
        if s.mode == "paused":
            self.reading.resume(now)
        elif s.item is not None:
            self.ctx.say(say("answer.already_going_on"), "info")
        else:
            self.ctx.say(f"{say('menu.nothing_paused')} {menu.choose(self.ctx.hears)}", "info")

    @handles("quit")
    def quit(self, cmd: Command, now: float) -> None:
        if self.state.item is not None:
            self.reading.freeze(now)
        self.reading.goodbye()

    @handles("menu")
    def to_menu(self, cmd: Command, now: float) -> None:
        if self.state.item is None:
            self.menu.read_list()
        else:
            self._ask_leave(now, to_menu=True)

    @handles("open")
    def open(self, cmd: Command, now: float) -> None:
        s = self.state
        item = self.ctx.find(cmd.arg)
        if item is None:
            self.questions.not_understood(now)
        elif s.item is None:
            self.reading.open(item, now)
        elif item is s.item:
            self.reading.info(f"{say('where.this_is', title=item.title)} {self.reading.where(now)}", now)
        else:
            text = say("question.leave_and_open", title=s.item.title, other=item.title,
                       answer=prompts.yes_no(self.ctx.hears))
            self.questions.confirm(OpenQuestion(text=text, item=item), now)

    @handles("suggestion")
    def suggestion(self, cmd: Command, now: float) -> None:
        """'Suggestion 3' goes to the step labelled so (in the five suggestions), opening it if need be."""
        s = self.state
        label = f"suggestion {cmd.arg}"
        places = [(item, i) for item in self.ctx.items for i, step in enumerate(item.steps) if step.label == label]
        here = [(item, i) for item, i in places if item is s.item]
        if here:
            self.move(Command("step", here[0][1] + 1), now)
        elif not places:
            self.reading.info(say("where.no_such_label", label=label), now)
        elif s.item is None:
            self.reading.open(places[0][0], now, places[0][1])
        else:
            item, step = places[0]
            text = say("question.leave_for_label", title=s.item.title, label=label, other=item.title,
                       answer=prompts.yes_no(self.ctx.hears))
            self.questions.confirm(SuggestionQuestion(text=text, item=item, step=step), now)

    def _ask_leave(self, now: float, to_menu: bool = False) -> None:
        s = self.state
        assert s.item is not None
        answer = prompts.yes_no(self.ctx.hears)
        if self.ctx.read_only and not to_menu:
            question = QuitQuestion(text=say("question.stop_and_close", title=s.item.title, answer=answer))
        else:
            question = LeaveQuestion(text=say("question.leave_for_menu", title=s.item.title, answer=answer))
        self.questions.confirm(question, now)

    @handles("next", "back", "repeat", "step")
    def move(self, cmd: Command, now: float) -> None:
        s, cid, arg = self.state, cmd.id, cmd.arg
        if s.item is None:
            self._at_menu(cmd, now)
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
                self.reading.info(say("where.no_such_step", steps=n), now)
                return
            target = arg - 1
        self.reading.freeze(now)
        s.paused_from = None
        if target >= n:
            self.reading.finish()
        else:
            self.reading.begin_step(target, now)

    def _at_menu(self, cmd: Command, now: float) -> None:
        """A move at the menu: a number opens that item, repeat reads the list again."""
        if cmd.id == "step" and isinstance(cmd.arg, int):
            if 1 <= cmd.arg <= len(self.ctx.items):
                self.reading.open(self.ctx.items[cmd.arg - 1], now)
            else:
                self.ctx.say(say("menu.pick_a_number", count=len(self.ctx.items)), "prompt")
        elif cmd.id == "repeat":
            self.menu.read_list()
        else:
            self.ctx.say(menu.prompt(self.ctx.hears), "prompt")
