"""The session state machine, driven by events on a made-up clock: tables, no mocks, no devices."""

from __future__ import annotations

import pytest

from voice_guide.content.model import Item, Step
from voice_guide.session.machine import Session
from voice_guide.session.state import Speaking
from voice_guide.understanding.command import Command
from voice_guide.session.events import (Ask, PlaceSaved, ClearProgress, DeviceBack, DeviceLost, Enrol, EnrolDone,
                                        Finished, Key, NotUnderstood, PlayCue, SaveProgress, Say, SetVoice, SpeechDone,
                                        StopAudio, Tick)
from voice_guide.timeline import CUE_SECONDS, TITLE_GAP

MINI = Item(
    name="mini", title="Mini session", kind="session", length=60.0,
    steps=(
        Step("Sit comfortably and close your eyes.", hold=2.0, label="settle"),
        Step("Let your face rest.", fill=True, cue=True, halfway=True, label="rest", title="Your face at rest"),
        Step("Open your eyes slowly.", label="end"),
    ),
)
TIP = Item(name="tip", title="A tip", kind="topic", steps=(Step("Rest your eyes."), Step("Drink water.")))
SUGGESTIONS = Item(name="five", title="Five suggestions", kind="topic",
                   steps=(Step("Here they are.", label="before"), Step("Sleep.", label="suggestion 1"),
                          Step("Eat well.", label="suggestion 2")))
ITEMS = [TIP, MINI, SUGGESTIONS]


def length(text: str, rate: int) -> float:
    """Half a second a word at 120 words a minute, scaled by the rate."""
    return len(text.split()) * 60.0 / rate


def new(read_only: bool = False) -> Session:
    return Session(ITEMS, length, speaking=Speaking(rate=120), read_only=read_only)


def says(actions) -> list[str]:
    return [a.text for a in actions if isinstance(a, Say)]


class Driver:
    """Plays the part of the player: each sentence takes its measured length, the clock ticks."""

    def __init__(self, session: Session, now: float = 0.0) -> None:
        self.s = session
        self.now = now
        self.log: list[tuple[float, object]] = []

    def record(self, actions) -> list:
        self.log += [(self.now, a) for a in actions]
        return actions

    def event(self, event) -> list:
        return self.record(self.s.handle(event, self.now))

    def finish_speech(self) -> list:
        """Let the sentence the machine waits for play to its end."""
        say_id = self.s.state.awaiting
        assert say_id is not None
        text = next(a.text for _, a in reversed(self.log) if isinstance(a, Say) and a.id == say_id)
        self.now += length(text, self.s.state.rate)
        return self.event(SpeechDone(say_id))

    def run(self, until: float, step: float = 0.05) -> None:
        """Run on: finish sentences, tick through holds, until `until` or nothing is running."""
        while self.now < until and self.s.mode in ("speaking", "holding"):
            if self.s.mode == "speaking" and self.s.state.awaiting is not None:
                self.finish_speech()
            else:
                self.now += step
                self.event(Tick())


def at(state: str) -> Driver:
    """A driver with the machine in a named situation."""
    d = Driver(new())
    d.record(d.s.start(d.now))
    if state == "menu":
        return d
    d.event(Command("open", "mini"))
    if state == "title":
        return d
    d.finish_speech()  # title
    d.now += TITLE_GAP
    d.event(Tick())
    if state == "speaking":
        return d
    d.finish_speech()  # step 1's words: its 2-second hold starts
    if state == "holding":
        return d
    if state == "paused":
        d.event(Command("pause"))
        return d
    if state == "confirming":
        d.event(Command("menu"))
        return d
    raise ValueError(state)


