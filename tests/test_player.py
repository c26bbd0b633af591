"""The player on fake engines and a fake clock: whole runs from recorded speech, the guide's own voice
fed back, a microphone that disappears, a speech engine that fails, three hours of use."""

from __future__ import annotations

import contextlib
import gc
import itertools
import tracemalloc
from functools import lru_cache

import numpy as np
import pytest
import soundfile

from voice_guide import progress
from voice_guide.understanding.vocabulary import build_vocabulary
from voice_guide.audio import SPEECH_RATE, Audio
from voice_guide.content.model import Item, Step
from voice_guide.engines import LONGEST_UTTERANCE, RATE_MAX, RATE_MIN, VOLUME_MAX, VOLUME_MIN, VoiceSettings
from voice_guide.errors import DeviceError, EngineError
from voice_guide.hearing.listen import RecordingsIn
from voice_guide.live.player import Player
from voice_guide.live.rig import Hooks, Options, Rig
from voice_guide.understanding.command import Command
from voice_guide.session.events import Key
from voice_guide.live.player import DUCK_GAIN
from voice_guide.testing import (ClockAudioOut, FakeClock, FakeEchoMemory, FakeSynthesizer, ScriptedRecognizer, TimedKeys,
                                 espeak_speech)
from voice_guide.understanding.understand import Understander

SHORT = Item(
    name="short-rest", title="Short rest", kind="session", length=45.0, aliases=("rest", "short rest"),
    steps=(
        Step("Sit comfortably and close your eyes.", hold=4.0, cue=True, label="settle"),
        Step("Let your face rest. Breathe slowly.", fill=True, cue=True, halfway=True, label="rest"),
        Step("Now open your eyes slowly.", label="end"),
    ),
)
TIP = Item(name="tip", title="A tip", kind="topic", aliases=("tip",),
           steps=(Step("Rest your eyes when they are tired."), Step("Drink some water.")))
ITEMS = [TIP, SHORT]

VOICES = [("en-us", 150), ("en", 120), ("en-gb", 140), ("en-gb-x-rp", 165), ("en-us+f3", 135), ("en+m3", 110)]
"""Voice and rate of each recorded utterance in turn."""


@lru_cache(maxsize=64)
def speak(text: str, voice: str = "en-us", speed: int = 150) -> Audio:
    """espeak-ng speech, trimmed, 16 kHz, with a faint noise floor."""
    return espeak_speech(text, voice, speed, noise_floor=-58.0, seed=len(text))


def real_recognizer():
    """The configured recogniser, opened as the guide opens it."""
    from voice_guide.engine_table import open_recognizer_for
    from voice_guide.settings import Settings

    return open_recognizer_for(Settings(), build_vocabulary(ITEMS))


_made: list[Player] = []


@pytest.fixture(autouse=True)
def _close_players():
    """Every player a test made is closed after it: its look-ahead threads would otherwise wait on,
    and render what it still wanted, beside the tests after it (more than a hundred by this file's
    end; in a test worker, the memory traced by a later test grew with them)."""
    yield
    while _made:
        _made.pop().close()


def make_player(clock, mic=None, recognizer=None, items=ITEMS, synthesizer=None, audio_out=None, keys=None,
                progress_path=None, save_place=None, **options) -> Player:
    """A player on fakes; `options` are `Options` fields."""
    ears = None
    if recognizer is not None:
        ears = Understander(recognizer, build_vocabulary(items))
    rig = Rig(synthesizer or FakeSynthesizer(), audio_out or ClockAudioOut(clock), clock, mic=mic, ears=ears, keys=keys)
    player = Player(items, rig, Options(**options), Hooks(save_place=save_place, progress_path=progress_path))
    _made.append(player)
    return player


SCRIPT = ["start short rest", "wait", "where are we", "resume", "slower", "next"]
EXPECTED = ["open:short-rest", "pause", "where", "resume", "slower", "next"]


class PatientSpeaker:
    """A user at the microphone who says each command once the guide listens, and says it again
    (another voice, another rate) when nothing happened, as people do; at most `tries` times."""

    rate = SPEECH_RATE

    def __init__(self, script, expected, clock, player_of, tries: int = 3) -> None:
        self.script, self.expected, self.clock = script, expected, clock
        self.player_of, self.tries = player_of, tries
        self.attempts = 0

    @contextlib.contextmanager
    def blocks(self):
        yield self._gen()

    def _quiet(self, seconds, rng):
        for _ in range(round(seconds / 0.1)):
            self.clock.sleep(0.1)
            yield (rng.standard_normal(1600) * 10 ** (-62 / 20)).astype(np.float32)

    def _gen(self):
        rng = np.random.default_rng(3)
        voices = itertools.cycle(VOICES)
        for words, expected in zip(self.script, self.expected):
            for _ in range(self.tries):
                player = self.player_of()
                while not player.listening():
                    yield from self._quiet(0.1, rng)
                yield from self._quiet(0.3, rng)
                before = len(player.outcome.heard)
                audio = speak(words, *next(voices)).samples
                self.attempts += 1
                for i in range(0, len(audio), 1600):
                    self.clock.sleep(0.1)
                    chunk = audio[i : i + 1600]
                    yield np.pad(chunk, (0, 1600 - len(chunk)))
                yield from self._quiet(1.6, rng)
                heard = list(player.outcome.heard)[before:]
                if any(h.endswith(f"-> act {expected}") for h in heard):
                    break
        yield from self._quiet(3.0, rng)


