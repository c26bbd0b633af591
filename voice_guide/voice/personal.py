"""The user's own voice, joined to the recogniser's decision: enrolled command templates and the
no-words switch.

`PersonalModel.refine` is what `Understander` calls after the matcher. The rule, in order:
- the switch sound → its action, whatever the recogniser made of it;
- the recogniser acts and the templates agree (or have nothing confident to say) → act;
- the recogniser acts but the templates confidently hear another command → ask which;
- the recogniser acts on an enrolled command that sounds nothing like the user's takes of it → ask
  again ("reprompt"), unless the templates confidently hear another command;
- the recogniser asks between two commands and the templates confidently pick one → act on it; if
  they confidently hear a third, ask between that and the recogniser's best;
- the recogniser heard nothing usable (reprompt / none) but the templates are confident → act.
Commands among the recogniser's guesses get a slightly wider template acceptance distance (two weak
pieces of evidence that agree are stronger than either), the others a slightly narrower one. Everything else stays as the matcher decided,
so a word that is not a command is still turned down.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from voice_guide import paths
from voice_guide.audio import Audio
from voice_guide.engines import Hypothesis
from voice_guide.hearing.features import utterance_features
from voice_guide.fileio import set_aside
from voice_guide.understanding.matching import Command, Match
from voice_guide.hearing.switch import SwitchDetector, SwitchProfile, TransientWatcher
from voice_guide.voice.templates import NO_RESULT, TemplateClassifier, TemplateResult, TemplateSet

VOICE_FOLDER = "voice"
TEMPLATES_FILE = "templates.npz"
SWITCH_FILE = "switch.json"

RELAX = 1.2
"""Acceptance distance factor for a command the recogniser also offered."""
UNOFFERED = 0.95
"""Acceptance distance factor for a command the recogniser did not offer: the templates alone must be
a little surer (words that merely sound like a command, "nest" for "next", are the usual mistake)."""

VETO = 1.25
"""The recogniser's "act" on an enrolled command becomes "say that again?" when the utterance is further
than this times that command's acceptance distance from every take of it."""

PATHS = ("recogniser", "template", "switch")


def voice_dir(data_dir: Path | None = None) -> Path:
    """Where enrolled samples live: <data dir>/voice/."""
    return Path(data_dir if data_dir is not None else paths.data_dir()) / VOICE_FOLDER


def _set_aside(path: Path, what: str, why: Exception) -> str:
    kept = set_aside(path)
    return f"Your {what} could not be used ({why}); run `voice-guide enroll` again.{kept}"


def load_templates(folder: Path) -> tuple[TemplateSet, str]:
    """The enrolled templates (empty when none) and a notice when the file had to be set aside."""
    path = folder / TEMPLATES_FILE
    try:
        return TemplateSet.load(path), ""
    except FileNotFoundError:
        return TemplateSet(), ""
    except (OSError, ValueError) as exc:
        return TemplateSet(), _set_aside(path, "saved voice samples", exc)


def load_switch(folder: Path) -> tuple[SwitchProfile, str]:
    path = folder / SWITCH_FILE
    try:
        return SwitchProfile.load(path), ""
    except FileNotFoundError:
        return SwitchProfile(), ""
    except (OSError, ValueError) as exc:
        return SwitchProfile(), _set_aside(path, "switch sound settings", exc)


@dataclass(frozen=True)
class Refinement:
    """Everything `refine` looked at, for `hear --json` and the evaluation script."""

    match: Match
    path: str
    template: TemplateResult
    switch: bool


class PersonalModel:
    """Templates + switch; hand it to `Understander(..., personal=model)`."""

    def __init__(self, templates: TemplateSet | None = None, switch: SwitchProfile | None = None, *,
                 notice: str = "") -> None:
        self.templates = templates or TemplateSet()
        self.classifier = TemplateClassifier(self.templates)
        self.switch = switch or SwitchProfile()
        self.detector = SwitchDetector(self.switch)
        self.notice = notice
        self.last: Refinement | None = None
        self._watcher: TransientWatcher | None = None

    @classmethod
    def load(cls, data_dir: Path | None = None, **kwargs) -> "PersonalModel":
        """The user's model from <data_dir>/voice/ (paths.data_dir() by default); an empty model,
        which changes nothing, when nothing is enrolled."""
        folder = voice_dir(data_dir)
        templates, n1 = load_templates(folder)
        switch, n2 = load_switch(folder)
        return cls(templates, switch, notice=" ".join(n for n in (n1, n2) if n), **kwargs)

    @property
    def enrolled(self) -> list[str]:
        """Commands with enough takes to be matched."""
        return self.classifier.commands

    @property
    def active(self) -> bool:
        return bool(self.enrolled) or self.switch.enabled

    def classify(self, audio: Audio, relax: dict[str, float] | None = None) -> TemplateResult:
        if not self.enrolled:
            return NO_RESULT
        return self.classifier.classify(utterance_features(audio, self.templates.config), relax)

    def switch_match(self) -> Match:
        """The switch's action as a decision: "toggle" (the session pauses, or resumes when paused)
        or "pause"."""
        return Match(Command(self.switch.action), 1.0, "act", heard=f"({self.switch.kind})")

    def refine(self, audio: Audio, nbest: Sequence[Hypothesis], match: Match) -> tuple[Match, str]:
        """The final decision for one utterance and which path made it (see the module doc)."""
        if self.switch.enabled and self.detector.detect(audio):
            result = Refinement(self.switch_match(), "switch", NO_RESULT, True)
        else:
            result = self._combine(audio, match)
        self.last = result
        return result.match, result.path

    def _combine(self, audio: Audio, match: Match) -> Refinement:
        offered = {c.id for c in (match.command, *match.alternatives) if c is not None and c.arg is None}
        t = self.classify(audio, {c: RELAX if c in offered else UNOFFERED for c in self.enrolled})
        keep = Refinement(match, "recogniser", t, False)
        if match.decision == "act" and self._vetoed(match.command, t):
            match = Match(match.command, match.score, "reprompt", (match.command,), match.heard)
            keep = Refinement(match, "template", t, False)
        if not t.accepted:
            return keep
        heard = Command(t.command)
        if match.decision == "act":
            if match.command == heard:
                return keep
            ask = Match(match.command, match.score, "ask", (match.command, heard), match.heard)
            return Refinement(ask, "template", t, False)
        if match.decision == "ask" and heard not in match.alternatives:
            ask = Match(heard, round(t.confidence, 4), "ask", (heard, match.command), match.heard)
            return Refinement(ask, "template", t, False)
        act = Match(heard, round(t.confidence, 4), "act", heard=match.heard or t.command)
        return Refinement(act, "template", t, False)

    def _vetoed(self, command: Command | None, t: TemplateResult) -> bool:
        """The recogniser acts on an enrolled command that sounds nothing like the user's takes of it."""
        if command is None or command.arg is not None or command.id not in self.classifier.thresholds:
            return False
        distance = dict(t.ranking).get(command.id, float("inf"))
        return distance > VETO * self.classifier.thresholds[command.id]

    def watch(self, block: np.ndarray, rate: int) -> Match | None:
        """Feed one raw microphone block; the switch's decision when a click/tap just ended. Clicks
        are too short to reach `refine` through the endpointer, so the player calls this too."""
        if not (self.switch.enabled and self.switch.kind == "click"):
            return None
        if self._watcher is None or self._watcher.rate != rate:
            self._watcher = TransientWatcher(self.detector, rate)
        return self.switch_match() if self._watcher.feed(block) else None
