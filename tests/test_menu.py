"""The first minute: a short spoken menu, the list in small groups, every item by key (two-digit
numbers), and keys spoken of when the guide cannot hear. Pure tables, then the real library."""

from __future__ import annotations

import pytest

from voice_guide.session import menu
from voice_guide.content.loader import load_library
from voice_guide.content.model import Item, Step
from voice_guide.session.keypad import DIGIT_WAIT, NumberEntry
from voice_guide.session.machine import Session
from voice_guide.understanding.command import Command
from voice_guide.session.events import Key, PlayCue, Say, SpeechDone, StopAudio, Tick

LIBRARY = load_library()
GREETING = "Hello, this is voice guide."


def item(n: int, kind: str = "topic", steps: int = 2) -> Item:
    return Item(name=f"item-{n}", title=f"Item {n}", kind=kind, order=n,
                steps=tuple(Step(f"Words of step {k + 1}.", title=f"Part {k + 1}") for k in range(steps)))


ELEVEN = [item(1, steps=10), *(item(n) for n in range(2, 9)), *(item(n, "session") for n in range(9, 12))]


def length(text: str, rate: int) -> float:
    return len(text.split()) * 60.0 / rate


def says(actions) -> list[str]:
    return [a.text for a in actions if isinstance(a, Say)]


def started(items=ELEVEN, listening: bool = True) -> tuple[Session, list]:
    s = Session(items, length, listening=listening)
    return s, s.start(0.0)


# --- the menu's words -------------------------------------------------------------------------------

def test_the_start_is_a_greeting_the_safety_line_and_one_prompt():
    s, actions = started(LIBRARY.items)
    safety = LIBRARY.get("safety-notice").summary
    assert says(actions) == [GREETING, safety, menu.prompt(True)]
    assert "emergency services" in safety and "doctor" in safety
    assert isinstance(actions[-1], PlayCue) and actions[-1].name == "listening"
    assert sum(len(t.split()) for t in says(actions)) < 60  # listening within seconds, not after 40


def test_later_starts_go_straight_to_the_prompt():
    s = Session(LIBRARY.items, length)
    assert says(s.start(0.0, first_time=False)) == [GREETING, menu.prompt(True)]


def test_the_list_is_topics_then_sessions_in_small_groups():
    groups = menu.groups(LIBRARY.items)
    assert groups[0].startswith("Topics. 1: Safety notice.") and any(g.startswith("Sessions. 9:") for g in groups)
    assert all(g.count(":") <= menu.GROUP_SIZE for g in groups)
    assert "11: Gentle self massage, a 3 and a half minute session." in groups[-1]
    spoken = " ".join(groups)
    assert [spoken.index(f"{n}: ") for n in range(1, 12)] == sorted(spoken.index(f"{n}: ") for n in range(1, 12))


def test_list_reads_a_group_waits_for_the_user_then_the_next():
    s, _ = started()
    first = [a for a in s.handle(Command("menu"), 1.0) if isinstance(a, Say)]
    assert [a.text for a in first] == [menu.groups(ELEVEN)[0]]
    assert says(s.handle(SpeechDone(first[0].id), 5.0)) == []  # a moment to speak
    assert says(s.handle(Tick(), 5.0 + menu.GROUP_GAP - 0.1)) == []
    second = [a for a in s.handle(Tick(), 5.0 + menu.GROUP_GAP) if isinstance(a, Say)]
    assert [a.text for a in second] == [menu.groups(ELEVEN)[1]]


def test_speaking_between_groups_stops_the_list():
    s, _ = started()
    first = [a for a in s.handle(Command("menu"), 1.0) if isinstance(a, Say)][0]
    s.handle(SpeechDone(first.id), 5.0)
    actions = s.handle(Command("open", "item-9"), 5.5)
    assert says(actions)[0] == "Item 9" and s.state.listing == []
    later = says(s.handle(Tick(), 5.5 + menu.GROUP_GAP + 1.0))
    assert not set(later) & set(menu.groups(ELEVEN))


