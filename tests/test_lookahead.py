"""The look-ahead renderer, and the player using it to render the next steps while one plays."""

import threading
import time

import pytest

from voice_guide.content.model import Item, Step
from voice_guide.engines import VoiceSettings, sentence_pause
from voice_guide.errors import EngineError
from voice_guide.live.lookahead import AHEAD, Lookahead
from voice_guide.live.player import Player
from voice_guide.live.rig import Hooks, Options, Rig
from voice_guide.speaking.speech import CachedSynthesizer
from voice_guide.testing import ClockAudioOut, FakeClock, FakeSynthesizer

VOICE = VoiceSettings(rate=200, volume=1.0)


class Gated(FakeSynthesizer):
    """Renders only when `gate` is open; notes which thread rendered what; fails on `bad` texts."""

    def __init__(self, bad=()):
        super().__init__()
        self.gate = threading.Event()
        self.entered = threading.Event()
        """Set once a render has begun (and waits at the gate)."""
        self.threads: dict[str, str] = {}
        self.bad = set(bad)

    def synthesize(self, text, settings):
        self.entered.set()
        assert self.gate.wait(10)
        self.threads[text] = threading.current_thread().name
        if text in self.bad:
            raise EngineError(f"cannot say {text}")
        return super().synthesize(text, settings)


def settled(ahead: Lookahead) -> None:
    assert ahead.settle(timeout=10)


def test_keeps_ahead_of_what_is_wanted_ready_and_renders_the_rest_into_the_voices_cache(tmp_path):
    synth = Gated()
    cached = CachedSynthesizer(synth, tmp_path)
    ahead = Lookahead(cached, ahead=2, workers=1)
    ahead.want(["One.", "Two.", "Three.", "Four."], VOICE)
    synth.gate.set()
    settled(ahead)
    assert synth.calls == ["One.", "Two.", "Three.", "Four."]  # in order, the whole of what is wanted
    assert ahead.take("One.", VOICE).duration == pytest.approx(0.3)
    assert ahead.take("One.", VOICE, forget=True) is not None  # asked twice: its length, then its sound
    assert ahead.take("One.", VOICE) is None
    assert ahead.take("Four.", VOICE) is None  # rendered, but kept only by the voice's cache
    assert ahead.take("Two.", VoiceSettings(rate=100)) is None
    ahead.want(["Three.", "Four."], VOICE)  # moved on: kept ready here now, from the cache
    settled(ahead)
    assert ahead.take("Four.", VOICE) is not None and cached.synthesize("Three.", VOICE) is not None
    assert synth.calls == ["One.", "Two.", "Three.", "Four."]  # nothing rendered twice
    ahead.close()


def test_two_sentences_render_at_once_the_ones_to_play_soon_first():
    synth = Gated()
    both = threading.Barrier(2, timeout=10)
    rendering = []

    def meet(text, settings):
        rendering.append(text)
        if len(rendering) <= 2:
            both.wait()  # each of the first two waits for the other to have begun
        return FakeSynthesizer.synthesize(synth, text, settings)

    synth.synthesize = meet
    ahead = Lookahead(synth, ahead=3)
    ahead.soon(["Next.", "After that."], VOICE)
    ahead.want(["Later.", "Next."], VOICE)  # what is wanted soon is not wanted twice
    settled(ahead)
    assert sorted(rendering[:2]) == ["After that.", "Next."] and rendering[2] == "Later."
    assert ahead.take("After that.", VOICE, forget=True) is not None and ahead.take("After that.", VOICE) is None
    ahead.close()


def test_take_waits_for_the_text_being_rendered():
    synth = Gated()
    ahead = Lookahead(synth)
    ahead.want(["Slow one."], VOICE)
    threading.Timer(0.2, synth.gate.set).start()
    assert synth.entered.wait(10)
    assert ahead.take("Slow one.", VOICE) is not None
    assert synth.calls == ["Slow one."]
    ahead.close()


def test_an_engine_error_is_handed_over_once():
    synth = Gated(bad={"Bad."})
    synth.gate.set()
    ahead = Lookahead(synth)
    ahead.want(["Bad."], VOICE)
    settled(ahead)
    with pytest.raises(EngineError, match="cannot say Bad."):
        ahead.take("Bad.", VOICE)
    assert ahead.take("Bad.", VOICE) is None
    ahead.close()


class Timed(Gated):
    """Each render takes a fifth of its sound's length on `clock`."""

    def __init__(self, clock):
        super().__init__()
        self.clock = clock

    def synthesize(self, text, settings):
        audio = super().synthesize(text, settings)
        self.clock.advance(0.2 * audio.duration)
        return audio


LONG = "This long sentence has twelve words in it and takes its time."