CASES = [
    # start state, event, mode after, a sentence said (or "" for none), an action type expected
    ("menu", Command("open", "mini"), "speaking", "Mini session", Say),
    ("menu", Command("stop"), "confirming", "Close the guide?", PlayCue),
    ("menu", Key("1"), "speaking", "A tip", Say),
    ("menu", Command("step", 2), "speaking", "Mini session", Say),
    ("menu", Command("suggestion", 2), "speaking", "Eat well.", Say),
    ("menu", Command("next"), "menu", "Say a topic or a session, or say list to hear them all.", Say),
    ("menu", Command("help"), "menu", "Say the name of a topic", Say),
    ("speaking", Command("pause"), "paused", "Paused.", StopAudio),
    ("speaking", Command("next"), "speaking", "Let your face rest.", StopAudio),
    ("speaking", Command("where"), "speaking", "Step 1 of 3 of Mini session.", StopAudio),
    ("holding", Command("pause"), "paused", "Paused.", StopAudio),
    ("holding", Command("stop"), "paused", "Paused.", StopAudio),
    ("holding", Command("next"), "speaking", "Let your face rest.", SaveProgress),
    ("holding", Command("back"), "speaking", "Sit comfortably", SaveProgress),
    ("holding", Command("repeat"), "speaking", "Sit comfortably", SaveProgress),
    ("holding", Command("step", 3), "speaking", "Open your eyes slowly.", SaveProgress),
    ("holding", Command("step", 9), "holding", "There are 3 steps", Say),
    ("holding", Command("menu"), "confirming", "Leave Mini session and go to the menu?", StopAudio),
    ("holding", Command("open", "tip"), "confirming", "Leave Mini session and open A tip?", StopAudio),
    ("holding", Command("open", "mini"), "holding", "This is Mini session.", Say),
    ("holding", Command("where"), "holding", "Step 1 of 3 of Mini session.", Say),
    ("holding", Command("help"), "holding", "You can say wait, or pause, next", Say),
    ("holding", Command("slower"), "holding", "Slower.", SetVoice),
    ("holding", Command("louder"), "holding", "That is the loudest I can speak.", Say),
    ("holding", Command("quieter"), "holding", "Quieter.", SetVoice),
    ("holding", Command("yes"), "holding", "There is no question to answer.", Say),
    ("holding", Command("suggestion", 1), "confirming", "Leave Mini session and go to suggestion 1", StopAudio),
    ("holding", Ask((Command("pause"), Command("next"))), "confirming", "Pause, or next? Say the first, the second, or no.", PlayCue),
    ("holding", NotUnderstood(), "holding", "Sorry, I did not catch that.", PlayCue),
    ("holding", DeviceLost(), "paused", "I can't hear the microphone any more, so I have paused.", StopAudio),
    ("holding", Key(" "), "paused", "Paused.", StopAudio),
    ("holding", Key("n"), "speaking", "Let your face rest.", SaveProgress),
    ("holding", Key("+"), "holding", "Faster.", SetVoice),
    ("holding", Key("q"), "finished", "Goodbye.", SaveProgress),
    ("paused", Command("resume"), "holding", "Going on.", Say),
    ("paused", Key(" "), "holding", "Going on.", Say),
    ("paused", Command("toggle"), "holding", "Going on.", Say),  # a switch's sound
    ("speaking", Command("toggle"), "paused", "Paused.", StopAudio),
    ("paused", Command("pause"), "paused", "Paused.", Say),
    ("paused", Command("stop"), "confirming", "Leave Mini session and go to the menu?", PlayCue),
    ("paused", Command("help"), "paused", "Say go, or keep going, to go on.", Say),
    ("paused", Command("next"), "speaking", "Let your face rest.", SaveProgress),
    ("confirming", Command("yes"), "menu", "Say a topic or a session", Say),
    ("confirming", Command("no"), "holding", "All right.", Say),
    ("confirming", Key("y"), "menu", "Say a topic or a session", Say),
    ("confirming", Key("n"), "holding", "All right.", Say),
    ("confirming", Command("repeat"), "confirming", "Leave Mini session and go to the menu?", Say),
    ("confirming", Command("help"), "confirming", "Say yes or no.", Say),
    ("confirming", Command("pause"), "paused", "Paused.", StopAudio),
]


