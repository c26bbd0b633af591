"""What goes into the session machine (events) and what comes out (actions): plain frozen values,
so the player, the tests and the machine share one small vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from voice_guide.understanding.command import Command

SayKind = Literal["title", "step", "halfway", "info", "prompt"]


# ---- events -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ask:
    """Two or more commands scored too close to choose: ask which one was meant."""

    options: tuple[Command, ...]


@dataclass(frozen=True)
class NotUnderstood:
    """Speech was heard but matched nothing well enough."""

    near: bool = True
    """It sounded like a command: the guide asks to hear it again. False: like no command at all (room
    talk, or words the recogniser could not make out): the "not understood" cue alone."""


@dataclass(frozen=True)
class Key:
    char: str


@dataclass(frozen=True)
class Tick:
    """Time passes (`now` comes with every event)."""

    hearing: bool = False
    """Someone is speaking into the microphone right now: a question's wait does not end mid-answer."""


@dataclass(frozen=True)
class SpeechDone:
    """The sentence with this id finished playing (at `at`, when the player knows it better than the
    time the event arrives)."""

    say_id: int
    at: float | None = None


@dataclass(frozen=True)
class DeviceLost:
    """The microphone went away (or, `at_start`, was never there): pause and say so."""

    at_start: bool = False


@dataclass(frozen=True)
class DeviceBack:
    pass


@dataclass(frozen=True)
class EnrolDone:
    """The player has finished teaching the guide the user's voice (see Enrol): what was learnt, what
    was left, and whether it could not even start for want of a microphone."""

    enrolled: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    no_microphone: bool = False


@dataclass(frozen=True)
class Notice:
    """A sentence found while the guide already runs (an engine loaded in the background): say it;
    `deaf` when it means spoken commands cannot be heard."""

    text: str
    deaf: bool = False


@dataclass(frozen=True)
class PlaceSaved:
    """Whether the last SaveProgress was written, so the guide never says a place is saved when it
    is not."""

    ok: bool


Event = (Command | Ask | NotUnderstood | Key | Tick | SpeechDone | DeviceLost | DeviceBack | EnrolDone | Notice
         | PlaceSaved)


# ---- actions ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Say:
    text: str
    kind: SayKind
    id: int


@dataclass(frozen=True)
class PlayCue:
    """A name from voice_guide.speaking.cues.CUES: chime-start, chime-end, listening, understood, not-understood."""

    name: str


@dataclass(frozen=True)
class StopAudio:
    """Cut whatever is playing at once and drop what is queued."""


@dataclass(frozen=True)
class SetVoice:
    rate: int
    volume: float
    voice: str | None = None
    """Another voice to speak with from now on (None: the same)."""
    keep: bool = False
    """Save the voice speaking now as the user's choice."""


@dataclass(frozen=True)
class SaveProgress:
    item: str
    step: int


@dataclass(frozen=True)
class ClearProgress:
    """Forget the saved place in `item` (finished, or the user said no to going on from it)."""

    item: str


@dataclass(frozen=True)
class Enrol:
    """Teach the guide how the user says these commands (empty: every core command), by voice, then
    answer with EnrolDone. The session waits, frozen, meanwhile."""

    commands: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finished:
    """The guide is done; stop once what is queued has played."""


Action = Say | PlayCue | StopAudio | SetVoice | SaveProgress | ClearProgress | Enrol | Finished
