import pytest

from voice_guide import settings as settings_mod
from voice_guide.cli import main


def test_show_lists_every_setting(guide_home, capsys):
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "rate = 150" in out and "trailing_silence = 0.5" in out and "notice" not in out


def test_set_saves_and_reset_restores(guide_home, capsys):
    assert main(["settings", "set", "trailing_silence", "1.5"]) == 0
    assert settings_mod.load().trailing_silence == 1.5
    model = guide_home / "models" / "en"
    (model / "am").mkdir(parents=True)
    (model / "am" / "final.mdl").write_bytes(b"x" * 2000)
    assert main(["settings", "set", "vosk_model", str(model)]) == 0
    assert settings_mod.load().vosk_model == str(model)
    assert main(["settings", "set", "vosk_model", "none"]) == 0
    assert settings_mod.load().vosk_model is None
    assert main(["settings", "reset"]) == 0
    assert settings_mod.load() == settings_mod.Settings()


def test_a_chosen_voice_is_saved_and_default_follows_the_default_again(guide_home, capsys):
    assert main(["settings"]) == 0
    assert "synthesizer = None (the default voice: kokoro)" in capsys.readouterr().out
    assert main(["settings", "set", "voice", "joe"]) == 0
    assert (settings_mod.load().synthesizer, settings_mod.load().voice) == ("piper", None)
    assert main(["settings", "set", "synthesizer", "default"]) == 0
    assert settings_mod.load().synthesizer is None and settings_mod.load().speaks_with == "kokoro"


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


# ---- issue 10, defect 11: what this machine does not have is refused when set -------------------------

@pytest.mark.parametrize("name, value, says", [
    ("vosk_model", "/etc", "is not a Vosk model folder"),
    ("voice", "no-such-voice", "There is no voice called 'no-such-voice'"),
])
def test_what_this_machine_lacks_is_refused_when_set(guide_home, capsys, name, value, says):
    assert main(["settings", "set", name, value]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and "Traceback" not in err
    assert settings_mod.load() == settings_mod.Settings()


def test_a_voice_espeak_ng_has_is_taken(guide_home):
    assert main(["settings", "set", "voice", "en-gb"]) == 0
    assert settings_mod.load().voice == "en-gb"


@pytest.mark.sound
@pytest.mark.parametrize("name", ["input_device", "output_device"])
def test_a_device_this_computer_lacks_is_refused_with_the_ones_it_has(guide_home, capsys, name):
    assert main(["settings", "set", name, "999"]) == 2
    err = capsys.readouterr().err
    assert "There is no" in err and "999" in err and "pulse" in err
    assert main(["settings", "set", name, "pulse"]) == 0
    assert getattr(settings_mod.load(), name) == "pulse"