@pytest.mark.parametrize("engine", ["scripted", "real"])
@pytest.mark.slow
def test_a_whole_session_from_recordings(engine, tmp_path):
    """Open by voice, pause, ask where, go on, slow down, skip the long rest; the session ends and
    the guide returns to the menu, progress cleared. With the real recogniser the speaker repeats a
    command that was not understood, in another voice."""
    recognizer = ScriptedRecognizer(SCRIPT) if engine == "scripted" else real_recognizer()
    clock = FakeClock(1000.0)
    holder = {}
    mic = PatientSpeaker(SCRIPT, EXPECTED, clock, lambda: holder["p"])
    player = holder["p"] = make_player(clock, mic, recognizer, progress_path=tmp_path / "progress.json")
    outcome = player.run()
    said = list(outcome.said)
    acted = [h.split("-> act ")[-1] for h in outcome.heard if "-> act" in h]
    assert acted == EXPECTED, list(outcome.heard)
    assert mic.attempts <= len(SCRIPT) + 3, list(outcome.heard)  # mostly understood at once
    for sentence in ["Short rest", "Sit comfortably and close your eyes.", "Step 1 of 3 of Short rest.",
                     "Going on.", "Slower.", "Let your face rest. Breathe slowly.", "Now open your eyes slowly.",
                     "That was Short rest."]:
        assert sentence in said
    assert said.index("Paused. Say go, or keep going, to go on, or main menu to choose something else.") < said.index("Going on.")
    assert player.voice.rate == 130
    assert player.session.mode == "menu"
    assert not (tmp_path / "progress.json").exists()


def test_an_unhurried_session_lasts_its_planned_length(tmp_path):
    """No commands at all after opening: the fill hold makes the session its length (each hold may
    end up to one loop turn late)."""
    clock = FakeClock(0.0)
    out = ClockAudioOut(clock, keep=1000)
    player = make_player(clock, audio_out=out, read_only=True, progress_path=tmp_path / "p.json")
    player.run(item=SHORT)
    title = out.played[0]
    said_end = [p for p in out.played if p.audio.duration > 1.0][-2]  # the last step, before "That was"
    assert said_end.end - title.start == pytest.approx(SHORT.length, abs=0.1 * len(SHORT.steps) + 0.01)


def test_noise_coughs_and_long_talk_do_nothing(tmp_path):
    rng = np.random.default_rng(5)
    cough = Audio((rng.standard_normal(5600) * np.hanning(5600) * 0.3).astype(np.float32), SPEECH_RATE)
    talk = speak("well I was just saying to my sister that the garden needs a lot of work this year "
                 "and the fence at the back wants painting before the winter comes")
    assert talk.duration > LONGEST_UTTERANCE + 1.0
    clock = FakeClock(0.0)
    holder = {}
    mic = RecordingsIn([cough, talk, speak("purple window")], clock.sleep, ready=lambda: holder["p"].listening())
    recognizer = ScriptedRecognizer(["cough", "purple window"])
    player = holder["p"] = make_player(clock, mic, recognizer, progress_path=tmp_path / "p.json")
    player.run()
    assert len(recognizer.decoded) == 2  # the long talk never reached the recogniser
    assert player.session.mode == "menu"
    assert not any("Sorry" in s for s in player.outcome.said)


def test_a_command_begun_in_a_short_gap_is_heard_to_its_end(tmp_path):
    """Topics leave under a second between paragraphs; a command started there holds back the next
    paragraph until it ends, instead of being cut off by the closing echo gate."""
    topic = Item(name="long-read", title="Long read", kind="topic", aliases=("long read",),
                 steps=tuple(Step(f"Paragraph {n} of the reading.", hold=0.8) for n in range(1, 6)))
    clock = FakeClock(0.0)
    holder = {}
    mic = RecordingsIn([speak("pause", "en", 110)], clock.sleep, ready=lambda: holder["p"].listening(),
                       gap=0.1)
    recognizer = ScriptedRecognizer(["pause"])
    player = holder["p"] = make_player(clock, mic, recognizer, items=[topic], read_only=True,
                                       progress_path=tmp_path / "p.json")
    player.run(item=topic)
    assert [h for h in player.outcome.heard] == ["'pause' -> act pause"]
    assert player.session.mode == "paused"
    assert player.session.state.step <= 1


class EchoMic:
    """A microphone beside the speaker: it hears exactly what the guide plays, plus a noise floor."""

    rate = SPEECH_RATE

    def __init__(self, out: ClockAudioOut, clock: FakeClock, seconds: float) -> None:
        self.out, self.clock, self.seconds = out, clock, seconds

    @contextlib.contextmanager
    def blocks(self):
        def gen():
            rng = np.random.default_rng(1)
            step = 0.1
            for _ in range(round(self.seconds / step)):
                start = self.clock.now()
                self.clock.sleep(step)
                sound = self.out.sounding(start, step, self.rate)
                yield sound + (rng.standard_normal(len(sound)) * 0.001).astype(np.float32)
        yield gen()


