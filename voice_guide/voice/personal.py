"""The user's own voice, joined to the recogniser's decision: enrolled commands and the no-words switch.

An enrolled command is heard through its prototypes on Whisper's encoder (`voice.prototypes`) when
the recogniser in use has the encoder that made them, and through its sound templates (MFCC, compared
by time warping: `voice.templates`) otherwise: with Vosk or pocketsphinx, with another Whisper model,
or after an enrolment made before prototypes were kept. `PersonalModel.choice` says which and why.

`PersonalModel.refine` is what `Understander` calls after the matcher. The rule, in order:
- the switch sound -> its action, whatever the recogniser made of it;
- the recogniser acts and the takes agree (or have nothing confident to say) -> act;
- the recogniser acts but the takes confidently hear another command -> ask which;
- the recogniser acts on an enrolled command that sounds nothing like the user's takes of it -> ask
  again ("reprompt"), unless the takes confidently hear another command, or (with the prototypes) the
  recogniser is sure of what it heard, as of clear speech, or the command model heard that action too
  and the takes hear nothing else (other people's voices, the user's own once the lips recover);
- the recogniser asks between two commands and the takes confidently pick one -> act on it; if
  they confidently hear a third, ask between that and the recogniser's best;
- the recogniser heard nothing usable (reprompt / none) but the takes are confident -> act.
With the templates, commands among the recogniser's guesses get a slightly wider acceptance distance
(two weak pieces of evidence that agree are stronger than either), the others a narrower one; the
prototypes' tuning found nothing to gain by it (`Rules`). Everything else stays as the matcher decided,
so a word that is not a command is still turned down.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, TypeVar

import numpy as np

from voice_guide import paths
from voice_guide.audio import Audio
from voice_guide.engines import Hypothesis
from voice_guide.errors import ModelError
from voice_guide.hearing.features import utterance_features
from voice_guide.fileio import set_aside
from voice_guide.understanding.command_model import POOLING, Encoding, pool, standardisation
from voice_guide.understanding.matching import Command, Match
from voice_guide.hearing.switch import SwitchDetector, SwitchProfile, TransientWatcher
from voice_guide.voice.prototypes import PrototypeClassifier, PrototypeSet
from voice_guide.voice.templates import MIN_TAKES, NO_RESULT, TemplateClassifier, TemplateResult, TemplateSet

VOICE_FOLDER = "voice"
TEMPLATES_FILE = "templates.npz"
PROTOTYPES_FILE = "prototypes.npz"
SWITCH_FILE = "switch.json"
T = TypeVar("T")


@dataclass(frozen=True)
class Rules:
    """How far the takes' acceptance distance stretches when joined to the recogniser's decision."""

    relax: float
    """Factor for a command the recogniser also offered."""
    unoffered: float
    """Factor for a command it did not offer: the takes alone must be surer (words that merely sound
    like a command, "nest" for "next", are the usual mistake)."""
    veto: float
    """The recogniser's "act" on an enrolled command becomes "say that again?" when the utterance is
    further than this times that command's acceptance distance from every take of it..."""
    sure: float = 2.0
    """... unless the recogniser's best guess is at least this sure of itself (2: never), as it is of
    clear speech: the user's own once the lips recover, or another person's."""


TEMPLATE_RULES = Rules(relax=1.2, unoffered=0.95, veto=1.25)
PROTOTYPE_RULES = Rules(relax=1.2, unoffered=0.9, veto=1.0, sure=0.9)
"""Chosen with `scripts/tune_personal.py` on synthetic degraded voices that are not the ones reported."""

PATHS = ("recogniser", "prototype", "template", "switch")


def voice_dir(data_dir: Path | None = None) -> Path:
    """Where enrolled samples live: <data dir>/voice/."""
    return Path(data_dir if data_dir is not None else paths.data_dir()) / VOICE_FOLDER


def _load(path: Path, read: Callable[[Path], T], empty: Callable[[], T], what: str,
          then: str = "run voice-guide enroll again.") -> tuple[T, str]:
    """`read(path)`; `empty()` when there is no such file, or, with one sentence, when it had to be set aside."""
    try:
        return read(path), ""
    except FileNotFoundError:
        return empty(), ""
    except (OSError, ValueError) as exc:
        kept = set_aside(path)
        return empty(), f"Your {what} could not be used ({exc}); {then}{kept}"


def load_templates(folder: Path) -> tuple[TemplateSet, str]:
    """The enrolled templates (empty when none) and a notice when the file had to be set aside."""
    return _load(folder / TEMPLATES_FILE, TemplateSet.load, TemplateSet, "saved voice samples")


