"""The user's enrolled takes and a nearest-template classifier that knows when to say "not one of mine".

Speaker-independent recognisers fail most for atypical speech; a few takes of the person's own voice
per command, compared by dynamic time warping, recognise that voice well (template matching with about
three examples per word is the classic approach for dysarthric speakers). The hard part is rejection:
an utterance that is not a command must stay unrecognised, so each command gets its own acceptance
distance from how far its takes lie from each other, and the nearest neighbours must agree.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Iterator, Literal, TypeVar

import numpy as np
from msgspec import Meta

from voice_guide.hearing.features import DEFAULT, FeatureConfig, dtw_distance
from voice_guide.fileio import atomic_write_bytes, read_own
from voice_guide.schema import between, decode_json, text

FORMAT = "voice-guide-templates"
VERSION = 1
H = TypeVar("H")
S = TypeVar("S", bound="Takes")

CORE = ("next", "back", "repeat", "pause", "resume", "stop", "slower", "louder", "quieter", "help",
        "yes", "no")
"""The commands enrolled by default, in the order they are asked for."""
EXTRA = ("faster", "where")
"""Further one-word commands that may be enrolled by name."""
Teachable = Literal[CORE + EXTRA]  # type: ignore[valid-type]
"""The commands a template file may hold takes of: any other name is not ours (and never spoken)."""
MIN_TAKES = 2
"""A command needs at least this many takes to be matched (its spread cannot be judged from one)."""
TAKES_RANGE = (3, 5)
"""How many takes of each command enrolment records."""
LONGEST = 2.5
"""Seconds of sound a one-word take may last."""
LONGEST_FEATURES = LONGEST + 0.5
"""Seconds a stored take's features may span (its sound, padded when it was trimmed): more frames
are not a take of one word, and would make every comparison slow (at most about 4 s to compare a
full set of such takes with each other, measured here)."""


@dataclass(frozen=True)
class TakeEntry:
    command: Teachable
    array: text(20)


@dataclass(frozen=True)
class TemplatesHeader:
    """The JSON header of a template file: its schema."""

    format: text(100)
    config: FeatureConfig
    takes: Annotated[list[TakeEntry], Meta(max_length=len(CORE + EXTRA) * TAKES_RANGE[1])]
    version: between(0, 10**6, whole=True) = 0


@dataclass(kw_only=True)
class Takes:
    """What is kept of each enrolled take (one array), by command id."""

    takes: dict[str, list[np.ndarray]] = field(default_factory=dict)
    dtype: ClassVar[type] = np.float64
    kind: ClassVar[str] = "templates"
    """Its kind of file (`fileio.LIMITS`); `to_bytes` and `from_bytes` are each kind's own."""

    @property
    def commands(self) -> list[str]:
        return sorted(c for c, t in self.takes.items() if t)

    def replace(self, command: str, arrays: list[np.ndarray]) -> None:
        """Set the takes of one command (re-enrolling it drops the old ones)."""
        self.takes[command] = [np.ascontiguousarray(a, dtype=self.dtype) for a in arrays]

    def remove(self, command: str) -> None:
        self.takes.pop(command, None)

    def __len__(self) -> int:
        return sum(len(t) for t in self.takes.values())

    def counted(self: S) -> S:
        """Itself, when it holds no more takes of a command than enrolment records (ValueError if not)."""
        too_many = [c for c, takes in self.takes.items() if len(takes) > TAKES_RANGE[1]]
        if too_many:
            raise ValueError(f"it holds more than {TAKES_RANGE[1]} takes of {too_many[0]!r}")
        return self

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, self.to_bytes())  # type: ignore[attr-defined]

    @classmethod
    def load(cls: type[S], path: Path) -> S:
        return cls.from_bytes(read_own(path, cls.kind))  # type: ignore[attr-defined]