class EchoAndUserMic(EchoMic):
    """The speaker's echo, and the user saying something over it at `at` seconds."""

    def __init__(self, out, clock, seconds, user: Audio, at: float) -> None:
        super().__init__(out, clock, seconds)
        self.user, self.at = user, at

    @contextlib.contextmanager
    def blocks(self):
        with super().blocks() as echo:
            def gen():
                for block in echo:
                    start = round((self.clock.now() - 0.1 - self.at) * self.rate)
                    a, b = max(0, start), max(0, min(len(self.user.samples), start + len(block)))
                    if b > a:
                        block = block.copy()
                        block[a - start : b - start] += self.user.samples[a:b]
                    yield block
            yield gen()


LONG_SENTENCE = Item(name="long", title="Long", kind="topic", steps=(Step(
    "Sit back and let your shoulders drop, and let your breathing settle into a slow and easy rhythm, "
    "with nothing to do and nowhere to go."),))


def test_the_echo_path_learnt_in_a_session_starts_the_next_one(tmp_path):
    """The echo path barge-in learns on a session's sounds is kept for its speaker and microphone
    pair, and the next session with that pair starts from it; a session that hears nothing over the
    guide (no microphone) neither reads nor keeps one."""
    memory = FakeEchoMemory()
    for session in range(2):
        clock = FakeClock(0.0)
        out = ClockAudioOut(clock)
        ears = Understander(ScriptedRecognizer([]), build_vocabulary([LONG_SENTENCE]))
        rig = Rig(FakeSynthesizer(rate=SPEECH_RATE), out, clock, mic=EchoMic(out, clock, seconds=10), ears=ears,
                  echo_memory=memory, echo_key="speaker -> microphone")
        player = Player([LONG_SENTENCE], rig, Options(read_only=True), Hooks(progress_path=tmp_path / "p.json"))
        player.run(item=LONG_SENTENCE)
        player.close()
    first, second = memory.loaded
    assert first == ("speaker -> microphone", None)
    assert second[1] is not None and second[1].rate == SPEECH_RATE
    deaf = Rig(FakeSynthesizer(), ClockAudioOut(FakeClock(0.0)), FakeClock(0.0), echo_memory=memory, echo_key="other")
    Player([LONG_SENTENCE], deaf, Options(read_only=True), Hooks(progress_path=tmp_path / "p.json")).close()
    assert len(memory.loaded) == 2 and "other" not in memory.kept


@pytest.mark.slow
@pytest.mark.parametrize("heard", ["stop", "top"])
def test_stop_said_over_the_guide_cuts_it_at_once(tmp_path, heard):
    """Also when the recogniser heard "top": the guide's voice masked the s."""
    from voice_guide.adapters.espeak_tts import EspeakSynthesizer

    clock = FakeClock(0.0)
    out = ClockAudioOut(clock)
    mic = EchoAndUserMic(out, clock, seconds=20, user=speak("stop").gain(6.0), at=4.0)
    recognizer = ScriptedRecognizer([heard])
    player = make_player(clock, mic, recognizer, items=[LONG_SENTENCE], synthesizer=EspeakSynthesizer(),
                         audio_out=out, read_only=True, voice=VoiceSettings(volume=0.2),
                         progress_path=tmp_path / "p.json")
    player.run(item=LONG_SENTENCE)
    assert list(player.outcome.heard) == [f"{heard!r} -> act stop"]
    assert player.session.mode == "paused"
    sentence = next(p for p in out.played if p.audio.duration > 5)
    assert sentence.stopped and 4.0 < sentence.end - 0.0 < 5.5  # cut within about a second
    ducked_at = next(t for t, gain in sentence.gains if gain == DUCK_GAIN)
    assert 4.0 < ducked_at < 4.5  # lowered as soon as the voice over it began, before "stop" was decided


@pytest.mark.slow
def test_other_words_over_the_guide_duck_it_then_it_comes_back(tmp_path):
    from voice_guide.adapters.espeak_tts import EspeakSynthesizer

    clock = FakeClock(0.0)
    out = ClockAudioOut(clock)
    mic = EchoAndUserMic(out, clock, seconds=14, user=speak("hello there").gain(6.0), at=4.0)
    player = make_player(clock, mic, ScriptedRecognizer(["hello there"]), items=[LONG_SENTENCE],
                         synthesizer=EspeakSynthesizer(), audio_out=out, read_only=True,
                         voice=VoiceSettings(volume=0.2), progress_path=tmp_path / "p.json")
    player.run(item=LONG_SENTENCE)
    sentence = next(p for p in out.played if p.audio.duration > 5)
    assert [g for _, g in sentence.gains] == [1.0, DUCK_GAIN, 1.0] and not sentence.stopped
    assert sentence.gains[2][0] - sentence.gains[1][0] < 2.0
    assert list(player.outcome.heard) == ["(over speech) 'hello there' -> ignored"]


