"""The one way the guide opens its own files (voice_guide.fileio, issue 17 items 4 and 11): a pipe or
device is refused at once instead of blocking, a link where none belongs is not followed, and a file
larger than its kind can be is refused before it is read; every loader turns that into its usual
sentence and sets the file aside."""

from __future__ import annotations

import contextlib
import os
import signal
import wave
from pathlib import Path

import pytest

from voice_guide import fileio, progress
from voice_guide import settings as settings_mod
from voice_guide.export.records import Records, record_path
from voice_guide.understanding import whisper_models
from voice_guide.voice.personal import load_prototypes, load_switch, load_templates
from voice_guide.speaking.speech import CachedSynthesizer
from voice_guide.testing import FakeSynthesizer
from voice_guide.engines import VoiceSettings


@contextlib.contextmanager
def within(seconds: float):
    """Fail, instead of hanging the suite, when the block blocks (a FIFO opened for reading waits for
    a writer for ever)."""
    def expired(signum, frame):
        raise TimeoutError(f"blocked for {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def plant(path: Path, how: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if how == "pipe":
        os.mkfifo(path)
    elif how == "huge":  # 1 GB, sparse: takes no disk, but reading it whole would take 1 GB of memory
        with open(path, "wb") as fh:
            fh.truncate(1 << 30)
    elif how == "link":
        target = path.parent / "elsewhere"
        target.write_text("{}")
        path.symlink_to(target)


def test_open_regular_refuses_pipes_devices_folders_and_links_at_once(tmp_path):
    fifo, link, big, ok = tmp_path / "fifo", tmp_path / "link", tmp_path / "big", tmp_path / "ok"
    os.mkfifo(fifo)
    ok.write_bytes(b"x" * 10)
    link.symlink_to(ok)
    big.write_bytes(b"x" * 11)
    with within(5):
        for path, says in [(fifo, "it is a pipe (FIFO), not a file"), ("/dev/zero", "it is a device, not a file"),
                           (tmp_path, "it is a folder, not a file"),
                           (link, "it is a link, where only the guide's own file belongs"),
                           (big, "it is 11 bytes, more than such a file can be (10 bytes)")]:
            with pytest.raises(fileio.RefusedFile) as caught:
                fileio.open_regular(path, 10)
            assert str(caught.value) == says
        with fileio.open_regular(link, 10, follow=True) as fh:
            assert fh.read() == b"x" * 10
        with pytest.raises(FileNotFoundError):
            fileio.open_regular(tmp_path / "none", 10)


def test_read_own_never_reads_more_than_the_limit_of_a_file_that_says_it_is_empty(monkeypatch):
    """/proc files say they hold 0 bytes; what is read is still bounded."""
    monkeypatch.setitem(fileio.LIMITS, "tiny", 16)
    with pytest.raises(fileio.RefusedFile, match="more than such a file can be"):
        fileio.read_own("/proc/self/status", "tiny")


HOWS = ["pipe", "huge", "link"]


@pytest.mark.parametrize("how", HOWS)
def test_settings(how, guide_home):
    path = settings_mod.settings_path()
    plant(path, how)
    with within(5):
        loaded = settings_mod.load()
    assert loaded == settings_mod.Settings() and "could not be used" in loaded.notice and "kept as" in loaded.notice
    assert not path.exists() and not path.is_symlink()
    with within(5):
        settings_mod.save(settings_mod.Settings(rate=200))
    assert settings_mod.load().rate == 200


@pytest.mark.parametrize("how", HOWS)
def test_saving_settings_never_replaces_an_unreadable_one(how, guide_home):
    path = settings_mod.settings_path()
    plant(path, how)
    with within(5), pytest.raises(settings_mod.StorageError, match="will not write over it"):
        settings_mod.save(settings_mod.Settings(rate=200))


@pytest.mark.parametrize("how", HOWS)
def test_progress(how, guide_home):
    path = progress.progress_path()
    plant(path, how)
    with within(5):
        loaded = progress.load()
    assert loaded.progress is None and "could not be used" in loaded.notice and "kept as" in loaded.notice
    plant(path, how)
    with within(5):
        progress.save(progress.Progress("safety-notice", 2))
    assert progress.load().progress.step == 2


@pytest.mark.parametrize("how", HOWS)
def test_enrolled_takes_and_switch(how, guide_home):
    folder = guide_home / "data" / "voice"
    plant(folder / "templates.npz", how)
    plant(folder / "switch.json", how)
    plant(folder / "prototypes.npz", how)
    with within(5):
        templates, said = load_templates(folder)
        switch, said_switch = load_switch(folder)
        prototypes, said_prototypes = load_prototypes(folder)
    assert len(templates) == 0 and "saved voice samples could not be used" in said, said
    assert len(prototypes) == 0 and "sound samples are used instead" in said_prototypes, said_prototypes
    assert not switch.enabled and "switch sound settings could not be used" in said_switch, said_switch


@pytest.mark.parametrize("how", HOWS)
def test_export_record(how, guide_home, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    plant(record_path(out), how)
    with within(5):
        assert Records(out).tracks == {}


@pytest.mark.parametrize("how", HOWS)
def test_checked_models(how, guide_home, tmp_path, monkeypatch):
    monkeypatch.delenv(whisper_models.ENV, raising=False)
    folder = tmp_path / "model"
    folder.mkdir()
    real, _ = whisper_models.find("tiny.en")  # its side files, which are checked against their schemas
    for name in whisper_models.MODEL_FILES:
        (folder / name).write_bytes(b"x" if name == "model.bin" else (real / name).read_bytes())
    plant(guide_home / "cache" / "checked-models.json", how)
    model = whisper_models.WhisperModel("x", 1, "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881", "x")
    with within(5):
        whisper_models.verify(folder, model)  # checked again: the remembered checks could not be read


@pytest.mark.parametrize("how", HOWS)
def test_a_cached_sentence_is_rendered_again(how, guide_home):
    synth = CachedSynthesizer(FakeSynthesizer())
    voice = VoiceSettings()
    path = synth.path(synth.key("Hello.", voice))
    plant(path, how)
    with within(5):
        audio = synth.synthesize("Hello.", voice)
    assert synth.misses == 1 and len(audio.samples) > 0
    with wave.open(str(path)) as w:  # the rendering replaced what was there
        assert w.getnframes() == len(audio.samples)


def test_the_lock_beside_a_file_is_never_a_pipe(tmp_path):
    lock = tmp_path / ".x.lock"
    os.mkfifo(lock)
    with within(5), fileio.exclusive(lock, wait=1):
        assert lock.is_file()
    assert not lock.exists()


def test_a_cached_sentence_is_read_back(guide_home):
    voice = VoiceSettings()
    first = CachedSynthesizer(FakeSynthesizer()).synthesize("Hello.", voice)
    again = CachedSynthesizer(FakeSynthesizer())
    assert len(again.synthesize("Hello.", voice).samples) == len(first.samples) and again.hits == 1


def test_a_stop_inside_fdopen_leaves_the_descriptor_to_the_file_object(tmp_path, monkeypatch):
    """A SIGTERM (raised as KeyboardInterrupt) arriving as the file object is made must not close its
    descriptor a second time: the number may already be another file's, which then fails with EBADF
    (once in CI: a stopped `model install` said "Bad file descriptor" instead of "stopped")."""
    path = tmp_path / "f"
    path.write_bytes(b"x")
    made = []
    real = os.fdopen

    def fdopen_then_stop(fd, *args, **kwargs):
        made.append(real(fd, *args, **kwargs))
        raise KeyboardInterrupt

    monkeypatch.setattr(fileio.os, "fdopen", fdopen_then_stop)
    with pytest.raises(KeyboardInterrupt):
        fileio.open_regular(path, None)
    monkeypatch.undo()
    made[0].close()  # still its own descriptor: closed once, no EBADF
