import pytest

from voice_guide import settings as settings_mod
from voice_guide.cli import main


def test_show_lists_every_setting(guide_home, capsys):
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "rate = 150" in out and "trailing_silence = 0.8" in out and "notice" not in out


def test_set_saves_and_reset_restores(guide_home, capsys):
    assert main(["settings", "set", "trailing_silence", "1.5"]) == 0
    assert settings_mod.load().trailing_silence == 1.5
    assert main(["settings", "set", "vosk_model", "/models/en"]) == 0
    assert main(["settings", "set", "vosk_model", "none"]) == 0
    assert settings_mod.load().vosk_model is None
    assert main(["settings", "reset"]) == 0
    assert settings_mod.load() == settings_mod.Settings()


@pytest.mark.parametrize("argv, says", [
    (["settings", "set", "colour", "blue"], "no setting called"),
    (["settings", "set", "rate", "fast"], "takes a number"),
    (["settings", "set", "rate", "900"], "rate must be 80 to 300"),
    (["settings", "set", "rate"], "Use: voice-guide settings set"),
])
def test_bad_settings_give_one_sentence_and_exit_2(guide_home, capsys, argv, says):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert settings_mod.load() == settings_mod.Settings()
