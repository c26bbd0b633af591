"""What a run of the guide is handed, grouped: the engines it talks to (`Rig`), how it behaves
(`Options`) and what it tells its caller (`Hooks`); and what it did (`Outcome`). The wiring fills them
from this machine; tests and scripts from fakes."""

from __future__ import annotations

import queue
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from voice_guide.engines import (LONGEST_UTTERANCE, TRAILING_SILENCE, AudioIn, AudioOut, Clock, EchoMemory, KeySource,
                                 Synthesizer, VoiceSettings)
from voice_guide.live.lookahead import AHEAD
from voice_guide.session.events import Notice
from voice_guide.understanding.matching import Match
from voice_guide.understanding.understand import Ears

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from voice_guide import progress


@dataclass
class Rig:
    """The engines one run talks to."""

    synthesizer: Synthesizer
    audio_out: AudioOut
    clock: Clock
    mic: AudioIn | None = None
    """Heard only together with `ears`."""
    ears: Ears | None = None
    """What the microphone's utterances mean (an `Understander`)."""
    keys: KeySource | None = None
    watch: Callable[[np.ndarray, int], Match | None] | None = None
    """The user's switch (`PersonalModel.watch`): a click too short for the endpointer, block and rate
    in, a Match or None out."""
    late_notices: "queue.SimpleQueue[Notice] | None" = None
    """Notices from engines still loading in the background, said as they arrive."""
    renderer: "Executor | None" = None
    """Renders answers to the user while the loop goes on hearing (None: in the loop, as on a fake clock)."""
    echo_memory: EchoMemory | None = None
    """Keeps the echo path barge-in learns across runs, for the speaker and microphone `echo_key` names:
    a session's first sound is then heard over as a later one is."""
    echo_key: str = ""


@dataclass(frozen=True)
class Options:
    """How one run behaves."""

    voice: VoiceSettings = VoiceSettings()
    trailing_silence: float = TRAILING_SILENCE
    """Seconds of quiet that end an utterance."""
    max_utterance: float = LONGEST_UTTERANCE
    read_only: bool = False
    """Reading one item (`voice-guide read`): stopping closes the guide instead of going to the menu."""
    barge_in: bool = True
    """Hear a stop or pause said over the guide's own voice."""
    max_said: int = 500
    """How many heard and said lines `Outcome` keeps (memory stays flat in long runs)."""
    lookahead: int = AHEAD
    """Sentences kept rendered ahead of the one playing (0: no look-ahead); the rest of the open item
    renders after them, into the synthesiser's cache (`live.lookahead`)."""
    voice_data: Path | None = None
    """The data folder the user's enrolled voice is kept in (paths.data_dir() when None)."""
    voices: tuple[tuple[str, str], ...] = ()
    """(name, how it introduces itself) of each voice "another voice" goes through, as the synthesiser
    knows them by `VoiceSettings.voice` (`speaking.voices.VoiceSwitch`)."""
    voice_name: str | None = None
    """The one of `voices` speaking (None: the settings' own voice, not among them)."""


@dataclass(frozen=True)
class Hooks:
    """What one run tells its caller."""

    save_place: "Callable[[progress.Progress | progress.Forget], None] | None" = None
    """Saves a place, or forgets the place in one item; the progress file (`progress_path`) by default."""
    progress_path: Path | None = None
    on_voice: Callable[[int, float], None] | None = None
    """Called with the new rate and volume when the user changes them (the CLI saves them)."""
    on_keep_voice: Callable[[str | None], None] | None = None
    """Called with the voice speaking (a name from `Options.voices`; None: the settings' own) when the
    user keeps it (the CLI saves it)."""
    echo: Callable[[str], None] | None = None
    """Called with each sentence as it starts to play (the CLI prints it)."""


@dataclass
class Outcome:
    """What a run did, for the CLI and tests (the last `max_said` of each, so memory stays flat)."""

    heard: deque[str]
    """'words -> decision command' for each utterance decoded."""
    said: deque[str]
    """Sentences spoken (started playing), in order."""
    mic_lost: bool = False