def test_stop_during_the_list_stops_only_the_list():
    s, _ = started()
    s.handle(Command("menu"), 1.0)
    actions = s.handle(Command("stop"), 2.0)
    assert any(isinstance(a, StopAudio) for a in actions) and s.mode == "menu"
    assert says(actions) == [f"All right. {menu.prompt(True)}"]


# --- numbers by key ---------------------------------------------------------------------------------

@pytest.mark.parametrize("keys, limit, expected", [
    ("2", 11, [2]),            # 20 and more do not exist: at once
    ("11", 11, [None, 11]),
    ("10", 11, [None, 10]),
    ("15", 11, [None, 15]),    # out of range: said so by the session
    ("0", 11, [None]),
    ("9", 9, [9]),
    ("1", 9, [1]),             # nine items: every digit is final
])
def test_number_entry(keys, limit, expected):
    entry = NumberEntry()
    assert [entry.press(k, limit, 0.0) for k in keys] == expected


def test_a_first_digit_waits_then_counts_alone():
    entry = NumberEntry()
    assert entry.press("1", 11, 0.0) is None
    assert entry.due(DIGIT_WAIT - 0.1) is None and entry.due(DIGIT_WAIT) == 1 and entry.due(99.0) is None


@pytest.mark.parametrize("presses, title", [
    ([(1.0, "1"), (1.4, "1")], "Item 11"),
    ([(1.0, "1"), (1.3, "0")], "Item 10"),
    ([(1.0, "1"), (1.2, "\r")], "Item 1"),
    ([(1.0, "1")], "Item 1"),
    ([(1.0, "3")], "Item 3"),
])
def test_every_item_by_key(presses, title):
    s, _ = started()
    heard = []
    for at, key in presses:
        heard += says(s.handle(Key(key), at))
    now = presses[-1][0]
    while s.state.item is None and now < 10:
        now += 0.1
        heard += says(s.handle(Tick(), now))
    assert s.state.item is not None and s.state.item.title == title and title in heard


def test_two_digit_steps_inside_an_item():
    s, _ = started()
    s.handle(Key("1"), 0.5)
    s.handle(Tick(), 0.5 + DIGIT_WAIT)  # item 1, which has ten steps
    assert s.state.item is ELEVEN[0]
    s.handle(Key("1"), 3.0)
    actions = s.handle(Key("0"), 3.2)
    assert s.state.step == 9 and "Words of step 10." in says(actions)


# --- keys when the guide cannot hear -------------------------------------------------------------------

def test_not_listening_speaks_of_keys():
    s, actions = started(listening=False)
    assert says(actions)[-1] == menu.prompt(False) and "press l" in menu.prompt(False)
    assert "type the number" in says(s.handle(Command("help"), 1.0))[0]
    s.handle(Key("3"), 2.0)
    s.handle(SpeechDone(s.state.awaiting), 3.0)
    paused = says(s.handle(Key(" "), 5.0))
    assert paused == ["Paused. Press space to go on, or m for the menu."]
    assert "Keys: space to go on" in says(s.handle(Key("?"), 6.0))[0]
    assert says(s.handle(Key("m"), 7.0))[-1].endswith("Press y for yes, or n for no.")


def test_listening_speaks_of_commands():
    s, _ = started()
    help_text = says(s.handle(Command("help"), 1.0))[0]
    assert "Say the name of a topic" in help_text and "Keys" not in help_text
    s.handle(Command("open", "item-3"), 2.0)
    s.handle(SpeechDone(s.state.awaiting), 3.0)
    assert says(s.handle(Command("pause"), 5.0)) == ["Paused. Say go, or keep going, to go on, or main menu to choose something else."]


def test_where_says_the_steps_spoken_title():
    s, _ = started(LIBRARY.items)
    s.handle(Command("open", "self-massage"), 1.0)
    s.handle(SpeechDone(s.state.awaiting), 3.0)
    s.handle(Tick(), 5.0)
    s.handle(Command("step", 3), 6.0)
    text = says(s.handle(Command("where"), 7.0))[0]
    assert text.startswith("Step 3 of 10 of Gentle self massage. Which way your hands move.")
    assert "direction" not in text


def test_every_session_step_has_a_spoken_title():
    for session in LIBRARY.sessions():
        assert all(step.title for step in session.steps), session.name
