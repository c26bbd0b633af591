"""Whisper's n-best (through the matcher) and the command model decide together. Pure: no engines.

The two fail differently: Whisper knows English and is right on clear speech and long phrases, but
writes "always" for a weak "pause"; the model knows only the guide's phrases and hears weak lips, but
was trained on synthetic voices. A wrong action is worse than asking again, so:
- Whisper heard exactly a word the guide knows is not a command ("left", "dog") -> the matcher alone:
  on real voices the model, trained on synthetic ones, is too often sure of a command there; but not
  a word nobody says alone, which Whisper writes for speech it could not make out ("i", "the":
  `vague`), where the model decides as below;
- the matcher acts -> act, unless the model is `overrule` sure of another command (`renumber` sure of
  the same command with another number; `doubt_other` when it all but rules out the matcher's
  command; never of the teaching of a command said over the guide, "teach:stop" for "stop"): then ask
  which of the two (Whisper's near-misses: "step five" for a weak "step four", "quieter" for "step
  twelve", "step up" acted on as louder); Whisper's `unclear` words need the model's `assist` to
  count as an action at all;
- the matcher did not act, but its best guess is the model's command and the model is fairly sure
  (`assist`), or the model alone is very sure (`alone`; `alone_long` when Whisper wrote `long` words or
  more, which it does for slurred speech and for room talk alike, or for a command with an argument:
  an item, a numbered step or suggestion, a word to teach, which the model confuses more; `unsure` at
  most when Whisper wrote a word or two the matcher took for a command, unsure, and not its `unclear`
  word) -> act on the model's command, but an item Whisper heard as several words that are not its
  name only when the model is `item_long` sure (room talk of a few words is easily near an item's
  title);
- otherwise the matcher's decision stands.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

from voice_guide.understanding.matching import Match
from voice_guide.understanding.phrases import normalise
from voice_guide.understanding.vocabulary import Vocabulary
from voice_guide.understanding.command import NUMBERED, Command


@dataclass(frozen=True)
class Rule:
    """The thresholds, chosen on 7 training voices kept out of the training of a second head of as many
    members (never on the voices the figures are reported for), then checked on real voices
    (speech-dev), where none of them changed a decision. `alone`, `alone_long`, `item_long` and
    `unsure` were chosen together on a grid for the head of three members: the most commands acted on
    right at no more wrong actions than one member gave with the bars before (0.995, 0.99, 0.99, 0.9):
    988 -> 1,023 of 1,608 right, wrong 42 either way, room talk acted on 29 -> 26 of 338. The members'
    average is sure only where they agree, so it needs lower bars than one member: with one member's,
    it acted on 946 right and 34 wrong."""

    assist: float = 0.5
    """The model this sure of the matcher's own unsure guess (reprompt/ask) makes it act."""
    alone: float = 0.97
    """The model this sure acts on its own when Whisper wrote a word or two that are no command. The
    highest bar: the model's lone errors are short room talk ("on" as next on a real voice)."""
    alone_long: float = 0.9
    """The same when Whisper wrote `long` words or more, or for a command with an argument (an item, a
    numbered step or suggestion, a word to teach), which the model confuses more; Whisper writes long
    for slurred speech and room talk alike."""
    unsure: float = 0.8
    """`alone` and `alone_long` when Whisper wrote fewer than `long` words and the matcher found in them
    something like a command but was unsure of it (it would ask "did you mean ...?"): a command's shape,
    not room talk, and the model this sure of a command is then right more often than the matcher's
    guess. Not after an `unclear` word, which is no command's shape: a degraded "next" written "yeah"
    was acted on as no (`scripts/eval_personal.py`, speaker A, one member: 4 -> 12 of 96 wrong with
    the lower bar there, 7 without)."""
    long: int = 3
    """Words heard from which the model needs `alone_long`, and `item_long` to open an item."""
    item_long: float = 0.98
    """The model this sure opens an item although Whisper heard several words that are not its name
    (room talk of a few words is easily near an item's title: "my tea has gone cold" was a topic at
    0.97 to one member)."""
    overrule: float = 0.995
    """The model this sure of another command than the matcher's action turns the action into a
    question between the two. Acting on the model's command instead mended wrong actions on the
    validation voices (8.6% -> 7.9% at 0.95), but on speech-dev it was 0.98-0.99 sure of "teach me
    stop" and "step 1" for two real "stop"s: so it asks, and only from 0.995, where no decision on
    real voices became a question."""
    doubt: float = 0.01
    """The model giving the matcher's action less than this all but rules it out: then `doubt_other`
    sure of another command is enough to ask which of the two. On the validation voices this turned
    wrong actions into questions (weak lips 34 -> 24 of 1,016, plain 10 -> 6 of 433) and no action
    that was right (the same from 0.003 to 0.01 and `doubt_other` up to 0.3); on speech-dev it
    changed no decision. Not when the model's choice is "not a command": on real voices it was as
    sure of that for a clear "yes" and "no" (0.0000 and 0.0009 for the command), so the action stands."""
    doubt_other: float = 0.3
    """How sure of another command the model must be to ask, when `doubt` rules out the matcher's."""
    renumber: float = 0.9
    """`overrule` when the two hear the same numbered command with other numbers: Whisper writes "step
    five" for a weak "step four", "sixteen" for "fifteen"; on the held-out weak-lip voices this turned
    2 of 9 wrong actions into questions, and no decision elsewhere changed."""
    unclear: tuple[str, ...] = ("yeah",)
    """Whisper's words for speech it could not make out that are also commands: acted on only when
    the model gives that command `assist` or more. "yeah" was written for a weak "negative", a weak
    "step one" and a real "learn", each acted on as yes; the one "yeah" really said for yes in the sets
    had the model at 0.996."""

    vague: tuple[str, ...] = ("the", "a", "an", "it", "is", "i", "and", "of", "in", "that", "this")
    """Words nobody says alone, which Whisper writes alone for speech it could not make out: heard so,
    they are not a plain "no command" but leave the decision to the model. On the validation voices
    the model then acted on 5 more weak-lip commands of 1,016 and 1 more plain one of 433, all right
    ("i" for "step five" three times, "and" and "in" for "end", "this" for "tips"), and on no room
    talk. Not words people do say alone, though Whisper writes them for unclear speech too: "oh" and
    "ah" (for a real "on" in speech-dev the model was sure of menu), "okay", "what", "done", and the
    other lookalikes ("back up", "top")."""