@pytest.mark.parametrize("state, event, mode, said, kind", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_event_in_state(state, event, mode, said, kind):
    d = at(state)
    actions = d.event(event)
    assert d.s.mode == mode
    assert any(said in text for text in says(actions)), says(actions)
    assert any(isinstance(a, kind) for a in actions)


def test_choice_question_takes_the_answer_or_its_number():
    d = at("holding")
    d.event(Ask((Command("pause"), Command("next"))))
    d.event(Command("next"))
    assert d.s.mode == "speaking" and d.s.state.step == 1
    d = at("holding")
    d.event(Ask((Command("pause"), Command("next"))))
    d.event(Command("suggestion", 1))
    assert d.s.mode == "paused"


def test_another_command_instead_of_an_answer_is_done():
    d = at("holding")
    d.event(Ask((Command("pause"), Command("open", "tip"))))
    assert "Pause, or A tip? Say the first, the second, or no." in says([a for _, a in d.log])
    d.event(Command("where"))
    assert d.s.mode == "holding" and d.s.state.question is None
    d.event(Ask((Command("pause"), Command("next"))))
    assert says(d.event(Command("yes"))) == ["Pause, or next? Say the first, the second, or no."]


def test_reprompt_is_said_once_then_only_the_cue():
    d = at("holding")
    first, second = d.event(NotUnderstood()), d.event(NotUnderstood())
    assert says(first) and not says(second)
    assert PlayCue("not-understood") in second
    d.event(Command("where"))
    assert says(d.event(NotUnderstood()))


def test_misheard_again_and_again_the_guide_says_once_which_words_it_hears_best():
    """A person with weak lips may not think to ask for help: the `MISHEARD`th utterance in a row that
    was no command brings the words heard best (and, where it can be done, how to teach a word), once
    a run; a command in between starts the count again; near misses say "Sorry" first."""
    from voice_guide.session.prompts import say
    from voice_guide.session.questions import MISHEARD

    tip = say("help.lip_light")
    d = at("holding")
    heard = [says(d.event(NotUnderstood(near=False))) for _ in range(MISHEARD)]
    assert heard[:-1] == [[]] * (MISHEARD - 1)
    assert heard[-1] == [f"{say('answer.misheard')} {tip}"]  # running: no teaching offered mid-step
    assert not any(says(d.event(NotUnderstood(near=near))) for near in (False, True) * MISHEARD)  # once a run
    d = at("menu")
    for _ in range(MISHEARD - 1):
        d.event(NotUnderstood(near=False))
    d.event(Command("where"))
    assert [says(d.event(NotUnderstood(near=False))) for _ in range(MISHEARD - 1)] == [[]] * (MISHEARD - 1)
    assert says(d.event(NotUnderstood(near=False))) == [f"{say('answer.misheard')} {say('help.teach')} {tip}"]
    d = at("paused")
    assert says(d.event(Command("no-such-command"))) == [say("answer.not_caught")]  # a command with no handler
    near = [says(d.event(NotUnderstood())) for _ in range(MISHEARD - 1)]
    assert near[0] == [] and tip in near[1][0]


def test_misheard_while_a_question_waits_or_with_keys_only_brings_no_words_heard_best():
    """A question waits for yes or no: the words heard best wait for the next miss after it. With
    keys only, nothing is heard to be misheard."""
    from voice_guide.session.prompts import say
    from voice_guide.session.questions import MISHEARD

    d = at("confirming")
    for _ in range(MISHEARD):
        assert say("help.lip_light") not in " ".join(says(d.event(NotUnderstood())))
    d.now += 30
    d.event(Tick())  # no answer: back to the step, paused
    assert say("help.lip_light") in " ".join(says(d.event(NotUnderstood(near=False))))
    deaf = Driver(Session(ITEMS, length, speaking=Speaking(rate=120), listening=False))
    deaf.record(deaf.s.start(deaf.now))
    assert not any(says(deaf.event(NotUnderstood(near=False))) for _ in range(2 * MISHEARD))


def test_nothing_destructive_without_yes():
    """Leaving a running session, opening another item or quitting by voice needs a spoken yes."""
    for command in (Command("menu"), Command("open", "tip"), Command("suggestion", 1)):
        d = at("holding")
        d.event(command)
        assert d.s.state.item is MINI and d.s.mode == "confirming"
        d.event(Command("no"))
        assert d.s.state.item is MINI and d.s.mode == "holding"
    d = at("menu")
    d.event(Command("stop"))
    assert not any(isinstance(a, Finished) for _, a in d.log)
    d.event(Command("yes"))
    assert d.s.mode == "finished" and isinstance(d.log[-1][1], Finished)


def test_hold_keeps_counting_while_the_user_talks():
    d = at("holding")
    start = d.now
    d.now += 1.0
    d.event(Command("where"))
    d.event(Command("help"))
    d.now = start + 1.99
    d.event(Tick())
    assert d.s.mode == "holding"
    d.now = start + 2.0
    d.event(Tick())
    assert d.s.mode == "speaking" and d.s.state.step == 1


def test_pause_freezes_the_hold_and_resume_goes_on_from_there():
    d = at("holding")
    start = d.now
    d.now += 0.5
    d.event(Command("pause"))
    d.now += 1000.0
    d.event(Tick())
    assert d.s.mode == "paused"
    d.event(Command("resume"))
    resumed = d.now
    d.now = resumed + 1.49
    d.event(Tick())
    assert d.s.mode == "holding"
    d.now = resumed + 1.5
    d.event(Tick())
    assert d.s.mode == "speaking" and d.s.state.step == 1 and start < resumed


def test_pause_mid_sentence_says_the_sentence_again_from_its_start():
    d = at("speaking")
    d.event(Command("pause"))
    actions = d.event(Command("resume"))
    assert "Sit comfortably and close your eyes." in says(actions)
    assert d.s.state.awaiting is not None


def test_session_lasts_its_planned_length_with_chimes_and_halfway():
    d = at("menu")
    start = d.now
    d.event(Command("open", "mini"))
    d.run(until=1000)
    assert d.s.mode == "menu"
    finish = next(t for t, a in d.log if isinstance(a, ClearProgress))
    assert finish - start == pytest.approx(MINI.length, abs=0.1)
    events = [a.name if isinstance(a, PlayCue) else a.text for _, a in d.log
              if (isinstance(a, PlayCue) and a.name.startswith("chime"))
              or (isinstance(a, Say) and a.kind == "halfway")]
    assert events == ["chime-start", "Halfway.", "chime-end"]
    times = {a.name if isinstance(a, PlayCue) else a.text: t for t, a in d.log
             if isinstance(a, (PlayCue, Say))}
    halfway_middle = times["Halfway."] + length("Halfway.", 120) / 2
    assert halfway_middle == pytest.approx((times["chime-start"] + times["chime-end"] + CUE_SECONDS) / 2, abs=0.1)
    saved = [a.step for _, a in d.log if isinstance(a, SaveProgress)]
    assert saved == [0, 0, 1, 2]  # saved from the title on, then after each step


def test_a_rate_change_keeps_the_planned_length():
    d = at("holding")
    start = d.now - length("Sit comfortably and close your eyes.", 120) - TITLE_GAP - length("Mini session", 120)
    d.event(Command("slower"))
    assert d.s.state.rate == 100
    d.run(until=1000)
    finish = next(t for t, a in d.log if isinstance(a, ClearProgress))
    assert finish - start == pytest.approx(MINI.length, abs=0.1)


def test_rate_stays_within_limits():
    d = Driver(Session(ITEMS, length, speaking=Speaking(rate=290)))
    d.record(d.s.start(0.0))
    d.event(Command("faster"))
    actions = d.event(Command("faster"))
    assert d.s.state.rate == 300 and "That is the fastest I can speak." in says(actions)


@pytest.mark.parametrize("state, expected", [
    ("menu", "You are at the menu."),
    ("title", "Starting Mini session."),
    ("holding", "Step 1 of 3 of Mini session."),
])
def test_where(state, expected):
    assert at(state).s.where() == expected


def test_resume_offer_yes_goes_on_from_the_saved_step():
    d = Driver(new())
    actions = d.record(d.s.start(0.0, resume=(MINI, 1)))
    assert says(actions)[0] == "Hello, this is voice guide."
    assert "Last time you were at step 2 of 3 of Mini session." in says(actions)[-1]
    actions = d.event(Command("yes"))
    assert says(actions) == ["Let your face rest."] and d.s.state.step == 1


def test_resume_offer_no_clears_and_lists_the_menu():
    d = Driver(new())
    d.record(d.s.start(0.0, resume=(MINI, 1)))
    d.event(Command("next"))
    assert d.s.mode == "confirming"
    actions = d.event(Command("no"))
    assert ClearProgress(MINI.name) in actions and d.s.mode == "menu"


@pytest.mark.parametrize("saved, goodbye", [(None, "Goodbye."), (True, "Goodbye. Your place is saved."),
                                         (False, "Goodbye. Your place could not be saved.")])
def test_quitting_saves_the_place_again_and_says_only_what_is_true(saved, goodbye):
    """Issue 10, defect 4: the place is saved once more on quit, and "saved" is said only when the
    player reported that saves work (PlaceSaved)."""
    d = at("holding")
    if saved is not None:
        d.event(PlaceSaved(saved))
    actions = d.event(Key("q"))
    assert SaveProgress(MINI.name, d.s.state.step) in actions
    assert says(actions)[-1] == goodbye
    assert actions.index(SaveProgress(MINI.name, d.s.state.step)) < len(actions) - 2


def test_read_only_ends_after_the_item():
    d = Driver(new(read_only=True))
    d.record(d.s.start(0.0, item=TIP))
    d.run(until=100)
    assert d.s.mode == "finished"
    assert [type(a) for _, a in d.log][-3:] == [ClearProgress, Say, Finished]


def test_finishing_an_item_returns_to_the_menu():
    d = Driver(new())
    d.record(d.s.start(0.0, item=TIP))
    d.run(until=100)
    assert d.s.mode == "menu" and d.s.state.item is None


def test_notices_are_said_first_and_once():
    d = Driver(new())
    actions = d.record(d.s.start(0.0, notices=["No Vosk model; using the built-in recogniser."]))
    assert says(actions)[0] == "No Vosk model; using the built-in recogniser."
    d.event(Command("open", "tip"))
    d.run(until=100)
    assert sum("Vosk" in t for t in says([a for _, a in d.log])) == 1


def test_device_lost_is_said_once_and_back_is_said():
    d = at("holding")
    assert says(d.event(DeviceLost()))
    assert not says(d.event(DeviceLost()))
    assert d.s.mode == "paused"
    assert "The microphone is back." in says(d.event(DeviceBack()))[0]


def test_no_microphone_at_start_is_said_without_pausing():
    d = at("holding")
    actions = d.event(DeviceLost(at_start=True))
    assert "I cannot find a microphone" in says(actions)[0] and d.s.mode == "holding"


def test_no_microphone_and_no_keyboard_says_only_what_is_true():
    d = Driver(Session(ITEMS, length, speaking=Speaking(rate=120), listening=True, keys=False))
    d.record(d.s.start(d.now))
    d.event(Command("open", "mini"))
    (said,) = says(d.event(DeviceLost(at_start=True)))
    assert said == "I cannot find a microphone or a keyboard, so I will only speak."


def test_in_key_mode_nothing_tells_the_user_to_say_a_word():
    """With only keys, an answer with no question speaks of keys, not of saying help."""
    d = Driver(Session(ITEMS, length, speaking=Speaking(rate=120), listening=False))
    d.record(d.s.start(d.now))
    (said,) = says(d.event(Key("y")))
    assert said == "There is no question to answer. Press question mark for help."


def test_finished_ignores_everything():
    d = at("holding")
    d.event(Key("q"))
    assert d.event(Command("resume")) == [] and d.event(Tick()) == []


def test_where_in_a_long_hold_says_the_time_left():
    d = at("holding")
    d.now += 2.0
    d.event(Tick())  # step 1's hold is over: step 2's words
    d.finish_speech()  # and now its long fill hold
    assert d.s.mode == "holding" and d.s.state.step == 1
    d.now += 10.0
    text = says(d.event(Command("where")))[0]
    left = d.s.state.hold.length - 10.0
    assert text == f"Step 2 of 3 of Mini session. Your face at rest. About {round(left)} seconds left in this step."


def test_a_step_is_measured_only_when_the_fill_hold_needs_it():
    """Measuring means rendering speech: nothing is measured as a step begins (it plays from its first
    sentence while the rest renders), and every step (and the title) during the long fill hold, each at
    the rate it was spoken at, so the user is not kept waiting."""
    measured: list[tuple[str, int]] = []

    def counting(text: str, rate: int) -> float:
        measured.append((text, rate))
        return length(text, rate)

    d = Driver(Session(ITEMS, counting, speaking=Speaking(rate=120)))
    d.record(d.s.start(0.0))
    d.event(Command("open", "mini"))
    d.finish_speech()
    d.now += TITLE_GAP
    d.event(Tick())
    assert d.s.mode == "speaking" and d.s.state.step == 0
    d.finish_speech()
    d.now += 2.0
    d.event(Tick())
    d.s.state.rate = 160  # as "faster" does, after the first step was said
    assert measured == []
    d.finish_speech()  # the fill hold starts: every step is measured now
    assert ("Sit comfortably and close your eyes.", 120) in measured
    assert {("Open your eyes slowly.", 160), ("Mini session", 120)} <= set(measured) and d.s.mode == "holding"


def test_every_item_of_the_library_runs_to_its_end():
    """The real content: each topic reads to its end, each session lasts its planned length."""
    from voice_guide.content.loader import load_library

    library = load_library()
    for item in library.items:
        d = Driver(Session(library.items, length, speaking=Speaking(rate=150)))
        d.record(d.s.start(0.0, item=item))
        d.run(until=10_000)
        assert d.s.mode == "menu", item.name
        finish = next(t for t, a in d.log if isinstance(a, ClearProgress))
        if item.kind == "session":  # each step may start up to one 0.05 s tick late
            assert finish == pytest.approx(item.length, abs=0.05 * (len(item.steps) + 1)), item.name
        saved = [a.step for _, a in d.log if isinstance(a, SaveProgress)]
        assert saved == [0, *range(len(item.steps))], item.name


@pytest.mark.parametrize("event", [Key("2"), Command("stop"), Command("pause"), Command("open", "tip")])
def test_in_the_menu_an_answer_cuts_the_list_at_once(event):
    d = at("menu")
    assert isinstance(d.event(event)[0], StopAudio)


# ---- teaching the guide the user's voice from inside it ("teach me pause again") ------------------

TEACH = [
    # start state, the command, the question asked, the Enrol action after "yes"
    ("menu", Command("teach", "pause"), "Shall I learn how you say pause? Say yes or no.", Enrol(("pause",))),
    ("holding", Command("teach", "pause"), "Shall I learn how you say pause? Say yes or no.", Enrol(("pause",))),
    ("paused", Command("teach"), "Shall I learn how you say my commands? It takes about three minutes. "
                           "Say yes or no.", Enrol(())),
    ("speaking", Command("teach", "no"), "Shall I learn how you say no? Say yes or no.", Enrol(("no",))),
]


@pytest.mark.parametrize("state, command, question, enrol", TEACH)
def test_teaching_a_word_is_confirmed_waits_for_the_player_and_comes_back(state, command, question, enrol):
    d = at(state)
    step = d.s.state.step
    assert says(d.event(command)) == [question] and d.s.mode == "confirming"
    actions = d.event(Command("yes"))
    assert enrol in actions and d.s.mode == "enrolling"
    d.now += 120.0  # the whole enrolment: nothing moves on meanwhile
    for event in (Tick(), Command("next"), Key("n"), DeviceBack()):
        assert d.event(event) == [] and d.s.mode == "enrolling"
    back = says(d.event(EnrolDone(enrolled=enrol.commands)))
    if state == "menu":
        assert d.s.mode == "menu" and back[0].startswith("Back to the menu.")
    else:
        assert d.s.mode == "paused" and d.s.state.step == step
        assert back[0].startswith("Back to where we were. ") and back[0].endswith("Say go, or keep going, to go on.")
        d.event(Command("resume"))
        assert d.s.mode in ("speaking", "holding") and d.s.state.step == step


def test_no_to_teaching_goes_on_where_it_was():
    d = at("holding")
    d.event(Command("teach", "pause"))
    d.event(Command("no"))
    assert d.s.mode == "holding" and not any(isinstance(a, Enrol) for _, a in d.log)


def test_a_frozen_hold_keeps_its_time_through_teaching():
    d = at("holding")
    d.now += 1.0
    d.event(Tick())
    d.event(Command("teach", "stop"))
    d.event(Command("yes"))
    d.now += 200.0
    d.event(EnrolDone(enrolled=("stop",)))
    d.event(Command("resume"))
    assert d.s.mode == "holding" and d.s.state.hold.at(d.now) == pytest.approx(1.0)


def test_teaching_without_a_microphone_says_so():
    d = at("paused")
    d.event(DeviceLost())
    assert says(d.event(Command("teach", "pause"))) == ["I can't learn your voice without a microphone."]
    assert d.s.mode == "paused"
    e = at("menu")
    e.event(Command("teach"))
    e.event(Command("yes"))
    back = says(e.event(EnrolDone(no_microphone=True)))
    assert back == ["I can't learn your voice without a microphone. Back to the menu. Say a topic or a session, "
                    "or say list to hear them all."]


def test_help_mentions_teaching_with_a_word_that_needs_no_lips():
    assert "learn next" in at("menu").s.help()
    assert "learn next" in at("paused").s.help()


def _unanswered(d: Driver, seconds: float = 60.0) -> list[str]:
    """Let the question be said, then tick on in silence; what is said meanwhile."""
    said_before = len(says([a for _, a in d.log]))
    if d.s.state.question_say is not None:
        d.now += length(next(a.text for _, a in reversed(d.log) if isinstance(a, Say)
                             and a.id == d.s.state.question_say), d.s.state.rate)
        d.event(SpeechDone(d.s.state.question_say))
    end = d.now + seconds
    while d.now < end and d.s.mode == "confirming":
        d.now += 0.1
        d.event(Tick())
    return says([a for _, a in d.log])[said_before:]


@pytest.mark.parametrize("ask", [Ask((Command("pause"), Command("next"))), Command("menu"), Command("open", "tip"), Command("teach")])
def test_a_question_in_a_session_left_unanswered_goes_on_paused_with_how_to_go_on(ask):
    d = at("holding")
    step, asked_at = d.s.state.step, d.now
    d.event(ask)
    assert d.s.mode == "confirming"
    said = _unanswered(d)
    assert said == ["No answer, so we are paused. Say go, or keep going, to go on."]
    assert d.s.mode == "paused" and d.s.state.item is MINI and d.s.state.step == step
    from voice_guide.session.questions import ANSWER_SECONDS

    assert d.now - asked_at <= ANSWER_SECONDS + 10  # the question's own words, then the wait
    d.event(Command("resume"))
    assert d.s.mode == "holding"  # back exactly where it was


def test_an_unanswered_question_in_key_mode_speaks_of_keys():
    d = Driver(Session(ITEMS, length, speaking=Speaking(rate=120), listening=False))
    d.record(d.s.start(d.now))
    d.event(Command("open", "mini"))
    d.finish_speech()
    d.event(Command("menu"))
    assert _unanswered(d) == ["No answer, so we are paused. Press space to go on."]


def test_an_unanswered_question_at_the_menu_goes_back_to_the_menu():
    d = at("menu")
    d.event(Command("stop"))
    assert d.s.mode == "confirming"
    said = _unanswered(d)
    assert said == ["No answer. Say a topic or a session, or say list to hear them all."]
    assert d.s.mode == "menu"


def test_an_unanswered_offer_to_go_on_goes_on_and_keeps_the_place():
    d = Driver(new())
    d.record(d.s.start(d.now, resume=(MINI, 1)))
    assert d.s.mode == "confirming"
    said = _unanswered(d)
    assert said[0] == "No answer, so I will go on from there."
    assert d.s.state.item is MINI and d.s.state.step == 1
    assert not any(isinstance(a, ClearProgress) for _, a in d.log)


def test_a_question_cut_short_still_times_out():
    """No SpeechDone for the question (cut off, or the player lost it): it times out all the same."""
    d = at("holding")
    d.event(Command("menu"))
    end = d.now + 60
    while d.now < end and d.s.mode == "confirming":
        d.now += 0.5
        d.event(Tick())
    assert d.s.mode == "paused"


def test_asking_again_gives_the_full_time_to_answer():
    from voice_guide.session.questions import ANSWER_SECONDS

    d = at("holding")
    d.event(Command("menu"))
    _unanswered(d, seconds=ANSWER_SECONDS - 1)
    d.event(Command("repeat"))  # the question is said again: the wait starts again after it
    assert d.s.mode == "confirming"
    _unanswered(d, seconds=ANSWER_SECONDS - 1)
    assert d.s.mode == "confirming"
    d.now += 1.5
    d.event(Tick())
    assert d.s.mode == "paused"


def test_which_one_questions_say_how_to_answer_and_take_ordinals():
    d = at("holding")
    step = d.s.state.step
    d.event(Ask((Command("pause"), Command("next"), Command("back"))))
    assert says([a for _, a in d.log])[-1] == "Pause, or next, or back? Say the first, the second, the third, or no."
    d.event(Command("choice", 2))
    assert d.s.state.question is None and d.s.state.step == step + 1  # "next"


def test_an_ordinal_with_no_question_answers_nothing():
    d = at("holding")
    assert says(d.event(Command("choice", 1))) == ["There is no question to answer. Say help to hear what you can say."]


def test_a_question_does_not_time_out_while_the_user_is_speaking():
    from voice_guide.session.questions import ANSWER_SECONDS

    d = at("holding")
    d.event(Command("menu"))
    _unanswered(d, seconds=ANSWER_SECONDS - 1)
    for _ in range(30):  # three seconds of an answer being spoken
        d.now += 0.1
        d.event(Tick(hearing=True))
    assert d.s.mode == "confirming"
    d.event(NotUnderstood())  # not understood: another try is waited for
    d.now += ANSWER_SECONDS - 1
    d.event(Tick())
    assert d.s.mode == "confirming"
    d.now += 1.5
    d.event(Tick())
    assert d.s.mode == "paused"


def test_another_voice_goes_round_the_voices_and_keep_this_one_saves_the_one_speaking():
    d = Driver(Session(ITEMS, length, speaking=Speaking(rate=120, voice="joe"),
                       voices=[("heart", "Heart, a US woman"), ("joe", "Joe, a US man")]))
    d.record(d.s.start(0.0))
    actions = d.event(Command("another_voice"))
    assert [a for a in actions if isinstance(a, SetVoice)] == [SetVoice(120, 1.0, voice="heart")]
    assert "This is Heart, a US woman. Say keep this one to keep this voice" in " ".join(says(actions))
    actions = d.event(Command("another_voice"))
    assert d.s.state.voice == "joe" and SetVoice(120, 1.0, voice="joe") in actions
    actions = d.event(Command("keep_voice"))
    assert SetVoice(120, 1.0, keep=True) in actions and "I will keep this voice." in says(actions)


def test_a_voice_change_in_a_session_keeps_its_planned_length():
    d = Driver(Session(ITEMS, length, speaking=Speaking(rate=120), voices=[("heart", "Heart"), ("joe", "Joe")]))
    d.record(d.s.start(0.0))
    d.event(Command("open", "mini"))
    d.run(until=3)
    d.event(Command("another_voice"))
    d.run(until=1000)
    finish = next(t for t, a in d.log if isinstance(a, ClearProgress))
    assert finish == pytest.approx(MINI.length, abs=1.0)


def test_with_one_voice_there_is_none_other_to_try():
    d = at("menu")
    actions = d.event(Command("another_voice"))
    assert "There is only one voice here." in says(actions) and not any(isinstance(a, SetVoice) for a in actions)