class OpenGate:
    """No echo gate at all: the control that shows the echo would otherwise be heard."""

    def update(self, playing, now) -> None:
        pass

    def open(self, now) -> bool:
        return True


ECHO_TOPIC = Item(name="commands-demo", title="Next steps", kind="topic", steps=(
    Step("Say next to go on.", hold=1.5), Step("Pause.", hold=1.5), Step("Stop.", hold=1.5),
    Step("Say menu, or say repeat.", hold=1.5),
))
"""Command words as separate utterances, the way a microphone would pick them up."""


@pytest.mark.parametrize("gated", [True, False])
@pytest.mark.slow
def test_the_guide_does_not_act_on_its_own_voice(gated, tmp_path):
    """The guide reads a text full of command words through a real voice while the microphone hears
    the speaker; with the echo gate nothing reaches the recogniser and the topic is read to its end."""
    from voice_guide.adapters.espeak_tts import EspeakSynthesizer

    clock = FakeClock(0.0)
    out = ClockAudioOut(clock)
    mic = EchoMic(out, clock, seconds=40)
    words = ["next", "pause", "stop", "menu", "repeat", "next"]
    recognizer = ScriptedRecognizer(words * 3)
    player = make_player(clock, mic, recognizer, items=[ECHO_TOPIC], synthesizer=EspeakSynthesizer(),
                         audio_out=out, read_only=True, progress_path=tmp_path / "p.json")
    if not gated:
        player.listener.gate = OpenGate()
    player.run(item=ECHO_TOPIC)
    if gated:
        assert recognizer.decoded == []
        assert player.session.mode == "finished"
        assert list(player.outcome.said)[-1] == "That was Next steps. Goodbye."
    else:
        assert len(recognizer.decoded) >= 2  # the same speech, ungated, is heard and acted on
        assert any("-> act" in h for h in player.outcome.heard)


class FailingMic:
    """Gives `good` blocks of quiet, then disappears; every later attempt to open it fails."""

    rate = SPEECH_RATE

    def __init__(self, clock: FakeClock, good: int) -> None:
        self.clock, self.good, self.opened = clock, good, 0

    @contextlib.contextmanager
    def blocks(self):
        self.opened += 1
        if self.opened > 1:
            raise DeviceError("The microphone is gone.")

        def gen():
            for _ in range(self.good):
                self.clock.sleep(0.1)
                yield np.zeros(1600, dtype=np.float32)
            raise DeviceError("The microphone stopped delivering sound.")
        yield gen()


def test_a_microphone_that_disappears_pauses_and_says_so(tmp_path):
    clock = FakeClock(0.0)
    mic = FailingMic(clock, good=60)  # gone 6 s in: during the first step's hold
    keys = TimedKeys(clock, [(30.0, " "), (40.0, "q")])
    path = tmp_path / "progress.json"
    player = make_player(clock, mic, ScriptedRecognizer([]), keys=keys, read_only=True, progress_path=path)
    outcome = player.run(item=SHORT)
    said = list(outcome.said)
    lost = ("I can't hear the microphone any more, so I have paused. "
            "Use the keyboard: press space to go on, or q to quit.")
    assert said.count(lost) == 1 and outcome.mic_lost
    assert said[said.index(lost) + 1] == "Going on."
    assert said[-1] == "Goodbye. Your place is saved."
    assert progress.load(path).progress.item == "short-rest"
    assert mic.opened > 2  # tried again now and then


def test_no_microphone_at_start_says_so_and_the_keyboard_works(tmp_path):
    clock = FakeClock(0.0)
    mic = FailingMic(clock, good=0)
    mic.opened = 1  # the very first open fails
    keys = TimedKeys(clock, [(20.0, "1"), (45.0, "q")])
    player = make_player(clock, mic, ScriptedRecognizer([]), keys=keys, progress_path=tmp_path / "p.json")
    outcome = player.run()
    said = list(outcome.said)
    assert said[2].startswith("I cannot find a microphone, so I will not hear you.")
    assert "A tip" in said and "Rest your eyes when they are tired." in said


class FlakySynthesizer(FakeSynthesizer):
    """Fails (as a hung engine killed by its watchdog would) on the first try of chosen sentences."""

    def __init__(self, fail_on: set[str]) -> None:
        super().__init__()
        self.fail_on = set(fail_on)

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        if text in self.fail_on:
            self.fail_on.discard(text)
            self.calls.append(text)
            raise EngineError("The speech engine stopped answering; it was restarted.")
        return super().synthesize(text, settings)


def test_a_speech_engine_failure_retries_the_same_sentence(tmp_path):
    clock = FakeClock(0.0)
    synth = FlakySynthesizer({"Drink some water."})
    player = make_player(clock, synthesizer=synth, read_only=True, progress_path=tmp_path / "p.json")
    player.run(item=TIP)
    assert synth.calls.count("Drink some water.") >= 2
    assert list(player.outcome.said)[-2:] == ["Drink some water.", "That was A tip. Goodbye."]


class DeadSpeaker:
    def play(self, audio):
        raise DeviceError("No speaker or sound output was found.")


