"""Where the pure session machine meets the engines: speech out, microphone in, keys, clock, saved
progress.

One loop, paced by the microphone's blocks (or by the clock when there is no microphone): each turn it
notices finished sounds, passes microphone audio through the echo gate and the end-of-speech detector
to the recogniser, reads keys, ticks the clock, and carries out what `voice_guide.session.machine` decides.
Everything is handed in (engines, clock, files), so a whole run can be driven from recordings on a fake
clock in tests.

Robustness: the guide never hears itself (the gate is closed while it makes any sound, and shortly
after); a speech engine error is retried on the same sentence; a microphone that fails or disappears
pauses the session and says so, and the keyboard still works; progress is saved after every step.
"""

from __future__ import annotations

import sys
from collections import deque
from dataclasses import replace
from functools import lru_cache, partial
from typing import Iterator, Sequence

import numpy as np

from voice_guide import progress
from voice_guide.speaking import cues
from voice_guide.audio import Audio, concatenate
from voice_guide.content.model import Item
from voice_guide.engines import VoiceSettings, sentence_pause
from voice_guide.errors import DeviceError, EngineError
from voice_guide.fileio import check_stop
from voice_guide.live.listener import Listener, Said, SaidOver, Switched, VoiceOver
from voice_guide.live.lookahead import Lookahead
from voice_guide.live.rig import Hooks, Options, Outcome, Rig
from voice_guide.understanding.matching import Match
from voice_guide.understanding.understand import Heard
from voice_guide.understanding.vocabulary import barge_in_commands, meant_for_the_guide, said_over_echo
from voice_guide.session.machine import Session
from voice_guide.session.state import Speaking
from voice_guide.live.sound_queue import SoundQueue
from voice_guide.speaking.text import split_sentences
from voice_guide.session.events import (Action, Ask, ClearProgress, DeviceBack, DeviceLost, Enrol, EnrolDone, Event,
                                        Finished, Key, NotUnderstood, PlaceSaved, PlayCue, SaveProgress, Say,
                                        SetVoice, StopAudio, Tick)

SYNTH_ATTEMPTS = 3
"""A sentence is rendered up to this many times; the synthesiser restarts its engine in between."""
MIC_RETRY_SECONDS = 5.0
"""How often a lost microphone is tried again."""
DUCK_GAIN = 0.3
"""The guide's volume (about -10 dB) while a voice over it is being heard: the user can finish "stop"
without shouting, and the recogniser hears less of the guide."""
TICK_SECONDS = 0.1
"""How often the clock is read when no microphone paces the loop."""


@lru_cache(maxsize=None)
def _cue(name: str) -> Audio:
    return cues.CUES[name]()