def test_a_text_is_in_time_when_what_it_still_renders_will_be_ready_when_due():
    clock = FakeClock()
    synth = Timed(clock)
    ahead = Lookahead(synth, workers=1, now=clock.now)
    assert ahead.in_time([LONG], VOICE, first=0.3, pause=0.2)  # the pace is not known yet
    synth.gate.set()
    ahead.want(["Learn the pace here."], VOICE)
    settled(ahead)
    assert ahead.pace.rtf == pytest.approx(0.2)
    synth.gate.clear()
    synth.entered.clear()
    ahead.soon([LONG], VOICE)
    assert synth.entered.wait(10)
    # 3.6 s of speech, about 0.72 s of rendering: not ready 0.5 s after a 0.3 s first sentence, but
    # ready 1.5 s after a 1.3 s one; a sentence nobody renders here does not wait.
    assert not ahead.in_time([LONG], VOICE, first=0.3, pause=0.2)
    assert ahead.in_time([LONG], VOICE, first=1.3, pause=0.2)
    assert ahead.in_time(["Not rendered here."], VOICE, first=0.0, pause=0.0)
    clock.advance(0.5)  # it has been rendering for 0.5 s
    assert ahead.in_time([LONG], VOICE, first=0.1, pause=0.2)
    synth.gate.set()
    settled(ahead)
    assert ahead.in_time([LONG], VOICE, first=0.0, pause=0.0)
    ahead.close()


class Stalling(FakeSynthesizer):
    """Renders LONG only once `clock` reaches `at` (or after 2 s of real time)."""

    def __init__(self, clock, at):
        super().__init__()
        self.clock, self.at = clock, at

    def synthesize(self, text, settings):
        if text == LONG:
            waited = time.monotonic()
            while self.clock.now() < self.at and time.monotonic() - waited < 2:
                time.sleep(0.001)
        return super().synthesize(text, settings)


def test_a_step_whose_rest_would_stop_mid_way_waits_at_its_start_instead(tmp_path):
    """The voice renders slower than it speaks: the step's first sentence waits (in the pause after the
    title) until the long one after it is ready, then they play one after the other."""
    topic = Item("t", "A topic", "topic", (Step(f"Just a short one. {LONG}", hold=0.5),), order=0)
    clock = FakeClock()
    out = ClockAudioOut(clock)
    player = Player([topic], Rig(CachedSynthesizer(Stalling(clock, at=4.0), tmp_path), out, clock),
                    Options(voice=VOICE, read_only=True), Hooks(save_place=lambda place: None))
    player.lookahead.pace.rtf, player.lookahead.pace.per_char = 4.0, 0.05  # far slower than it speaks
    try:
        player.run(item=topic)
    finally:
        player.close()
    short, long = (FakeSynthesizer().synthesize(s, VOICE).duration for s in ("Just a short one.", LONG))
    first = next(p for p in out.played if p.audio.duration == pytest.approx(short, abs=1e-3))
    after = out.played[out.played.index(first) + 1]
    assert first.start >= 4.0  # not at the title's end and 1 s (1.6 s), and within READY_WAIT of it
    assert after.audio.duration == pytest.approx(sentence_pause(VOICE.rate) + long, abs=0.11)
    assert after.start - (first.start + short) <= 0.11


class PatientOut(ClockAudioOut):
    """Each sound starts once the look-ahead has rendered what it was asked for: a sound takes long
    enough for that, as a real one does."""

    player = None

    def play(self, audio):
        settled(self.player.lookahead)
        return super().play(audio)


def patient_player(topic, tmp_path):
    """A player of `topic` whose sounds each wait for the look-ahead, with an open gate."""
    synth = Gated()
    synth.gate.set()
    clock = FakeClock()
    out = PatientOut(clock)
    player = out.player = Player([topic], Rig(CachedSynthesizer(synth, tmp_path), out, clock),
                                 Options(voice=VOICE, read_only=True), Hooks(save_place=lambda place: None))
    return player, out, synth


def test_the_player_renders_what_comes_next_on_the_look_ahead_while_one_plays(tmp_path):
    topic = Item("t", "A topic", "topic",
                 tuple(Step(f"Paragraph number {n} is here.", hold=0.5) for n in range(5)), order=0)
    player, out, synth = patient_player(topic, tmp_path)
    try:
        outcome = player.run(item=topic)
    finally:
        player.close()
    assert list(outcome.said)[1:6] == [s.say for s in topic.steps]
    steps_on_lookahead = [t for t, name in synth.threads.items() if name == "voice-guide-lookahead"]
    spoken = [s.say for s in topic.steps] + ["That was A topic.", "Goodbye."]
    assert set(steps_on_lookahead) == set(spoken)  # every step, and the closing sentence
    assert all(synth.calls.count(text) == 1 for text in spoken)  # rendered once, taken (up to) twice


