"""Understander: recogniser, matcher and the personal refinement joined in one call."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from voice_guide.audio import Audio
from voice_guide.engines import Hypothesis
from voice_guide.understanding.matching import Command, Match
from voice_guide.understanding.vocabulary import build_vocabulary
from voice_guide.testing import ScriptedRecognizer
from voice_guide.understanding.understand import Heard, Understander


@pytest.fixture(scope="module")
def vocab():
    return build_vocabulary()


def speech(rate: int = 16000, seconds: float = 0.5) -> Audio:
    return Audio(np.zeros(round(rate * seconds), dtype=np.float32), rate)


class Steps:
    """A timer that moves 25 ms on every reading."""

    def __init__(self) -> None:
        self.t = itertools.count(step=0.025)

    def __call__(self) -> float:
        return next(self.t)


def test_decodes_matches_and_times(vocab):
    understander = Understander(ScriptedRecognizer(["um next please"]), vocab, timer=Steps())
    heard = understander.understand(speech())
    assert isinstance(heard, Heard)
    assert heard.text == "um next please"
    assert (heard.match.command, heard.match.decision) == (Command("next"), "act")
    assert heard.path == "recogniser"
    assert heard.decode_ms == 25.0
    assert heard.nbest == (Hypothesis("um next please"),)


def test_the_nbest_list_reaches_the_matcher(vocab):
    script = [[Hypothesis("neck", 0.6), Hypothesis("next", 0.5)]]
    heard = Understander(ScriptedRecognizer(script), vocab).understand(speech())
    assert heard.text == "neck"
    assert heard.match.command == Command("next")


def test_nothing_heard_is_no_command(vocab):
    heard = Understander(ScriptedRecognizer([]), vocab).understand(speech())
    assert (heard.text, heard.match.command, heard.match.decision) == ("", None, "none")


def test_audio_reaches_the_recogniser_at_16k(vocab):
    recognizer = ScriptedRecognizer(["stop"])
    Understander(recognizer, vocab).understand(speech(rate=48000, seconds=1.0))
    (decoded,) = recognizer.decoded
    assert decoded.rate == 16000 and len(decoded) == 16000


class Personal:
    """Overrules the recogniser with the user's own template when it was unsure."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.seen: list[tuple[Audio, tuple, Match]] = []

    def refine(self, audio, nbest, match, agreed=False):
        self.seen.append((audio, tuple(nbest), match))
        if self.path == "recogniser":
            return match, "recogniser"
        return Match(Command("pause"), 0.9, "act", heard=match.heard), self.path


@pytest.mark.parametrize("path", ["template", "switch"])
def test_personal_refinement_can_overrule(vocab, path):
    personal = Personal(path)
    audio = speech()
    heard = Understander(ScriptedRecognizer(["cat"]), vocab, personal).understand(audio)
    assert heard.path == path
    assert heard.match.command == Command("pause")
    ((seen_audio, nbest, before),) = personal.seen
    assert seen_audio is audio and nbest == (Hypothesis("cat"),)
    assert before.decision == "none"


def test_personal_refinement_that_agrees_keeps_the_recogniser_path(vocab):
    heard = Understander(ScriptedRecognizer(["next"]), vocab, Personal("recogniser")).understand(speech())
    assert (heard.path, heard.match.command) == ("recogniser", Command("next"))