def test_no_audio_output_is_an_error(tmp_path):
    clock = FakeClock(0.0)
    player = make_player(clock, audio_out=DeadSpeaker(), progress_path=tmp_path / "p.json")
    with pytest.raises(DeviceError):
        player.run()


class CyclingKeys:
    """A restless user: a key every 3.7 seconds, round and round (never q)."""

    CYCLE = ["2", "n", "w", "+", "b", " ", "-", " ", "r", "?", "m", "y", "1", "n", ">", "<", "m", "n",
             " ", "2", "n", " ", "m", "n", "3"]

    def __init__(self, clock) -> None:
        self.clock = clock
        self.keys = itertools.cycle(self.CYCLE)
        self.next_at = 3.7

    def poll(self):
        if self.clock.now() < self.next_at:
            return []
        self.next_at += 3.7
        return [next(self.keys)]

    def close(self):
        pass


def check_consistent(player: Player) -> None:
    s = player.session.state
    if s.mode == "menu":
        assert s.item is None and s.hold is None
    elif s.mode in ("speaking", "holding", "paused"):
        assert s.item is not None and -1 <= s.step < len(s.item.steps)
    if s.mode == "holding":
        assert s.hold is not None and s.hold.elapsed <= s.hold.length
    if s.mode == "speaking":
        assert s.awaiting is not None or player.busy() or s.step >= 0
    assert len(player.sounds) < 10
    assert RATE_MIN <= s.rate <= RATE_MAX and VOLUME_MIN <= s.volume <= VOLUME_MAX


class MemoSynthesizer(FakeSynthesizer):
    """Renders each (text, rate) once, as a cached real synthesiser would."""

    def __init__(self) -> None:
        super().__init__()
        self.memo: dict = {}

    def synthesize(self, text, settings):
        key = (text, settings)
        if key not in self.memo:
            self.memo[key] = super().synthesize(text, settings)
        return self.memo[key]


@pytest.mark.slow
def test_three_hours_of_use_stay_consistent_with_flat_memory():
    clock = FakeClock(0.0)
    keys = CyclingKeys(clock)
    places = []
    out = ClockAudioOut(clock, keep=0)
    player = make_player(clock, keys=keys, synthesizer=MemoSynthesizer(), audio_out=out,
                         save_place=lambda place: places.append(place) if len(places) < 100 else None)
    player.start()
    sizes = []
    modes = set()
    tracemalloc.start()
    try:
        for hour in range(3):
            end = (hour + 1) * 3600.0
            while clock.now() < end:
                clock.sleep(0.5)
                player.turn(None)
                modes.add(player.session.mode)
                if int(clock.now() * 2) % 200 == 0:
                    check_consistent(player)
            player.close()  # what happens to be playing differs from hour to hour
            gc.collect()
            sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert {"menu", "speaking", "holding", "paused", "confirming"} <= modes
    print("traced memory after each hour:", sizes)
    assert sizes[2] - sizes[0] < 64 * 1024, sizes
    assert progress.Forget("short-rest") in places and progress.Progress("short-rest", 0) in places  # places saved and cleared


@pytest.mark.sound
def test_through_the_real_speaker_with_its_monitor_as_the_microphone(tmp_path):
    """Real playback in real time while the microphone (the virtual speaker's monitor) hears every word
    the guide says: the guide reads to the end and never decodes its own voice."""
    import time

    from voice_guide.adapters.espeak_tts import EspeakSynthesizer
    from voice_guide.adapters.sounddevice_audio import SounddeviceIn
    from voice_guide.adapters.sounddevice_speaker import SounddeviceOut
    from voice_guide.live.clock import SystemClock

    topic = Item(name="echo", title="Next", kind="topic",
                 steps=(Step("Say next, or pause.", hold=0.5), Step("Stop. Repeat.", hold=0.5)))
    synth = EspeakSynthesizer()
    spoken = sum(synth.synthesize(t, VoiceSettings()).duration
                 for t in ["Next", "Say next, or pause.", "Stop. Repeat.", "That was Next. Goodbye."])
    recognizer = ScriptedRecognizer(["next"] * 10)
    player = make_player(SystemClock(), SounddeviceIn(), recognizer, items=[topic], synthesizer=synth,
                         audio_out=SounddeviceOut(), read_only=True, progress_path=tmp_path / "p.json")
    start = time.monotonic()
    player.run(item=topic)
    assert time.monotonic() - start >= spoken  # it really played, in real time
    assert player.session.mode == "finished"
    assert recognizer.decoded == []


def test_terminal_keys_are_read_one_at_a_time_and_the_terminal_restored():
    import os
    import termios
    import time

    from voice_guide.keys import open_keys

    master, slave = os.openpty()
    with os.fdopen(slave, "r") as stream:
        before = termios.tcgetattr(slave)
        keys = open_keys(stream)
        assert keys is not None
        os.write(master, b"n ?Q")
        deadline = time.monotonic() + 5
        got: list[str] = []
        while len(got) < 4 and time.monotonic() < deadline:
            got += keys.poll()
            time.sleep(0.02)
        keys.close()
        assert got == ["n", " ", "?", "q"]
        assert termios.tcgetattr(slave) == before
    os.close(master)