def load_prototypes(folder: Path) -> tuple[PrototypeSet, str]:
    """The enrolled prototypes (empty when none) and a notice when the file had to be set aside: the
    sound templates then hear alone."""
    return _load(folder / PROTOTYPES_FILE, PrototypeSet.load, PrototypeSet, "voice samples as Whisper heard them",
                 "your sound samples are used instead, and voice-guide enroll brings them back.")


def load_switch(folder: Path) -> tuple[SwitchProfile, str]:
    return _load(folder / SWITCH_FILE, SwitchProfile.load, SwitchProfile, "switch sound settings")


@dataclass(frozen=True)
class Refinement:
    """Everything `refine` looked at, for `hear --json` and the evaluation script."""

    match: Match
    path: str
    template: TemplateResult
    switch: bool
    via: str = ""
    """Which takes were consulted: "prototype", "template" or "" (nothing enrolled)."""


@dataclass(frozen=True)
class Hearing:
    """How enrolled commands are heard: the takes' classifier, what it reads of an utterance, its rules."""

    via: str
    classifier: TemplateClassifier | PrototypeClassifier
    features: Callable[[Audio], np.ndarray]
    rules: Rules


class PersonalModel:
    """Enrolled takes + switch; hand it to `Understander(..., personal=model)`. `encoding` is the
    recogniser (`command_model.Encoding`) whose encoder may hear the prototypes."""

    def __init__(self, templates: TemplateSet | None = None, switch: SwitchProfile | None = None, *,
                 prototypes: PrototypeSet | None = None, encoding: Encoding | None = None,
                 reference: Callable[[str], tuple[np.ndarray, np.ndarray]] = standardisation,
                 hearing: Hearing | None = None, notice: str = "") -> None:
        self.templates = templates or TemplateSet()
        self.prototypes = prototypes or PrototypeSet()
        self.encoding = encoding
        self.switch = switch or SwitchProfile()
        self.detector = SwitchDetector(self.switch)
        self.notice = notice
        self.last: Refinement | None = None
        self._reference = reference
        self._hearing = hearing
        """How enrolled commands are heard; chosen at the first utterance when not given (`hearing`)."""
        self._watcher: TransientWatcher | None = None

    @classmethod
    def load(cls, data_dir: Path | None = None, **kwargs) -> "PersonalModel":
        """The user's model from <data_dir>/voice/ (paths.data_dir() by default); an empty model,
        which changes nothing, when nothing is enrolled."""
        folder = voice_dir(data_dir)
        templates, n1 = load_templates(folder)
        prototypes, n2 = load_prototypes(folder) if templates.commands else (PrototypeSet(), "")
        switch, n3 = load_switch(folder)
        notice = " ".join(n for n in (n1, n2, n3) if n)
        return cls(templates, switch, prototypes=prototypes, notice=notice, **kwargs)

    @property
    def enrolled(self) -> list[str]:
        """Commands with enough takes to be matched."""
        return [c for c in self.templates.commands if len(self.templates.takes[c]) >= MIN_TAKES]

    @property
    def active(self) -> bool:
        return bool(self.enrolled) or self.switch.enabled

    def choice(self, encoder: str) -> tuple[str, str]:
        """Which takes hear enrolled commands with a recogniser whose encoder is `encoder` ("": none),
        "prototype" or "template" ("" when nothing is enrolled), and why, in a few words."""
        if not self.enrolled:
            return "", "nothing enrolled"
        made = self.prototypes.encoder
        missing = [c for c in self.enrolled if len(self.prototypes.takes.get(c, ())) < MIN_TAKES]
        if not encoder:
            why = "the recogniser in use is not Whisper"
        elif len(missing) == len(self.enrolled):
            why = "they were taught before the guide kept Whisper's view of them (voice-guide enroll again adds it)"
        elif made != encoder or self.prototypes.pooling != POOLING:
            why = (f"Whisper's view of them was made by {made}, and the recogniser now has {encoder} "
                   "(voice-guide enroll again renews it)")
        elif missing:
            why = (f"{', '.join(missing)} {'has' if len(missing) == 1 else 'have'} no Whisper view "
                   f"(voice-guide enroll {' '.join(missing)} adds it)")
        else:
            try:
                mean, _ = self._reference(encoder)
            except ModelError as err:
                why = f"Whisper's view of them needs the command model's scaling. {err}"
            else:
                if all(len(v) == len(mean) for t in self.prototypes.takes.values() for v in t):
                    return "prototype", f"through Whisper's encoder ({encoder})"
                why = f"Whisper's view of them does not fit {encoder} (voice-guide enroll again renews it)"
        return "template", f"as sound templates: {why}"

    def describe(self, encoder: str) -> str:
        """One line for `voice-guide model` and `doctor`: what is enrolled and how it is heard."""
        parts = [f"{len(self.enrolled)} command(s) enrolled"]
        if self.enrolled:
            parts[0] += f", heard {self.choice(encoder)[1]}"
        return "; ".join(parts + (["the switch sound is on"] if self.switch.enabled else []))

    def hearing(self) -> Hearing | None:
        """How enrolled commands are heard (decided at the first utterance, once the recogniser is
        loaded); None when nothing is enrolled."""
        if self._hearing is None and self.enrolled:
            encoder = getattr(self.encoding, "encoder", "") if self.encoding is not None else ""
            if self.choice(encoder)[0] == "prototype":
                own = PrototypeSet(encoder, POOLING, takes={c: self.prototypes.takes[c] for c in self.enrolled})
                classifier = PrototypeClassifier(own, self._reference(encoder))
                embed = self.encoding.encoder_states  # type: ignore[union-attr]
                self._hearing = Hearing("prototype", classifier, lambda audio: pool(embed(audio)), PROTOTYPE_RULES)
            else:
                config = self.templates.config
                self._hearing = Hearing("template", TemplateClassifier(self.templates),
                                        lambda audio: utterance_features(audio, config), TEMPLATE_RULES)
        return self._hearing

    def classify(self, audio: Audio, relax: dict[str, float] | None = None) -> TemplateResult:
        hearing = self.hearing()
        if hearing is None:
            return NO_RESULT
        return hearing.classifier.classify(hearing.features(audio), relax)

    def switch_match(self) -> Match:
        """The switch's action as a decision: "toggle" (the session pauses, or resumes when paused)
        or "pause"."""
        return Match(Command(self.switch.action), 1.0, "act", heard=f"({self.switch.kind})")

    def refine(self, audio: Audio, nbest: Sequence[Hypothesis], match: Match,
               agreed: bool = False) -> tuple[Match, str]:
        """The final decision for one utterance and which path made it (see the module doc); `agreed`:
        the command model heard the matcher's action too."""
        if self.switch.enabled and self.detector.detect(audio):
            result = Refinement(self.switch_match(), "switch", NO_RESULT, True)
        else:
            result = self._combine(audio, match, nbest[0].confidence if nbest else 0.0, agreed)
        self.last = result
        return result.match, result.path

    def _combine(self, audio: Audio, match: Match, sure: float, agreed: bool) -> Refinement:
        hearing = self.hearing()
        if hearing is None:
            return Refinement(match, "recogniser", NO_RESULT, False)
        rules, via = hearing.rules, hearing.via
        offered = {c.id for c in (match.command, *match.alternatives) if c is not None and c.arg is None}
        t = self.classify(audio, {c: rules.relax if c in offered else rules.unoffered for c in self.enrolled})
        keep = Refinement(match, "recogniser", t, False, via)
        trusted = sure >= rules.sure or (agreed and not t.accepted)
        if match.decision == "act" and not trusted and self._vetoed(match.command, t, hearing):
            match = Match(match.command, match.score, "reprompt", (match.command,), match.heard)
            keep = Refinement(match, via, t, False, via)
        if not t.accepted:
            return keep
        heard = Command(t.command)
        if match.decision == "act":
            if match.command == heard:
                return keep
            ask = Match(match.command, match.score, "ask", (match.command, heard), match.heard)
            return Refinement(ask, via, t, False, via)
        if match.decision == "ask" and heard not in match.alternatives:
            ask = Match(heard, round(t.confidence, 4), "ask", (heard, match.command), match.heard)
            return Refinement(ask, via, t, False, via)
        act = Match(heard, round(t.confidence, 4), "act", heard=match.heard or t.command)
        return Refinement(act, via, t, False, via)

    @staticmethod
    def _vetoed(command: Command | None, t: TemplateResult, hearing: Hearing) -> bool:
        """The recogniser acts on an enrolled command that sounds nothing like the user's takes of it."""
        thresholds = hearing.classifier.thresholds
        if command is None or command.arg is not None or command.id not in thresholds:
            return False
        distance = dict(t.ranking).get(command.id, float("inf"))
        return distance > hearing.rules.veto * thresholds[command.id]

    def watch(self, block: np.ndarray, rate: int) -> Match | None:
        """Feed one raw microphone block; the switch's decision when a click/tap just ended. Clicks
        are too short to reach `refine` through the endpointer, so the player calls this too."""
        if not (self.switch.enabled and self.switch.kind == "click"):
            return None
        if self._watcher is None or self._watcher.rate != rate:
            self._watcher = TransientWatcher(self.detector, rate)
        return self.switch_match() if self._watcher.feed(block) else None
