"""The words the guide understands: every command phrase of `data/commands.toml`, the items' names,
titles and aliases, and the words it knows are not commands. Built once and handed to the matcher and
to the recognisers' grammars. Pure but for reading the package's own data file."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Iterable

from voice_guide.content.model import Item
from voice_guide.errors import ContentError
from voice_guide.understanding.phrases import NUMBER_NAMES, NUMBER_WORDS, Phrase, normalise, spoken
from voice_guide.understanding.command import Command


class Vocabulary:
    """Every phrase the guide understands, and every phrase it knows is not a command."""

    def __init__(self, data: dict, items: Iterable[Item] = ()) -> None:
        try:
            self._risk = {cid: spec.get("risk", "safe") for cid, spec in data["commands"].items()}
            self._risk["open"] = data["open"].get("risk", "confirm")
            self._risk["step"] = self._risk["suggestion"] = data["numbers"].get("risk", "safe")
            verbs = [spoken(v) for v in data["open"]["verbs"]]
            self._grammar_verbs = verbs[: int(data["open"].get("grammar_verbs", len(verbs)))]
            self._verbs = sorted({normalise(v) for v in verbs}, key=len, reverse=True)
            self._number_range = (int(data["numbers"]["min"]), int(data["numbers"]["max"]))
            prefixes = data["numbers"]["prefixes"]
            self._decoys = [spoken(w) for w in data["non_commands"]["words"]]
            self._function_words = [spoken(w) for w in data["non_commands"]["function_words"]]
            self._lookalikes = [spoken(w) for w in data["non_commands"]["lookalikes"]]
            commands = {cid: spec["phrases"] for cid, spec in data["commands"].items()}
            choices = [[str(p) for p in ps] for ps in data.get("choices", {}).get("ordinals", ())]
            self._risk["choice"] = data.get("choices", {}).get("risk", "safe")
            teach = data.get("teach", {})
            teach_forms = [spoken(f) for f in teach.get("forms", ())]
            teach_words = [spoken(w) for w in teach.get("words", ())]
            self.carriers = frozenset(normalise(w) for w in data.get("contained", {}).get("carriers", ()))
            barge_in = frozenset(str(cid) for cid in data["barge_in"]["commands"])
            over_echo = {normalise(w): Command(str(cid))
                         for cid, ws in data["barge_in"].get("over_echo", {}).items() for w in ws}
            weak_lips = {normalise(w): Command(str(cid)) for cid, ws in data.get("weak_lips", {}).items() for w in ws}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ContentError(f"commands.toml: {exc} is missing or malformed; restore the file.") from exc
        self.barge_in = barge_in
        """The only commands acted on when said over the guide's own voice."""
        self.ids = frozenset([*commands, "open", *prefixes])
        """Every command id the matcher can find."""
        self._spoken: list[str] = []
        self._item_spoken: list[str] = []
        self.entries: list[Phrase] = []
        """Every whole-utterance phrase, each meaning exactly one command (or None)."""
        self.items: list[Phrase] = []
        """Item names, titles and aliases, also those a command phrase shadows ("open help")."""
        seen: dict[str, Command | None] = {}

        def add(text: str, command: Command | None, **flags) -> bool:
            key = normalise(text)
            if not key or key in seen:
                return False
            seen[key] = command
            self.entries.append(Phrase.of(key, command, **flags))
            return True

        for cid, phrases in commands.items():
            for phrase in phrases:
                add(phrase, Command(cid))
                self._spoken.append(spoken(phrase))
        for number, phrases in enumerate(choices, start=1):
            for phrase in phrases:
                add(phrase, Command("choice", number), exact_only=True)  # no "fast" taken for "first"
                self._spoken.append(spoken(phrase))
        for form in teach_forms:
            for word in teach_words:
                phrase = form.replace("word", word)
                add(phrase, Command("teach", word))
                self._spoken.append(phrase)
        parts = [tuple(normalise(part) for part in form.split("word", 1)) for form in teach_forms]
        self.teach_prefixes = sorted({a for a, _ in parts if a}, key=len, reverse=True)
        self.teach_suffixes = sorted({b for _, b in parts if b}, key=len, reverse=True)
        self.teach_words = [Phrase.of(normalise(w), Command("teach", w)) for w in teach_words]
        """"teach me WORD again": the WORD is matched on its own, as tolerantly as a command said alone."""
        for item in items:
            command = Command("open", item.name)
            for text in (item.name.replace("-", " "), item.title, *item.aliases):
                key = normalise(text)
                if key and all(p.text != key for p in self.items):
                    self.items.append(Phrase.of(key, command))
                    self._item_spoken.append(spoken(text))
                if add(text, command):
                    self._spoken.append(spoken(text))
        for word in self._decoys:
            add(word, None)
        for word in self._function_words:
            add(word, None, inside=False)
        for word in self._lookalikes:
            add(word, None, exact_only=True)
        self.exact = {p.text: p.command for p in self.entries}
        clash = sorted(w for w, c in weak_lips.items() if w in self.exact or c.id not in commands)
        if clash:
            raise ContentError(f"commands.toml: weak_lips {', '.join(clash)} is a phrase already, or not "
                               "of a command; restore the file.")
        self.weak_lips = weak_lips
        """What a recogniser writes for a command said with weak lips ("star" for stop): that command
        when heard exactly so, kept out of `entries` (grammars, proposals, the command model's hash)."""
        clash = sorted(w for w, c in over_echo.items() if self.exact.get(w) is not None or c.id not in barge_in)
        if clash:
            raise ContentError(f"commands.toml: barge_in over_echo {', '.join(clash)} is a command phrase "
                               "already, or not of a barge-in command; restore the file.")
        self.over_echo = over_echo
        """What a recogniser writes for a barge-in command said over the guide's voice ("top" for stop):
        that command only then, heard exactly so; kept out of `entries` like `weak_lips`."""
        self.prefixes = [Phrase.of(normalise(p), Command(kind)) for kind, ps in prefixes.items() for p in ps]
        low, high = self._number_range
        self._numbered = [
            f"{spoken(p)} {NUMBER_NAMES[n]}"
            for ps in prefixes.values()
            for p in ps
            for n in range(low, high + 1)
        ]

    def phrases(self) -> list[str]:
        """Every phrase that means something, as `spoken` writes it, for recogniser grammars:
        commands, item names alone and after an opening verb, numbered steps and suggestions."""
        opened = [
            f"{verb} {name}"
            for name in self._item_spoken
            for verb in self._grammar_verbs
            if not any(name.startswith(v + " ") for v in self._grammar_verbs)
        ]
        return list(dict.fromkeys(self._spoken + opened + self._numbered))

    def short_commands(self) -> list[str]:
        """Every one-word command phrase ("up", "pause", "yes"): what a recogniser that rescores
        unclear words against the audio (Whisper) compares them with."""
        return [p.text for p in self.entries if p.command is not None and " " not in p.text]

    def non_commands(self, grammar_safe: bool = False) -> list[str]:
        """Known non-commands; `grammar_safe` leaves out lookalikes that would steal real commands
        if listed in a recogniser grammar."""
        words = self._decoys + self._function_words
        return list(dict.fromkeys(words if grammar_safe else words + self._lookalikes))

    def words(self) -> list[str]:
        """Every single word in phrases() and non_commands(grammar_safe=True), sorted."""
        return sorted({w for p in self.phrases() + self.non_commands(True) for w in p.split()})

    def risk(self, command: Command) -> str:
        return self._risk.get(command.id, "safe")

    @property
    def verbs(self) -> list[str]:
        return list(self._verbs)

    def number(self, token: str) -> int | None:
        value = int(token) if token.isdigit() else NUMBER_WORDS.get(token)
        low, high = self._number_range
        return value if value is not None and low <= value <= high else None