def test_no_terminal_means_no_keys(tmp_path):
    from voice_guide.keys import open_keys

    with open(tmp_path / "not-a-tty", "w+") as stream:
        assert open_keys(stream) is None


@pytest.mark.sound
def test_stop_said_over_the_real_speaker_cuts_it(tmp_path):
    """On the real (virtual) device: the guide speaks softly, the user's loud "stop" is mixed into
    the same speaker (by paplay, as a second program), its monitor is the microphone; the guide
    pauses mid-sentence."""
    import threading

    from voice_guide.adapters.espeak_tts import EspeakSynthesizer
    from voice_guide.adapters.sounddevice_audio import SounddeviceIn
    from voice_guide.adapters.sounddevice_speaker import SounddeviceOut
    from voice_guide.live.clock import SystemClock

    holder = {}

    paused_from = []

    class QuitWhenPaused:
        def poll(self):
            state = holder["p"].session.state
            if state.mode != "paused":
                return []
            paused_from.append(state.paused_from)
            return ["q"]

        def close(self):
            pass

    import shutil
    import subprocess

    if not shutil.which("paplay"):
        pytest.skip("paplay (pulseaudio-utils) is needed to speak over the guide")
    stop = speak("stop")
    wav = tmp_path / "stop.wav"
    soundfile.write(wav, stop.samples * (0.9 / float(np.abs(stop.samples).max())), stop.rate)
    recognizer = ScriptedRecognizer(["stop"])
    player = holder["p"] = make_player(
        SystemClock(), SounddeviceIn(), recognizer, items=[LONG_SENTENCE], synthesizer=EspeakSynthesizer(),
        audio_out=SounddeviceOut(), read_only=True, voice=VoiceSettings(volume=0.2), keys=QuitWhenPaused(),
        progress_path=tmp_path / "p.json")
    done = threading.Event()

    def user_says_stop():
        # A busy machine may start the guide's voice late: the user says it again until it is heard.
        while not done.wait(2.5) and not paused_from:
            subprocess.run(["paplay", str(wav)], check=False)

    user = threading.Thread(target=user_says_stop, daemon=True)
    user.start()
    try:
        player.run(item=LONG_SENTENCE)
    finally:
        done.set()
        user.join(timeout=10)
    assert list(player.outcome.heard)[:1] == ["'stop' -> act stop"]
    assert paused_from == ["speaking"]  # heard over the sentence, which was cut
    assert list(player.outcome.said)[-1] == "Goodbye. Your place is saved."


@pytest.mark.slow
def test_teach_me_pause_again_from_inside_a_session(tmp_path):
    """'Teach me pause again' in a session: after a yes the guide asks for three takes through its own
    voice and microphone loop, saves them, goes back to the same step, paused, and from then on hears
    the user's own 'pause' even when the recogniser makes nothing of it."""
    from voice_guide.voice.personal import PersonalModel, voice_dir
    from voice_guide.voice.templates import TemplateSet

    script = ["start short rest", "teach me pause again", "yes", "resume", ""]
    recordings = [speak("start short rest"), speak("teach me pause again"), speak("yes"),
                  speak("pause", "en-us", 140), speak("pause", "en-us", 150), speak("pause", "en-us", 160),
                  speak("resume"), speak("pause", "en-us", 145)]
    clock = FakeClock(0.0)
    holder = {}
    mic = RecordingsIn(recordings, clock.sleep, ready=lambda: holder["p"].listening())
    player = holder["p"] = make_player(clock, mic, ScriptedRecognizer(script), voice_data=tmp_path,
                                       progress_path=tmp_path / "p.json")
    player.run()
    said = list(player.outcome.said)
    assert said.count("Say 'pause'.") == 1 and said.count("Again.") == 2
    back = next(s for s in said if s.startswith("Back to where we were."))
    assert "Step 1 of 3 of Short rest" in back and said.index(back) < said.index("Going on.")
    saved = TemplateSet.load(voice_dir(tmp_path) / "templates.npz")
    assert {c: len(t) for c, t in saved.takes.items()} == {"pause": 3}
    owner = player.listener.ears
    assert isinstance(owner.personal, PersonalModel) and owner.personal.enrolled == ["pause"]
    assert list(player.outcome.heard)[-1].endswith("-> act pause")
    assert owner.personal.last.path == "template"  # the recogniser heard nothing: the takes decided
    assert player.session.mode == "paused" and player.session.state.item is SHORT


def test_teaching_without_a_microphone_says_so(tmp_path):
    clock = FakeClock(0.0)
    player = make_player(clock, voice_data=tmp_path, progress_path=tmp_path / "p.json")
    player.start()
    player.feed(Command("teach", "pause"))
    player.feed(Key("y"))
    assert player.session.mode == "menu"
    assert list(player.outcome.said)[-1].startswith("I can't learn your voice without a microphone.")
    assert not voice_dir_exists(tmp_path)


def voice_dir_exists(tmp_path) -> bool:
    from voice_guide.voice.personal import voice_dir

    return voice_dir(tmp_path).exists()


