import pytest

from voice_guide.content.model import Item, Step
from voice_guide.timeline import (CUE_SECONDS, TITLE_GAP, build_timeline, resolve_holds,
                                  total_seconds)


def session(length=120.0, **fill_step):
    return Item(
        name="s", title="Session", kind="session", length=length,
        steps=(Step("Sit quietly.", hold=10.0, cue=True), Step("Rest.", fill=True, **fill_step),
               Step("Done.", hold=2.0)),
    )


def words(text):
    return len(text.split()) * 0.5


def test_fill_makes_session_last_its_planned_length():
    segs = build_timeline(session(), words)
    assert total_seconds(segs) == pytest.approx(120.0)


@pytest.mark.parametrize("title", [True, False])
def test_fill_accounts_for_title(title):
    assert total_seconds(build_timeline(session(), words, title=title)) == pytest.approx(120.0)


def test_slow_speech_beyond_length_gives_zero_fill():
    holds = resolve_holds(session(length=5.0), [4.0, 4.0, 4.0], 0.0)
    assert holds == [10.0, 0.0, 2.0]


def test_topic_holds_unchanged():
    topic = Item("t", "Topic", "topic", (Step("A.", hold=0.8), Step("B.", hold=0.8)))
    assert resolve_holds(topic, [1.0, 1.0]) == [0.8, 0.8]
    segs = build_timeline(topic, words)
    assert total_seconds(segs) == pytest.approx(0.5 + TITLE_GAP + 0.5 + 0.8 + 0.5 + 0.8)


def test_segments_are_contiguous():
    segs = build_timeline(session(halfway=True, cue=True), words)
    for a, b in zip(segs, segs[1:]):
        assert b.start == pytest.approx(a.end)


def test_cues_open_and_close_long_holds_only():
    segs = build_timeline(session(), words)
    first_hold = [s for s in segs if s.step == 0 and s.kind != "speech"]
    assert [s.kind for s in first_hold] == ["cue", "silence", "cue"]
    assert sum(s.duration for s in first_hold) == pytest.approx(10.0)
    assert first_hold[0].duration == CUE_SECONDS
    last_hold = [s for s in segs if s.step == 2 and s.kind != "speech"]
    assert [s.kind for s in last_hold] == ["silence"]


def test_halfway_is_spoken_in_the_middle_of_the_hold():
    segs = build_timeline(session(halfway=True), words)
    halfway = next(s for s in segs if s.kind == "halfway")
    hold = [s for s in segs if s.step == 1 and s.kind != "speech"]
    start, end = hold[0].start, hold[-1].end
    assert (halfway.start + halfway.end) / 2 == pytest.approx((start + end) / 2)


def test_mismatched_speech_lengths_rejected():
    with pytest.raises(ValueError):
        resolve_holds(session(), [1.0])