@lru_cache(maxsize=1)
def _command_data() -> dict:
    text = resources.files("voice_guide").joinpath("data/commands.toml").read_text(encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"commands.toml: {exc}; restore the file.") from exc


def barge_in_commands() -> frozenset[str]:
    """The commands acted on when said over the guide's own voice (commands.toml's `barge_in`)."""
    return _plain().barge_in


def said_over_echo(heard: str) -> Command | None:
    """The barge-in command that words heard over the guide's voice are a spelling of (commands.toml's
    `barge_in.over_echo`), if any."""
    return _plain().over_echo.get(normalise(heard))


def meant_for_the_guide(heard: str) -> bool:
    """Words heard (normalised) that may have been a command gone wrong: some word is neither a carrier
    ("so", "please") nor a known non-command ("hello", "hmm"). Fillers, noise and greetings are not
    counted as the guide mishearing someone (`session.questions.MISHEARD`)."""
    plain = _plain()
    return any(w not in plain.carriers and not (w in plain.exact and plain.exact[w] is None) for w in heard.split())


@lru_cache(maxsize=1)
def _plain() -> Vocabulary:
    return Vocabulary(_command_data())


def build_vocabulary(items: Iterable[Item] = ()) -> Vocabulary:
    """The command vocabulary from commands.toml plus the names, titles and aliases of `items`."""
    return Vocabulary(_command_data(), items)
