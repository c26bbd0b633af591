"""Teaching the guide the user's own voice, by voice and sound alone (no screen needed).

For each command the guide says "Say 'pause'.", listens, checks the take (nothing heard, too quiet,
too loud and crackling, too long, too short, or unlike the other takes) and asks again with one plain
sentence when it is not usable; then "Again." until it has the takes it wants. Each command's takes
are saved (as features, never as recordings) the moment they are complete, atomically, so stopping
half-way keeps what was done: as sound templates, which any recogniser can use, and, given the
recogniser's encoder (`embedder`, Whisper's), as the pooled encoder vectors that hear them better
(`voice.prototypes`). Re-enrolling one command replaces only its takes.

Engines are injected: a synthesiser, a speaker, the embedder (or None), and
`listen(kind, timeout) -> Audio | None` which returns the user's next utterance ("word"), or next
switch sound ("click" / "hum"), or None when nothing came in time. `mic_listener` builds one over a
microphone; `recordings_listener` over files.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from voice_guide.audio import SPEECH_RATE, Audio, frame_dbfs
from voice_guide.engines import LONGEST_UTTERANCE, TRAILING_SILENCE, AudioIn, AudioOut, Synthesizer, VoiceSettings
from voice_guide.errors import UsageError
from voice_guide.hearing.features import dtw_distance, sounding_span, utterance_features
from voice_guide.understanding.command_model import POOLING, Embedder, pool
from voice_guide.voice.personal import (PROTOTYPES_FILE, SWITCH_FILE, TEMPLATES_FILE, load_prototypes, load_switch,
                                        load_templates, voice_dir)
from voice_guide.voice.prototypes import PrototypeSet
from voice_guide.session.prompts import say
from voice_guide.hearing.switch import KINDS, SwitchDetector, SwitchProfile, TransientWatcher, measure
from voice_guide.voice.templates import CORE, EXTRA, LONGEST, TAKES_RANGE

TAKES = 3
SWITCH_TAKES = 3
MAX_TRIES = 3
"""Failed attempts allowed per take before the command is left for another time."""
LISTEN_SECONDS = 6.0
"""How long to wait for each take."""
GIVE_UP_SILENT = 3
"""Prompts in a row answered by silence after which the guide stops asking (the user has gone)."""

QUIET_DBFS = -42.0
"""A take whose loudest tenth of a second is quieter than this is too quiet to learn from."""
CLIP_LEVEL, CLIP_SHARE = 0.99, 0.001
"""More than this share of samples at full scale: the microphone was overdriven."""
SHORTEST = 0.12
"""Seconds of sound a one-word take must last (at most templates.LONGEST)."""
UNLIKE = 4.2
"""A take further than this (DTW distance) from every earlier take of the word is asked again once."""


Listen = Callable[[str, float], "Audio | None"]


def check_take(audio: Audio) -> str | None:
    """Why this take cannot be used ('quiet', 'clipped', 'long', 'short' or 'nothing': what the guide
    then says is `take.KEY` in data/prompts.toml), or None when it can."""
    x = audio.samples
    if len(x) == 0:
        return "nothing"
    if np.mean(np.abs(x) >= CLIP_LEVEL) > CLIP_SHARE:
        return "clipped"
    a, b = sounding_span(x, audio.rate, pad=0.0)
    core = x[a:b].astype(np.float64)
    win = min(len(core), round(0.1 * audio.rate))
    if len(core) == 0 or frame_dbfs(core, win, hop=1).max() < QUIET_DBFS:
        return "quiet"
    seconds = (b - a) / audio.rate
    if seconds > LONGEST:
        return "long"
    if seconds < SHORTEST:
        return "short"
    return None


def commands_to_enrol(names: Sequence[str]) -> list[str]:
    """The commands asked for (all of CORE when none), checked; UsageError names a bad one."""
    if not names:
        return list(CORE)
    allowed = CORE + EXTRA
    out = []
    for name in names:
        key = name.strip().lower()
        if key not in allowed:
            raise UsageError(f"'{name}' is not a command that can be taught; choose from: {', '.join(allowed)}.")
        if key not in out:
            out.append(key)
    return out


@dataclass
class EnrolmentReport:
    """What happened, for the closing words and for tests."""

    enrolled: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: dict[str, int] = field(default_factory=dict)
    """How often each problem made the guide ask again."""
    said: list[str] = field(default_factory=list)
    spoken_seconds: float = 0.0
    """Length of everything the guide said."""
    heard_seconds: float = 0.0
    """Length of everything it listened to."""
    stopped: bool = False
    """Enrolment ended early because nobody answered."""


class Enroller:
    """The voice-only enrolment conversation over injected engines."""

    def __init__(self, synthesizer: Synthesizer, audio_out: AudioOut, listen: Listen, *,
                 voice: VoiceSettings = VoiceSettings(), data_dir: Path | None = None, takes: int = TAKES,
                 echo: Callable[[str], None] | None = None, embedder: Embedder | None = None) -> None:
        if not TAKES_RANGE[0] <= takes <= TAKES_RANGE[1]:
            raise UsageError(f"--takes must be {TAKES_RANGE[0]} to {TAKES_RANGE[1]}, not {takes}.")
        self.synth, self.out, self.listen = synthesizer, audio_out, listen
        self.voice, self.takes, self.echo, self.embedder = voice, takes, echo, embedder
        self.folder = voice_dir(data_dir)
        self.report = EnrolmentReport()
        self._silent = 0

    def say(self, text: str) -> None:
        audio = self.synth.synthesize(text, self.voice)
        self.report.said.append(text)
        self.report.spoken_seconds += audio.duration
        if self.echo:
            self.echo(text)
        self.out.play(audio).wait()

    def _problem(self, key: str) -> None:
        self.report.problems[key] = self.report.problems.get(key, 0) + 1

    def _hear(self, kind: str) -> Audio | None:
        audio = self.listen(kind, LISTEN_SECONDS)
        if audio is not None:
            self.report.heard_seconds += audio.duration
        self._silent = 0 if audio is not None else self._silent + 1
        self.report.stopped = self._silent >= GIVE_UP_SILENT
        return audio

    def enrol(self, commands: Sequence[str]) -> EnrolmentReport:
        """Ask for each command's takes, saving each command as soon as it is complete."""
        templates, notice = load_templates(self.folder)
        prototypes, notice2 = load_prototypes(self.folder)
        for text in (notice, notice2):
            if text:
                self.say(text)
        if self.embedder is not None and (prototypes.encoder, prototypes.pooling) != (self.embedder.name, POOLING):
            prototypes = PrototypeSet(self.embedder.name, POOLING)  # another encoder's vectors cannot be mixed in
        many = len(commands) > 1
        self.say(say("enrolment.intro_many" if many else "enrolment.intro_one", takes=self.takes))
        for i, command in enumerate(commands):
            takes = self._takes_of(command)
            if self.report.stopped:
                self.report.skipped.extend(commands[i:])
                self.say(say("enrolment.stopped"))
                return self.report
            if takes is None:
                self.report.skipped.append(command)
                self.say(say("enrolment.leave_word", command=command))
                continue
            feats, audios = takes
            templates.replace(command, feats)
            templates.save(self.folder / TEMPLATES_FILE)
            if self.embedder is not None:
                prototypes.replace(command, [pool(self.embedder.embed(a)) for a in audios])
            else:
                prototypes.remove(command)
            if prototypes.takes or (self.folder / PROTOTYPES_FILE).exists():
                prototypes.save(self.folder / PROTOTYPES_FILE)
            self.report.enrolled.append(command)
            self.say(say("enrolment.thanks"))
        self.say(say("enrolment.all_done" if self.report.enrolled else "enrolment.nothing_saved"))
        return self.report

    def _takes_of(self, command: str) -> tuple[list[np.ndarray], list[Audio]] | None:
        """The features and sound of each usable take of `command`; None when it is left for another time."""
        feats: list[np.ndarray] = []
        audios: list[Audio] = []
        failures = 0
        prompt = say("enrolment.say_word", command=command)
        asked_unlike = False
        while len(feats) < self.takes:
            self.say(prompt)
            audio = self._hear("word")
            problem = "nothing" if audio is None else check_take(audio)
            if problem is None:
                f = utterance_features(audio)
                if feats and not asked_unlike and min(dtw_distance(f, g) for g in feats) > UNLIKE:
                    problem, asked_unlike = "unlike", True
                else:
                    feats.append(f)
                    audios.append(audio)
                    prompt = say("enrolment.again") if len(feats) < self.takes else ""
                    continue
            self._problem(problem)
            failures += 1
            if failures >= MAX_TRIES * self.takes or self.report.stopped:
                return None
            prompt = f"{say(f'take.{problem}')} {say('enrolment.say_word', command=command)}"
        return feats, audios

    def enrol_switch(self, kind: str, action: str = "toggle") -> bool:
        """Record SWITCH_TAKES examples of the switch sound and turn the switch on."""
        if kind not in KINDS:
            raise UsageError(f"The switch sound must be one of {', '.join(KINDS)}, not '{kind}'.")
        generic = SwitchDetector(SwitchProfile(kind=kind, enabled=True))
        does = say("switch.toggles" if action == "toggle" else "switch.pauses")
        self.say(say("switch.intro", what=say(f"switch.{kind}"), does=does, takes=SWITCH_TAKES))
        shapes, failures = [], 0
        prompt = say("switch.now")
        while len(shapes) < SWITCH_TAKES:
            self.say(prompt)
            audio = self._hear(kind)
            shape = measure(audio) if audio is not None else None
            if shape is not None and generic.matches(shape):
                shapes.append(shape)
                prompt = say("enrolment.again")
                continue
            problem = "nothing" if shape is None else "not-switch"
            self._problem(problem)
            failures += 1
            if failures >= MAX_TRIES * SWITCH_TAKES or self.report.stopped:
                self.say(say("switch.leave"))
                return False
            prompt = f"{say(f'take.{problem}')} {say('switch.now')}"
        SwitchProfile(kind, action, True, shapes).save(self.folder / SWITCH_FILE)
        self.say(say("switch.ready"))
        return True