@dataclass
class TemplateSet(Takes):
    """Feature matrices of the enrolled takes, by command id."""

    config: FeatureConfig = DEFAULT

    def to_bytes(self) -> bytes:
        """An .npz archive with a JSON header; no pickles, so loading a file cannot run code."""
        arrays: dict[str, np.ndarray] = {}
        index = []
        for command in self.commands:
            for feats in self.takes[command]:
                name = f"t{len(arrays)}"
                arrays[name] = feats.astype(np.float32)
                index.append({"command": command, "array": name})
        header = {"format": FORMAT, "version": VERSION, "config": self.config.to_dict(), "takes": index}
        buf = io.BytesIO()
        np.savez_compressed(buf, header=np.array(json.dumps(header)), **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "TemplateSet":
        """Raises ValueError (one sentence) when the data is not a template file this version can read:
        its header is checked against `TemplatesHeader` and each take's shape against the config
        before the take is loaded."""
        with archive(data, TemplatesHeader, FORMAT, VERSION, "template") as (npz, header):
            config = header.config.check()
            out = cls(config=config)
            for entry in header.takes:
                out.takes.setdefault(entry.command, []).append(_take(npz, entry.array, config))
        return out.counted()


UNREADABLE = (OSError, EOFError, KeyError, TypeError, AttributeError, ArithmeticError, RecursionError,
              zipfile.BadZipFile)
"""What numpy, zipfile and json raise on a truncated or foreign archive."""


@contextlib.contextmanager
def archive(data: bytes, kind: type[H], form: str, version: int, what: str) -> Iterator[tuple[Any, H]]:
    """An .npz archive of enrolled takes and its JSON header, checked against `kind` (its schema);
    ValueError (one sentence) when it is not a `what` file this version can read, or cannot be read."""
    if not data.startswith(b"PK"):  # else numpy tries it as a pickle and talks of loading it unsafely
        raise ValueError(f"not a voice-guide {what} file")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            header = decode_json(str(npz["header"]), kind)
            written: Any = header  # every kind of header has a format and a version
            if written.format != form:
                raise ValueError(f"not a voice-guide {what} file")
            if written.version > version:
                raise ValueError(f"written by a newer voice-guide (version {written.version})")
            yield npz, header
    except UNREADABLE as exc:
        raise ValueError(f"unreadable {what} file ({exc})") from exc


def array_header(npz, name: str) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and type of one array of an .npz archive, read from its header before it is loaded
    (a planted header cannot make the guide allocate gigabytes)."""
    with npz.zip.open(f"{name}.npy") as f:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(f)
    return shape, dtype


def _take(npz, name: str, config: FeatureConfig) -> np.ndarray:
    """One stored take, its shape read from the array's header and checked before it is loaded."""
    shape, dtype = array_header(npz, name)
    longest = math.ceil(LONGEST_FEATURES / config.hop)
    if dtype.kind != "f" or len(shape) != 2 or shape[1] != config.width:
        raise ValueError(f"take {name} is not {config.width} columns of numbers, as its config says")
    if not 1 <= shape[0] <= longest:
        raise ValueError(f"take {name} has {shape[0]} frames, not 1 to {longest}")
    feats = np.asarray(npz[name], dtype=np.float64)
    if not np.isfinite(feats).all():
        raise ValueError(f"take {name} holds numbers that are not finite")
    return feats


@dataclass(frozen=True)
class TemplateResult:
    """What the templates say about one utterance."""

    command: str | None
    """Nearest command, or None when nothing is enrolled."""
    distance: float
    """Distance to that command's nearest take."""
    threshold: float
    """That command's acceptance distance (after any relaxing)."""
    accepted: bool
    """Near enough, clearly nearer than any other command, and the neighbours agree."""
    confidence: float
    """0..1: 1 well inside the threshold, 0.5 at it, 0 at 1.5 times it."""
    ranking: tuple[tuple[str, float], ...] = ()
    """(command, nearest distance), nearest first."""

    @property
    def runner_up(self) -> str | None:
        return self.ranking[1][0] if len(self.ranking) > 1 else None


NO_RESULT = TemplateResult(None, float("inf"), 0.0, False, 0.0)


class TemplateClassifier:
    """Nearest-template classification with rejection.

    A command's acceptance distance is `slack` times the largest leave-one-out distance among its own
    takes (how different the user's takes of that word already are), kept within [floor, ceiling]
    and below `between` times the distance to the nearest take of another command. An utterance is
    accepted when it is within that distance of the command's nearest take, the next command is at
    least `margin` times further away, and most of its `k` nearest takes are of that command."""

    def __init__(self, templates: TemplateSet, *, k: int = 3, slack: float = 1.3, floor: float = 2.2,
                 ceiling: float = 4.2, between: float = 1.0, margin: float = 1.08,
                 window: float | None = 0.5) -> None:
        self.templates = templates
        self.k, self.margin, self.window = k, margin, window
        self._takes = [(c, f) for c in templates.commands for f in templates.takes[c]
                       if len(templates.takes[c]) >= MIN_TAKES]
        self.thresholds = self._thresholds(slack, floor, ceiling, between)

    @property
    def commands(self) -> list[str]:
        return sorted(self.thresholds)

    def _thresholds(self, slack: float, floor: float, ceiling: float, between: float) -> dict[str, float]:
        n = len(self._takes)
        d = np.full((n, n), np.inf)
        for i in range(n):
            for j in range(i + 1, n):
                d[i, j] = d[j, i] = dtw_distance(self._takes[i][1], self._takes[j][1], self.window)
        labels = np.array([c for c, _ in self._takes])
        out = {}
        for command in sorted(set(labels)):
            own = labels == command
            within = d[np.ix_(own, own)]
            loo = within.min(axis=1)
            limit = float(np.clip(slack * loo.max(), floor, ceiling))
            if (~own).any():
                limit = min(limit, between * float(d[np.ix_(own, ~own)].min()))
            out[str(command)] = limit
        return out

    def distances(self, features: np.ndarray) -> list[tuple[str, float]]:
        """(command, distance) to every usable take, nearest first."""
        pairs = [(c, dtw_distance(features, f, self.window)) for c, f in self._takes]
        return sorted(pairs, key=lambda p: p[1])

    def classify(self, features: np.ndarray, relax: dict[str, float] | None = None) -> TemplateResult:
        """Classify one utterance's features. `relax` multiplies some commands' acceptance distances
        (e.g. for commands the recogniser also heard among its guesses)."""
        if not self._takes:
            return NO_RESULT
        pairs = self.distances(features)
        nearest: dict[str, float] = {}
        for command, dist in pairs:
            nearest.setdefault(command, dist)
        ranking = tuple(sorted(nearest.items(), key=lambda p: p[1]))
        best, dist = ranking[0]
        threshold = self.thresholds[best] * (relax or {}).get(best, 1.0)
        second = ranking[1][1] if len(ranking) > 1 else float("inf")
        votes = [c for c, _ in pairs[: self.k]]
        accepted = (
            dist <= threshold
            and second >= self.margin * dist
            and votes.count(best) * 2 > len(votes)
        )
        confidence = float(np.clip(1.5 - dist / threshold, 0.0, 1.0)) if threshold > 0 else 0.0
        return TemplateResult(best, dist, threshold, accepted, confidence, ranking)