@pytest.mark.parametrize("words, command", [("teach me pause again", "teach:pause"), ("learn my voice", "teach")])
@pytest.mark.slow
def test_the_real_recogniser_hears_teach_me(words, command):
    recognizer = real_recognizer()
    vocab = build_vocabulary(ITEMS)
    heard = [Understander(recognizer, vocab).understand(speak(words, voice, rate)).match for voice, rate in VOICES[:3]]
    acted = [(str(m.command), m.needs_confirmation) for m in heard if m.decision == "act"]
    assert len(acted) >= 2 and set(acted) == {(command, True)}, heard  # never another command


class RoomMic:
    """A quiet room where someone says `speech` once, at `at` seconds; the session's mode is noted at
    every block."""

    rate = SPEECH_RATE

    def __init__(self, clock, speech: Audio, at: float, until: float, player_of) -> None:
        self.clock, self.speech, self.at, self.until, self.player_of = clock, speech, at, until, player_of
        self.modes: list[tuple[float, str]] = []
        self.ended: float | None = None

    @contextlib.contextmanager
    def blocks(self):
        def gen():
            rng = np.random.default_rng(5)
            start, pending = self.clock.now(), self.speech.samples
            while self.clock.now() - start < self.until:
                self.clock.sleep(0.1)
                block = (rng.standard_normal(1600) * 10 ** (-62 / 20)).astype(np.float32)
                if self.clock.now() - start >= self.at and len(pending):
                    piece, pending = pending[:1600], pending[1600:]
                    block[: len(piece)] += piece
                    self.ended = self.clock.now() if not len(pending) else None
                self.modes.append((self.clock.now(), self.player_of().session.mode))
                yield block
        yield gen()


@pytest.mark.slow
@pytest.mark.parametrize("heard, asks", [("what time is it", False), ("turn it off", True)])
def test_chatter_in_a_hold_never_leaves_the_session_waiting(heard, asks):
    """Room talk in a quiet hold: a half-fit of two titles is not asked about; a true near-tie of two
    commands is, says how to answer, and when nobody answers the session goes on paused, saying how
    to go on, well within 15 seconds."""
    from voice_guide.content.loader import load_library

    library = load_library()
    quiet = library.get("quiet-face")
    clock = FakeClock(0.0)
    holder = {}
    mic = RoomMic(clock, speak(heard), at=70.0, until=110.0, player_of=lambda: holder["p"])
    player = holder["p"] = make_player(clock, mic, ScriptedRecognizer([heard] * 2), items=library.items,
                                       read_only=True, save_place=lambda place: None)
    player.run(item=quiet)
    assert [mode for t, mode in mic.modes if t < 70.0][-1] == "holding"  # in the long first hold
    said = list(player.outcome.said)
    confirming = [t for t, mode in mic.modes if mode == "confirming"]
    if not asks:
        assert confirming == [] and not any("?" in s for s in said), list(player.outcome.heard)
        return
    question = next(s for s in said if s.endswith("Say the first, the second, or no."))
    assert question.startswith("Quieter, or louder?")
    assert said[said.index(question) + 1] == "No answer, so we are paused. Say go, or keep going, to go on."
    assert confirming and confirming[-1] - confirming[0] < 15.0
    assert player.session.mode == "paused" and player.session.state.item is quiet


def test_another_voice_speaks_on_in_that_voice_and_keep_this_one_hands_it_to_be_saved():
    kept, rates = [], []
    clock = FakeClock()
    rig = Rig(FakeSynthesizer(), ClockAudioOut(clock), clock)
    player = Player(ITEMS, rig, Options(voices=(("heart", "Heart"), ("joe", "Joe")), voice_name="joe"),
                    Hooks(on_keep_voice=kept.append, on_voice=lambda r, v: rates.append(r)))
    player._execute(player.session.handle(Command("another_voice"), 0.0))
    assert player.voice.voice == "heart" and rates == [150]
    player._execute(player.session.handle(Command("keep_voice"), 0.1))
    assert kept == ["heart"] and player.voice.voice == "heart"

def is_cue(playback, name: str) -> bool:
    from voice_guide.speaking import cues

    return np.array_equal(playback.audio.samples, cues.CUES[name]().samples)


def test_words_that_are_no_command_get_the_not_understood_cue_once_and_no_question(tmp_path):
    """Nothing said while the guide listens is dropped without a sound: words that are no command, and
    speech the recogniser makes no words of, get the "not understood" cue, once per utterance, and no
    question."""
    clock = FakeClock(0.0)
    holder = {}
    out = ClockAudioOut(clock)
    mic = RecordingsIn([speak("the weather is nice"), speak("purple")], clock.sleep,
                       ready=lambda: holder["p"].listening())
    recognizer = ScriptedRecognizer(["the weather is nice today", []])
    player = holder["p"] = make_player(clock, mic, recognizer, audio_out=out, progress_path=tmp_path / "p.json")
    player.run()
    assert len(recognizer.decoded) == 2
    assert sum(is_cue(p, "not-understood") for p in out.played) == 2
    assert not any(s.startswith("Sorry") for s in player.outcome.said)  # no "say that again" question