def forget(data_dir: Path | None = None, commands: Sequence[str] = ()) -> list[str]:
    """Delete the enrolled takes of `commands` (all of them, and the switch sound, when empty).
    Returns what was forgotten."""
    folder = voice_dir(data_dir)
    if not commands:
        if not folder.exists():
            return []
        templates, _ = load_templates(folder)
        gone = templates.commands + (["switch"] if (folder / SWITCH_FILE).exists() else [])
        shutil.rmtree(folder)
        return gone
    templates, _ = load_templates(folder)
    prototypes, _ = load_prototypes(folder)
    gone = [c for c in commands if c in templates.commands]
    for c in gone:
        templates.remove(c)
        prototypes.remove(c)
    if gone:
        templates.save(folder / TEMPLATES_FILE)
        if (folder / PROTOTYPES_FILE).exists():
            prototypes.save(folder / PROTOTYPES_FILE)
    return gone


def switch_off(data_dir: Path | None = None) -> bool:
    """Turn the switch off, keeping its examples; False when none was set up."""
    folder = voice_dir(data_dir)
    profile, _ = load_switch(folder)
    if not (folder / SWITCH_FILE).exists():
        return False
    profile.enabled = False
    profile.save(folder / SWITCH_FILE)
    return True


def recordings_listener(recordings: Sequence[Audio]) -> Listen:
    """Takes from recordings, one per request, in order; None once they are used up."""
    queue: Iterator[Audio] = iter(list(recordings))

    def listen(kind: str, timeout: float) -> Audio | None:
        return next(queue, None)

    return listen


def mic_listener(mic: AudioIn, trailing_silence: float = TRAILING_SILENCE, max_utterance: float = LONGEST_UTTERANCE,
                 guard: float = 0.3) -> Listen:
    """Takes from a microphone, opened afresh for each take (so the guide never hears its own
    prompt), skipping `guard` seconds of room echo. Words come through the player's endpointer;
    clicks through the switch's transient watcher, as in a session."""
    from voice_guide.hearing.listen import Endpointer

    def listen(kind: str, timeout: float) -> Audio | None:
        rate = mic.rate
        endpointer = Endpointer(rate, trailing_silence, max_utterance)
        watcher = TransientWatcher(SwitchDetector(SwitchProfile(kind="click", enabled=True)), rate)
        heard = 0
        with mic.blocks() as blocks:
            for block in blocks:
                heard += len(block)
                if heard <= guard * rate:
                    continue
                if kind == "click":
                    if watcher.feed(block):
                        return Audio(watcher.last, rate)
                else:
                    utterance = endpointer.feed(block)
                    if utterance is not None:
                        return utterance.resample(SPEECH_RATE)
                if heard >= (guard + timeout) * rate:
                    return None
        return None

    return listen
