"""Whisper's n-best (through the matcher) and the command model decide together. Pure: no engines.

The two fail differently: Whisper knows English and is right on clear speech and long phrases, but
writes "always" for a weak "pause"; the model knows only the guide's phrases and hears weak lips, but
was trained on synthetic voices. A wrong action is worse than asking again, so:
- Whisper heard exactly a word the guide knows is not a command ("left", "dog") -> the matcher alone:
  on real voices the model, trained on synthetic ones, is too often sure of a command there;
- the matcher acts -> act, whatever the model says: on real voices (speech-dev) the model, trained on
  synthetic ones, was 0.99 sure of another command for right actions ("no" as "teach me no", "stop" as
  "back"); asking instead turned 4 right actions in 120 into questions to save 1 wrong one;
- the matcher did not act, but its best guess is the model's command and the model is fairly sure
  (`assist`), or the model alone is very sure (`alone`; `alone_long` when Whisper wrote `long` words or
  more, which it does for slurred speech and for room talk alike, or for a command with an argument:
  an item, a numbered step or suggestion, a word to teach, which the model confuses more) -> act on
  the model's command, but never an item Whisper heard as several words that are not its name
  (room talk of a few words is too easily near an item's title);
- otherwise the matcher's decision stands.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

from voice_guide.understanding.matching import Match
from voice_guide.understanding.phrases import normalise
from voice_guide.understanding.vocabulary import Vocabulary
from voice_guide.understanding.command import Command


@dataclass(frozen=True)
class Rule:
    """The thresholds, chosen on the synthetic sets by `scripts/eval_commands.py --command-model on`."""

    assist: float = 0.5
    """The model this sure of the matcher's own unsure guess (reprompt/ask) makes it act."""
    alone: float = 0.995
    """The model this sure acts on its own when Whisper wrote a word or two that are no command. The
    highest bar: its lone errors were short room talk at 0.98-0.99 ("on" as next on a real voice, "i'm
    coffee" as help in weak-lip chatter), while on weak-lip commands raising it from 0.95 lost nothing."""
    alone_long: float = 0.99
    """The same when Whisper wrote `long` words or more, or for a command with an argument (0.995
    here lost 8 in 504 weak-lip commands and saved no wrong action)."""
    long: int = 3
    """Words heard from which the model needs `alone_long` and never opens an item on its own."""


RULE = Rule()


def _words(match: Match) -> int:
    return len(match.heard.split())


def fuse(match: Match, scores: Mapping[Command | None, float], vocab: Vocabulary,
         rule: Rule = RULE) -> tuple[Match, str]:
    """The decision and who made it: "recogniser" (the matcher's, unchanged), "model" or "both"."""
    if not scores:
        return match, "recogniser"
    top = max(scores, key=lambda c: scores[c])
    p = scores[top]
    heard = normalise(match.heard)
    if heard in vocab.exact and vocab.exact[heard] is None:
        return match, "recogniser"
    long = _words(match) >= rule.long
    if match.decision == "act":
        return match, "both" if top == match.command and not long else "recogniser"
    if top is None:
        return match, "recogniser"
    guessed = top == match.command or top in match.alternatives
    if top.id == "open" and long:
        return match, "recogniser"  # room talk of a few words is easily "near" an item's title
    plain = top.arg is None and not long
    if (guessed and p >= rule.assist) or p >= (rule.alone if plain else rule.alone_long):
        return Match(top, round(p, 4), "act", heard=match.heard,
                     needs_confirmation=vocab.risk(top) == "confirm"), "model"
    return replace(match), "recogniser"