def test_room_talk_again_and_again_brings_the_words_heard_best_once(tmp_path):
    """Utterances that are no command count towards `questions.MISHEARD` as near misses do: a person
    whose weak lips turn every command into other words is told, once, which words are heard best."""
    from voice_guide.session.prompts import say
    from voice_guide.session.questions import MISHEARD

    clock = FakeClock(0.0)
    holder = {}
    talk = ["it is always like this", "falls", "the boys"] * 2
    mic = RecordingsIn([speak(t) for t in talk], clock.sleep, ready=lambda: holder["p"].listening())
    recognizer = ScriptedRecognizer(talk)
    player = holder["p"] = make_player(clock, mic, recognizer, progress_path=tmp_path / "p.json")
    player.run()
    assert MISHEARD <= len(talk) and len(recognizer.decoded) == len(talk)
    assert sum(say("help.lip_light") in s for s in player.outcome.said) == 1
    assert not any(s.startswith("Sorry") for s in player.outcome.said)  # room talk is asked about by no one


class SlowToRender(FakeSynthesizer):
    """A voice that notes, as it renders each sentence, how many sounds the speaker has started and
    how many utterances the recogniser has decoded."""

    def __init__(self, out, recognizer) -> None:
        super().__init__()
        self.out, self.recognizer, self.log = out, recognizer, []

    def synthesize(self, text, settings):
        self.log.append((len(self.recognizer.decoded), len(self.out.played)))
        return super().synthesize(text, settings)


def test_a_command_s_cue_sounds_before_its_reply_is_rendered(tmp_path):
    """The reply to a command starts at once: its "understood" cue plays while the words of the answer
    are still being rendered (a busy machine renders a sentence in seconds)."""
    clock = FakeClock(0.0)
    holder = {}
    out = ClockAudioOut(clock)
    recognizer = ScriptedRecognizer(["where"])
    synth = SlowToRender(out, recognizer)
    mic = RecordingsIn([speak("where")], clock.sleep, ready=lambda: holder["p"].listening())
    player = holder["p"] = make_player(clock, mic, recognizer, audio_out=out, synthesizer=synth,
                                       progress_path=tmp_path / "p.json")
    player.run()
    assert list(player.outcome.heard) == ["'where' -> act where"]
    cue = next(i for i, p in enumerate(out.played) if is_cue(p, "understood"))
    started_when_reply_rendered = next(played for decoded, played in synth.log if decoded == 1)
    assert cue < started_when_reply_rendered


def test_words_followed_past_the_guide_s_end_that_are_no_stop_get_the_not_understood_cue_and_no_action():
    """A voice begun over the guide's last words and heard to its end in the quiet after them may hold
    those words: it never acts unless it is stop or pause, but the person who said it hears the "not
    understood" cue (said to a guide that was about to listen, it is not dropped without a sound).
    Over a guide still talking it is ignored without a sound."""
    clock = FakeClock(0.0)
    out = ClockAudioOut(clock)
    player = make_player(clock, audio_out=out)
    ears = Understander(ScriptedRecognizer(["where am i", "where am i"]), build_vocabulary(ITEMS))
    player.start()
    while player.busy():
        clock.advance(0.1)
        player.turn(None)
    said, played = len(player.outcome.said), len(out.played)
    player._barged(ears.understand(speak("where am i")))
    assert [is_cue(p, "not-understood") for p in list(out.played)[played:]] == [True]
    assert len(player.outcome.said) == said and player.session.mode == "menu"
    player.prompt(speak("one two three four five six"))
    played = len(out.played)
    player._barged(ears.understand(speak("where am i")))
    assert len(out.played) == played and list(player.outcome.heard)[-1] == "(over speech) 'where am i' -> ignored"


class NotingRenderer:
    """An executor that renders at once, noting each sentence it was given."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def submit(self, fn, text, *args):
        from concurrent.futures import Future

        self.texts.append(text)
        future: Future = Future()
        future.set_result(fn(text, *args))
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


def test_answers_render_off_the_loop_and_the_guide_s_own_narration_in_it(tmp_path):
    """With a renderer (the real clock's), what answers the user is handed to it, so the loop goes on
    hearing; the greeting the guide says of itself renders in the loop."""
    clock = FakeClock(0.0)
    holder = {}
    renderer = NotingRenderer()
    recognizer = ScriptedRecognizer(["where"])
    mic = RecordingsIn([speak("where")], clock.sleep, ready=lambda: holder["p"].listening())
    rig = Rig(FakeSynthesizer(), ClockAudioOut(clock), clock, mic=mic,
              ears=Understander(recognizer, build_vocabulary(ITEMS)), renderer=renderer)
    player = holder["p"] = Player(ITEMS, rig, Options(), Hooks(progress_path=tmp_path / "p.json"))
    player.run()
    assert list(player.outcome.heard) == ["'where' -> act where"]
    greeting = list(player.outcome.said)[0]
    assert renderer.texts and greeting not in renderer.texts
    assert set(renderer.texts) <= set(player.outcome.said)