RULE = Rule()


def _renumbered(top: Command | None, match: Match) -> bool:
    """The model and the matcher hear the same numbered command with another number."""
    return top is not None and match.command is not None and top.id == match.command.id and top.id in NUMBERED


def _taught(top: Command | None, match: Match, vocab: Vocabulary) -> bool:
    """The model hears the teaching of the very command the matcher acts on ("teach:stop" for "stop"):
    it took what came before the word for "teach me" (the guide's own voice under a stop said over
    it: 0.997-0.999 sure, as it was 0.98-0.99 for two real "stop"s in speech-dev), words Whisper,
    which writes those plainly, did not hear. It never asks about those two when the command is one
    that may be said over the guide (commands.toml's `barge_in`); otherwise "learn yes", written "yes",
    is asked about, not acted on as yes (in noise it was, in all 3 held-out corpora)."""
    return (top is not None and match.command is not None and top.id == "teach" and top.arg == match.command.id
            and match.command.id in vocab.barge_in)


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
    if heard in vocab.exact and vocab.exact[heard] is None and heard not in rule.vague:
        return match, "recogniser"
    long = _words(match) >= rule.long
    unclear = match.decision == "act" and heard in rule.unclear
    if unclear and scores.get(match.command, 0.0) < rule.assist:
        match = replace(match, decision="reprompt")
    if match.decision == "act":
        bar = rule.renumber if _renumbered(top, match) else rule.overrule
        if scores.get(match.command, 0.0) < rule.doubt:
            bar = min(bar, rule.doubt_other)
        if top is not None and top != match.command and p >= bar and not _taught(top, match, vocab):
            return Match(top, round(p, 4), "ask", (top, match.command), heard=match.heard), "model"
        return match, "both" if top == match.command and not long else "recogniser"
    if top is None:
        return match, "recogniser"
    guessed = top == match.command or top in match.alternatives
    if top.id == "open" and long and p < rule.item_long:
        return match, "recogniser"
    plain = top.arg is None and not long
    bar = rule.alone if plain else rule.alone_long
    if match.decision == "reprompt" and not long and not unclear:
        bar = min(bar, rule.unsure)
    if (guessed and p >= rule.assist) or p >= bar:
        return _act(top, p, match, vocab), "model"
    return replace(match), "recogniser"


def _act(command: Command, p: float, match: Match, vocab: Vocabulary) -> Match:
    return Match(command, round(p, 4), "act", heard=match.heard, needs_confirmation=vocab.risk(command) == "confirm")
