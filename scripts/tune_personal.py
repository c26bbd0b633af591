"""Chooses how the personal model hears Whisper prototypes (`voice.prototypes` ACCEPT and MARGIN,
`voice.personal` PROTOTYPE_RULES) on synthetic degraded voices of their own: espeak-ng voices degraded
as tests/degraded_speaker.py degrades its speaker, none of them speaker A or B of
scripts/eval_personal.py (which reports, never tunes), and never on speech-dev.

Each voice enrols 3 takes of the 12 core commands; its held-out takes of them, clear takes of them
(the same voice, recovered), other words and command-like words go through the guide's default path
(Whisper tiny.en, the command model, fusion)
once, then through the personal model's rule with each setting of a small grid. A setting is kept
when it acts wrongly on at most 1% of commands; of those, the one with the most right actions less
WRONG_COST times the wrong ones and OTHER_COST times the other words acted on (as shares of what was
said) is printed first, and is what the constants say.

Then, for the prototypes alone with 1, 3 and 12 commands enrolled, what PRIOR (the centring's
shrinkage) does: an "other word" there is anything said that is not an enrolled command.

Usage: .venv/bin/python scripts/tune_personal.py [--held-out 6] [--top 10]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "scripts")]

from degraded_speaker import COMMANDS, NEAR_WORDS, OTHER_WORDS, clean_take, take  # noqa: E402
from eval_personal import DecodeOnce  # noqa: E402

from voice_guide.content.loader import load_library  # noqa: E402
from voice_guide.hearing.features import utterance_features  # noqa: E402
from voice_guide.engine_table import open_recognizer_for  # noqa: E402
from voice_guide.settings import Settings  # noqa: E402
from voice_guide.understanding.command import Command  # noqa: E402
from voice_guide.understanding.matching import Match  # noqa: E402
from voice_guide.understanding.command_model import POOLING, open_command_model, pool, standardisation  # noqa: E402
from voice_guide.understanding.understand import Understander  # noqa: E402
from voice_guide.understanding.vocabulary import build_vocabulary  # noqa: E402
from voice_guide.voice.personal import Hearing, PersonalModel, Rules  # noqa: E402
from voice_guide.voice.prototypes import PrototypeClassifier, PrototypeSet  # noqa: E402
from voice_guide.voice.templates import TemplateSet  # noqa: E402

TUNING = {"C": ("en-us+m3", 45), "D": ("en-gb-x-rp", 55), "E": ("en-029", 40), "F": ("en-us+f2", 70)}
"""The tuning voices: espeak-ng voice and pitch."""
GRID = {"accept": (0.40, 0.45, 0.50, 0.55), "margin": (1.1, 1.2, 1.3), "relax": (1.0, 1.2),
        "unoffered": (0.9, 1.0), "veto": (1.0, 1.25, 1.5, 2.0), "sure": (0.7, 0.8, 0.9, 0.95, 2.0)}
OTHER_COST = 2.0
"""An other word acted on costs this many commands acted on right (chatter acted on derails a session)."""
WRONG_COST = 3.0
"""A command acted on as another costs this many acted on right (worse than asking again)."""
TAKES = 3
CLEAR = 2
"""Clear takes of each command by each voice (its lips recovered), counted with the held-out ones: the
user's takes must not make the guide deaf to the same person speaking clearly."""


def voice_sets(rec: DecodeOnce, understander: Understander, voice: str, pitch: int, held_out: int):
    """(the enrolled takes as templates and prototypes, [(expected command or None, audio, the default
    path's match)])."""
    templates, prototypes = TemplateSet(), PrototypeSet(rec.encoder, POOLING)
    for word in COMMANDS:
        takes = [take(word, i, voice=voice, pitch=pitch) for i in range(TAKES)]
        templates.replace(word, [utterance_features(a) for a in takes])
        prototypes.replace(word, [pool(rec.encoder_states(a)) for a in takes])
    said = [(Command(w), take(w, 100 + i, True, voice=voice, pitch=pitch)) for w in COMMANDS for i in range(held_out)]
    said += [(None, take(w, 100 + i, True, voice=voice, pitch=pitch))
             for w in OTHER_WORDS + NEAR_WORDS for i in range(2)]
    said += [(Command(w), clean_take(w, i, voice, pitch)) for w in COMMANDS for i in range(CLEAR)]
    heard = [(e, audio, understander.understand(audio)) for e, audio in said]
    return (templates, prototypes), [(e, audio, (h.match, h.nbest)) for e, audio, h in heard]