class Player:
    """Runs a `Session` against real or fake engines; `ears` (an `Understander`) tells what the
    microphone's utterances mean."""

    def __init__(self, items: Sequence[Item], rig: Rig, options: Options = Options(), hooks: Hooks = Hooks()) -> None:
        voice = options.voice
        self.synth = rig.synthesizer
        self.lookahead = Lookahead(rig.synthesizer, options.lookahead, now=rig.clock.now) if options.lookahead > 0 else None
        """Renders the rest of the item while the current step plays (none when `lookahead` is 0)."""
        self.renderer = rig.renderer
        """Renders the answer to what the user said while the loop goes on hearing the microphone
        (None: in the loop, as tests on a fake clock need). The guide's own narration renders in the
        loop: rendered off it, "stop" said over it was heard 0 times in 4 where it was 3 in 5
        (scripts/measure_barge_in.py, en-us+f3 at the guide's level)."""
        self.clock = clock = rig.clock
        self.mic = rig.mic if rig.ears is not None else None
        barge_in = options.barge_in and self.mic is not None
        self.echo_memory = rig.echo_memory if barge_in else None
        self.echo_key = rig.echo_key
        self.listener = Listener(clock, rig.ears, self.mic.rate if self.mic else 16000, options.trailing_silence,
                                 options.max_utterance, barge_in, rig.watch,
                                 self.echo_memory.load(self.echo_key) if self.echo_memory else None)
        """The microphone side: echo gate, endpointer, barge-in and the switch."""
        self.late_notices = rig.late_notices
        self.keys = rig.keys
        self.voice = voice
        self.voice_data = options.voice_data
        self.save_place = hooks.save_place or (lambda place: progress.store(place, hooks.progress_path))
        self.on_voice = hooks.on_voice
        self.on_keep_voice = hooks.on_keep_voice
        self.echo = hooks.echo
        speaking = Speaking(voice.rate, voice.volume, options.voice_name)
        self.session = Session(items, self._speech_length, speaking=speaking, read_only=options.read_only,
                               listening=self.mic is not None, keys=rig.keys is not None, voices=options.voices)
        self.outcome = Outcome(heard=deque(maxlen=options.max_said), said=deque(maxlen=options.max_said))
        self._events: deque[Event] = deque()
        self.sounds = SoundQueue(rig.audio_out, clock, on_start=self._said, on_done=self._events.append,
                                 wait=self._user_speaking)
        """What plays now and what waits."""
        self._finishing = False
        self._mic_lost_at: float | None = None
        self._input_ended = self.mic is None
        self._blocks: Iterator[np.ndarray] | None = None
        """The microphone blocks being listened to, for teaching the voice from inside the loop."""

    # -- engines -----------------------------------------------------------------------------------

    def render(self, text: str, rate: int, to_play: bool = False) -> Audio:
        """Speech at full volume (volume is applied on playback, so changing it re-renders nothing);
        an engine failure is retried on the same sentence. `to_play`: its sound, not its length, so
        the look-ahead may let it go."""
        settings = VoiceSettings(rate=rate, volume=1.0, voice=self.voice.voice)
        error: EngineError | None = None
        for attempt in range(SYNTH_ATTEMPTS):
            try:
                ready = self.lookahead.take(text, settings, to_play) if self.lookahead and not attempt else None
                return ready if ready is not None else self.synth.synthesize(text, settings)
            except DeviceError:
                raise
            except EngineError as exc:
                error = exc
                self._log(f"speech engine failed ({exc}); trying the same sentence again")
        assert error is not None
        raise error

    def _to_play(self, sentence: str, voice: VoiceSettings, pause: bool = False) -> Audio:
        """One sentence's sound at the guide's volume; `pause`: after the pause before it (it follows
        another of its text; the sound queue shortens the pause by however late it starts)."""
        audio = self.render(sentence, voice.rate, to_play=True)
        if pause:
            audio = concatenate([Audio.silence(sentence_pause(voice.rate), audio.rate), audio], audio.rate)
        return audio.gain(voice.volume) if voice.volume != 1.0 else audio

    def _say(self, text: str, say_id: int, voice: VoiceSettings, renderer) -> None:
        """Queue `text` sentence by sentence, so it starts as soon as its first sentence is rendered
        (and, on the look-ahead, the rest is expected in time): the rest render meanwhile (on the
        look-ahead, or the `renderer`) and follow it at once. Its words are echoed as its first
        sentence starts; its end is its last sentence's."""
        sentences = _sentences(text)
        last = len(sentences) - 1
        ahead = self.lookahead if renderer is None else None
        settings = VoiceSettings(voice.rate, 1.0, voice.voice)
        narrated = ahead is not None and ahead.narrates(sentences[1:], settings)  # a reply never waits
        if ahead is not None:
            ahead.soon(sentences[1:], settings)
        for i, sentence in enumerate(sentences):
            ends, words = (say_id if i == last else None), (text if i == 0 else "")
            ready = None
            if renderer is not None:
                sound = renderer.submit(self._to_play, sentence, voice, i > 0)
            elif i == 0 or ahead is None:
                sound = self._to_play(sentence, voice, i > 0)
                if narrated and last:  # the rest must follow without a stop: else it waits here
                    ready = partial(ahead.in_time, sentences[1:], settings, sound.duration, sentence_pause(voice.rate))
            else:
                sound = partial(self._to_play, sentence, voice, i > 0)
            self.sounds.add(sound, ends, words, lead=sentence_pause(voice.rate) if i else None, ready=ready)
            self.sounds.pump()  # the first sentence plays while the next ones render

    def _look_ahead(self) -> None:
        """Have the look-ahead render what comes next in the open item."""
        if self.lookahead is not None:
            state = self.session.state
            closing = self.session.closing(state.item) if state.item is not None else ""
            voice = VoiceSettings(self.voice.rate, 1.0, self.voice.voice)
            self.lookahead.follow(state.item, state.step, closing, voice)

    def _speech_length(self, text: str, rate: int) -> float:
        """Seconds `text` lasts as `_say` plays it: its sentences and the pauses between them."""
        sentences = _sentences(text)
        pauses = (len(sentences) - 1) * sentence_pause(rate)
        return sum(self.render(sentence, rate).duration for sentence in sentences) + pauses

    def _log(self, text: str) -> None:
        print(f"voice-guide: {text}", file=sys.stderr)

    # -- sound queue -------------------------------------------------------------------------------

    def busy(self) -> bool:
        """The guide is making (or about to make) a sound."""
        return self.sounds.busy()

    def listening(self) -> bool:
        """The microphone is being heard right now (the echo gate is open)."""
        return self.listener.open(self.clock.now()) and not self.busy()

    def prompt(self, audio: Audio) -> None:
        """Play a prompt of teaching's at the guide's volume, through the sound queue."""
        self.sounds.add(audio.gain(self.voice.volume) if self.voice.volume != 1.0 else audio)
        self.sounds.pump()

    def quiet(self) -> bool:
        """Nothing is playing or about to, and the echo guard after the last sound has passed."""
        self.sounds.pump()
        return self.listener.quiet(self.sounds.current, self.clock.now()) and not self.busy()

    def close(self) -> None:
        """Silence at once (Ctrl-C, an error): nothing keeps playing after the guide has gone."""
        self.sounds.stop()
        if self.lookahead is not None:
            self.lookahead.close()
        if self.renderer is not None:
            self.renderer.shutdown(wait=False, cancel_futures=True)
        barge = self.listener.barge
        if self.echo_memory is not None and barge is not None and barge.echo.learnt is not None:
            self.echo_memory.save(self.echo_key, barge.echo.learnt)

    def _user_speaking(self) -> bool:
        """Someone has started a command: the next sound waits for its end (at most max_utterance),
        or the gate would close on it and cut it off. Holds keep counting meanwhile."""
        return self.mic is not None and self.listener.speaking()

    # -- actions -----------------------------------------------------------------------------------

    def _execute(self, actions: list[Action], cue: str | None = None, answer: bool = False) -> None:
        """Carry out actions in order. A sentence that a later StopAudio in the same batch would cut is
        never rendered; `cue` (an earcon for a heard command) plays first, after any cut. `answer`: they
        answer the user, and render off the loop (see `renderer`)."""
        renderer = self.renderer if answer else None
        self._look_ahead()  # first, so the next steps render while these sentences do
        last_stop = max((i for i, a in enumerate(actions) if isinstance(a, StopAudio)), default=-1)
        if cue and last_stop < 0:
            self._play_cue(cue)
        for i, action in enumerate(actions):
            if isinstance(action, Say):
                if i >= last_stop:
                    self._say(action.text, action.id, self.voice, renderer)
            elif isinstance(action, PlayCue):
                if i >= last_stop:
                    self._play_cue(action.name)
            elif isinstance(action, StopAudio):
                self.sounds.stop()
                if self.lookahead is not None:
                    self.lookahead.drop_soon()
                if cue and i == last_stop:
                    self._play_cue(cue)
            elif isinstance(action, SetVoice):
                self.voice = VoiceSettings(action.rate, action.volume, action.voice or self.voice.voice)
                if action.keep and self.on_keep_voice:
                    self.on_keep_voice(self.session.state.voice)
                elif self.on_voice:
                    self.on_voice(action.rate, action.volume)
            elif isinstance(action, SaveProgress):
                self._events.append(PlaceSaved(self._save(progress.Progress(action.item, action.step))))
            elif isinstance(action, ClearProgress):
                self._save(progress.Forget(action.item))
            elif isinstance(action, Enrol):
                self._enrol(action.commands)
            elif isinstance(action, Finished):
                self._finishing = True
        self._look_ahead()
        self.sounds.pump()

    def _play_cue(self, name: str) -> None:
        """Queue an earcon and start it at once: the reply to a command sounds while its words render."""
        self.sounds.add(_cue(name), None, "")
        self.sounds.pump()

    def _save(self, place: progress.Progress | progress.Forget) -> bool:
        try:
            self.save_place(place)
        except OSError as exc:
            self._log(f"your place could not be saved ({exc.strerror or exc})")
            return False
        return True

    def feed(self, event: Event, cue: str | None = None, answer: bool = False) -> None:
        self._execute(self.session.handle(event, self.clock.now()), cue, answer)
        while self._events:
            self._execute(self.session.handle(self._events.popleft(), self.clock.now()))

    # -- hearing -----------------------------------------------------------------------------------

    def _barged(self, heard: Heard) -> None:
        """Speech over the guide's voice: only a clear command that commands.toml lets barge in counts (or
        its spelling over the guide's voice, "top" for stop); anything else is ignored, without a
        re-prompt (the guide is talking). A voice begun as the guide fell silent and heard to its end in
        the quiet was said to a guide that listens: it gets the "not understood" cue, never silence (it
        may hold the guide's own last words, so it does not act)."""
        match = heard.match
        if match.decision != "act" and (spelt := said_over_echo(match.heard)) is not None:
            match = replace(match, decision="act", command=spelt)
        if match.decision == "act" and match.command is not None and match.command.id in barge_in_commands():
            self._decide(match)
            return
        self.outcome.heard.append(f"(over speech) {match.heard!r} -> ignored")
        if self.sounds.current is not None:
            self.sounds.current.duck(1.0)
        elif not self.busy():
            self._play_cue("not-understood")

    def _decide(self, match: Match) -> None:
        decision, command = match.decision, match.command
        self.outcome.heard.append(f"{match.heard!r} -> {decision} {command or ''}".strip())
        if decision == "act" and command is not None:
            self.feed(command, cue="understood", answer=True)
        elif decision == "ask":
            options = match.alternatives
            self.feed(Ask(options) if len(options) > 1 else NotUnderstood(), answer=True)
        elif decision == "reprompt":
            self.feed(NotUnderstood(), answer=True)
        elif meant_for_the_guide(match.heard):
            self.feed(NotUnderstood(near=False), answer=True)  # no command: no question, and not silence
        else:
            self._play_cue("not-understood")  # noise, a filler or a greeting: not silence either

    def turn(self, block) -> None:
        """One pass of the loop: finished sounds, the microphone block, keys, the clock."""
        self.sounds.pump()
        while self._events:
            self._execute(self.session.handle(self._events.popleft(), self.clock.now()))
        now = self.clock.now()
        self.listener.quiet(self.sounds.current, now)
        if block is not None:
            taken = self.listener.take(block, self.sounds.current, now)
            if isinstance(taken, Said):
                self._decide(taken.heard.match)
            elif isinstance(taken, Switched):
                self._decide(taken.match)
            elif isinstance(taken, SaidOver):
                self._barged(taken.heard)
            elif isinstance(taken, VoiceOver) and self.sounds.current is not None:
                self.sounds.current.duck(DUCK_GAIN if taken.hearing else 1.0)
        self.sounds.pump()
        while self.late_notices is not None and not self.late_notices.empty():
            self.feed(self.late_notices.get())
        if self.keys is not None:
            for char in self.keys.poll():
                self.feed(Key(char))
        self.feed(Tick(hearing=self._user_speaking()))

    def _done(self) -> bool:
        if self._finishing and not self.busy():
            return True
        if self._input_ended and self.keys is None and self._mic_lost_at is None and not self.busy():
            # Recordings are used up and nothing else can answer: stop once nothing is running.
            return self.session.mode in ("menu", "paused", "confirming")
        return False

    # -- the loop ----------------------------------------------------------------------------------

    def run(self, item: Item | None = None, resume: tuple[Item, int] | None = None,
            notices: Sequence[str] = (), first_time: bool = True) -> Outcome:
        """Start (with `item` open, or the menu; `first_time` adds the safety line to the greeting)
        and run until the user quits, a read-only item ends, or recorded input is used up."""
        self.start(item=item, resume=resume, notices=notices, first_time=first_time)
        while not self._done():
            check_stop()
            lost = self._mic_lost_at
            if self.mic is not None and (lost is None or self.clock.now() - lost >= MIC_RETRY_SECONDS):
                self._listen()
            else:
                self.clock.sleep(TICK_SECONDS)
                self.turn(None)
        return self.outcome

    def start(self, item: Item | None = None, resume: tuple[Item, int] | None = None,
              notices: Sequence[str] = (), first_time: bool = True) -> None:
        """Say the session's first words (see `run`); `turn` then moves the loop on by hand."""
        self._execute(self.session.start(self.clock.now(), item=item, resume=resume, notices=list(notices),
                                         first_time=first_time))

    def _listen(self) -> None:
        assert self.mic is not None
        try:
            with self.mic.blocks() as blocks:
                self._blocks = self.listener.follow(blocks)
                for block in self._blocks:
                    check_stop()
                    if self._mic_lost_at is not None:
                        self._mic_lost_at = None
                        self.feed(DeviceBack())
                    self.turn(block)
                    if self._done():
                        return
            self.mic = None
            self._input_ended = True
        except DeviceError as exc:
            first = self._mic_lost_at is None
            self._mic_lost_at = self.clock.now()
            self.listener.endpointer.discard()
            if first:
                self.outcome.mic_lost = True
                at_start = not self.listener.times.any
                if not at_start:  # at the start the session's one sentence says it all
                    self._log(str(exc))
                self.feed(DeviceLost(at_start=at_start))
        finally:
            self._blocks = None

    # -- teaching the voice ("teach me pause again") ------------------------------------------------

    def _enrol(self, commands: Sequence[str]) -> None:
        """Run the enrolment conversation with this player's voice, speaker and microphone, then use
        what was learnt at once; the session hears EnrolDone either way."""
        from voice_guide.voice.enrollment import Enroller, commands_to_enrol
        from voice_guide.live.teaching import Teaching, use_enrolled_voice

        if self.mic is None or self._blocks is None or self._mic_lost_at is not None:
            self._events.append(EnrolDone(no_microphone=True))
            return
        teaching = Teaching(self, self.listener, self._blocks)
        enroller = Enroller(teaching, teaching, teaching.listen, data_dir=self.voice_data, echo=self._said,
                            voice=VoiceSettings(self.voice.rate, 1.0, self.voice.voice), embedder=teaching.embedder())
        try:
            report = enroller.enrol(commands_to_enrol(commands))
        except DeviceError:
            # The microphone went away mid-way: back to where the user was before it is said.
            done = EnrolDone(tuple(enroller.report.enrolled), no_microphone=True)
            self._execute(self.session.handle(done, self.clock.now()))
            raise
        finally:
            watch = use_enrolled_voice(self.listener.ears, self.voice_data, self._log)
            self.listener.watch = watch or self.listener.watch
        self._events.append(EnrolDone(tuple(report.enrolled), tuple(report.skipped)))

    def _said(self, text: str) -> None:
        self.outcome.said.append(text)
        if self.echo:
            self.echo(text)


def _sentences(text: str) -> list[str]:
    """`text` as `_say` plays it and `_speech_length` measures it: sentence by sentence."""
    return split_sentences(text) or [text]