def test_the_whole_rest_of_a_long_item_is_rendered_while_its_title_plays(tmp_path):
    """More steps than the look-ahead keeps ready: all of them are rendered before the first plays (into
    the voice's cache), each once, on the look-ahead."""
    topic = Item("t", "A topic", "topic",
                 tuple(Step(f"Paragraph number {n} is here.", hold=0.5) for n in range(3 * AHEAD)), order=0)
    player, out, synth = patient_player(topic, tmp_path)
    rendered_by_second_sound = []
    first_play = out.play

    def play(audio):
        if len(out.played) == 1:
            rendered_by_second_sound.extend(synth.calls)
        return first_play(audio)

    out.play = play
    try:
        outcome = player.run(item=topic)
    finally:
        player.close()
    spoken = [s.say for s in topic.steps]
    assert list(outcome.said)[1 : 1 + len(spoken)] == spoken
    assert set(spoken) <= set(rendered_by_second_sound)
    assert all(synth.calls.count(text) == 1 for text in spoken)
    assert all(synth.threads[text] == "voice-guide-lookahead" for text in spoken)


class SlowVoice(FakeSynthesizer):
    """A voice slower than its words: a text holding `slow` renders only once the guide has begun
    saying it (`begun`), or after 2 s; `late` notes the texts that waited that long."""

    def __init__(self, slow: str):
        super().__init__()
        self.slow = slow
        self.begun = threading.Event()
        self.late: list[str] = []

    def synthesize(self, text, settings):
        if self.slow in text and not self.begun.wait(2):
            self.late.append(text)
        return super().synthesize(text, settings)


def test_a_long_step_starts_playing_before_all_of_it_is_rendered():
    """The first sentence of a step is handed to the speaker as soon as it is rendered; the rest renders
    while it plays and follows it with the text's own pause, so a slow voice leaves no gap after the
    title. The step is still echoed once, whole, and its hold starts after its last sentence."""
    step = Step("First we settle. Second comes the long part of the step. Third is the end.", hold=0.5)
    topic = Item("t", "A topic", "topic", (step,), order=0)
    synth = SlowVoice("Second")
    clock = FakeClock()
    out = ClockAudioOut(clock)
    echoed = []

    def echo(text):
        echoed.append(text)
        if text == step.say:
            synth.begun.set()

    player = Player([topic], Rig(synth, out, clock), Options(voice=VOICE, read_only=True),
                    Hooks(save_place=lambda place: None, echo=echo))
    try:
        outcome = player.run(item=topic)
    finally:
        player.close()
    assert synth.late == []
    assert echoed.count(step.say) == 1 and list(outcome.said)[1] == step.say
    first, second, third = (FakeSynthesizer().synthesize(s, VOICE) for s in
                            ("First we settle.", "Second comes the long part of the step.", "Third is the end."))
    pause = sentence_pause(VOICE.rate)
    sounds = [p.audio.duration for p in out.played]
    starts = [p.start for p in out.played]
    at = sounds.index(pytest.approx(first.duration, abs=1e-3))
    for n, sentence in ((1, second), (2, third)):  # each begins with what is left of the pause
        late = starts[at + n] - (starts[at + n - 1] + sounds[at + n - 1])
        assert 0 <= late <= 0.11 and sounds[at + n] == pytest.approx(pause - late + sentence.duration, abs=1e-3)


def test_no_look_ahead_when_it_is_off():
    topic = Item("t", "A topic", "topic", (Step("One.", hold=0.2), Step("Two.", hold=0.2)), order=0)
    synth = Gated()
    synth.gate.set()
    clock = FakeClock()
    player = Player([topic], Rig(synth, ClockAudioOut(clock), clock), Options(voice=VOICE, read_only=True, lookahead=0),
                    Hooks(save_place=lambda place: None))
    player.run(item=topic)
    player.close()
    assert set(synth.threads.values()) == {threading.current_thread().name}


def test_only_the_followed_items_own_sentences_may_wait_for_the_look_ahead():
    """A reply ("Paused. Press space to go on.") is never held at its start: pausing by key while a step
    waited once left the pause unsaid until the user pressed again."""
    one = Item("one", "One", "topic", (Step("First here. Second here.", hold=0.5),), order=0)
    two = Item("two", "Two", "topic", (Step("Other words. More words.", hold=0.5),), order=1)
    ahead = Lookahead(FakeSynthesizer())
    try:
        ahead.follow(one, -1, "Goodbye.", VOICE)
        assert ahead.narrates(["Second here."], VOICE)
        assert not ahead.narrates(["Press space to go on."], VOICE)
        assert not ahead.narrates(["Second here."], VoiceSettings(rate=150, volume=1.0))
        ahead.follow(two, -1, "Goodbye.", VOICE)
        assert ahead.narrates(["More words."], VOICE) and not ahead.narrates(["Second here."], VOICE)
    finally:
        ahead.close()