def score(decisions) -> tuple[int, int, int, int, int]:
    """(right, wrong, commands, other words acted on, other words)."""
    right = sum(e is not None and m.decision == "act" and m.command == e for e, m in decisions)
    wrong = sum(e is not None and m.decision == "act" and m.command != e for e, m in decisions)
    other = sum(e is None and m.decision == "act" for e, m in decisions)
    n = sum(e is not None for e, _ in decisions)
    return right, wrong, n, other, len(decisions) - n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held-out", type=int, default=6, help="held-out takes per command and voice")
    parser.add_argument("--top", type=int, default=10, help="settings to print")
    args = parser.parse_args()
    vocab = build_vocabulary(load_library().items)
    rec = DecodeOnce(open_recognizer_for(Settings(), vocab))
    understander = Understander(rec, vocab, commands=open_command_model(vocab, rec))
    reference = standardisation(rec.encoder)
    voices = {name: voice_sets(rec, understander, *voice, args.held_out) for name, voice in TUNING.items()}
    base = [0] * 5
    for _, said in voices.values():
        base = [a + b for a, b in zip(base, score([(e, m) for e, _, (m, _) in said]))]
    print(f"No enrolment: right {base[0]}/{base[2]}, wrong {base[1]}, other words acted on {base[3]}/{base[4]}")
    results = []
    for accept, margin, relax, unoffered, veto, sure in itertools.product(*GRID.values()):
        total = [0] * 5
        for (templates, prototypes), said in voices.values():
            classifier = PrototypeClassifier(prototypes, reference, accept=accept, margin=margin)
            hearing = Hearing("prototype", classifier, lambda a: pool(rec.encoder_states(a)),
                              Rules(relax, unoffered, veto, sure))
            model = PersonalModel(templates, hearing=hearing)
            decided = [(e, model.refine(audio, nbest, match)[0]) for e, audio, (match, nbest) in said]
            total = [a + b for a, b in zip(total, score(decided))]
        right, wrong, n, other, n_other = total
        if wrong <= 0.01 * n:
            worth = right / n - WRONG_COST * wrong / n - OTHER_COST * other / n_other
            results.append((worth, (accept, margin, relax, unoffered, veto, sure), total))
    results.sort(key=lambda r: -r[0])
    print("accept margin relax unoffered veto sure: right, wrong, other words acted on")
    for _, setting, (right, wrong, n, other, n_other) in results[: args.top]:
        print(" ".join(f"{v:6.2f}" for v in setting), f": {right}/{n}, {wrong}, {other}/{n_other}")
    priors(voices, rec, reference, *results[0][1][:2])
    return 0


def priors(voices, rec: DecodeOnce, reference, accept: float, margin: float) -> None:
    """The takes alone (the recogniser heard nothing), with the best setting's acceptance distance and
    margin, few or many commands enrolled, for each PRIOR: centring on the voice must not centre one
    enrolled command away, nor let everything near one."""
    print("\nTakes alone, by PRIOR and commands enrolled: right / commands said, wrong, other words acted on")
    for prior in (0.0, 1.0, 2.0, 4.0):
        line = []
        for some in (COMMANDS[:1], COMMANDS[:3], COMMANDS):
            total = [0] * 5
            for (_, prototypes), said in voices.values():
                own = PrototypeSet(prototypes.encoder, prototypes.pooling,
                                   takes={c: prototypes.takes[c] for c in some})
                classifier = PrototypeClassifier(own, reference, accept=accept, margin=margin, prior=prior)
                decided = []
                for expected, audio, _ in said:
                    t = classifier.classify(pool(rec.encoder_states(audio)))
                    heard = Match(Command(t.command), 1.0, "act") if t.accepted else Match(None, 0.0, "none")
                    decided.append((expected if expected is not None and expected.id in some else None, heard))
                total = [a + b for a, b in zip(total, score(decided))]
            right, wrong, n, other, n_other = total
            line.append(f"{len(some):2} enrolled: {right}/{n}, {wrong}, {other}/{n_other}")
        print(f"PRIOR {prior:3.1f}  " + "   ".join(line))


if __name__ == "__main__":
    sys.exit(main())
