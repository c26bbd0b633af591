"""The table of engines: every row reachable by its setting's name, every stand-in a row of its kind."""

import pytest

from voice_guide import settings as settings_mod
from voice_guide.errors import UsageError
from voice_guide.engine_table import ENGINES, choose, rows

SETTING = {"recogniser": ("auto", *(r.name for r in rows("recogniser"))), "voice": tuple(r.name for r in rows("voice"))}


def test_the_settings_name_exactly_the_engines_of_the_table():
    assert settings_mod.RECOGNISERS == SETTING["recogniser"]
    assert settings_mod.SYNTHESIZERS == SETTING["voice"]


def test_each_stand_in_is_a_row_of_the_same_kind_and_no_chain_loops():
    for row in ENGINES:
        seen = {row.name}
        while row.instead:
            (row,) = [r for r in rows(row.kind) if r.name == row.instead]
            assert row.name not in seen
            seen.add(row.name)


def test_an_engine_the_table_does_not_have_is_refused_with_the_names_it_has():
    with pytest.raises(UsageError, match="use kokoro, piper, pyttsx3 or espeak-ng"):
        choose("voice", "festival", settings_mod.Settings())


@pytest.mark.parametrize("name", SETTING["voice"])
def test_a_voice_the_settings_ask_for_is_chosen_saying_so(name):
    choice = choose("voice", name, settings_mod.Settings(synthesizer=name))
    assert (choice.engine, choice.notice) == (name, "") and name in choice.reason
