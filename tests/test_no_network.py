"""The program never opens a network connection: an audit hook fails the test on any socket
connect, bind or address lookup outside local (AF_UNIX) sockets while real commands run."""

from __future__ import annotations

import socket

import pytest

from voice_guide.cli import main


def test_hook_catches_a_connection_attempt(no_network):
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", 9), timeout=0.5)
    caught = list(no_network[1:])
    no_network[1:] = []
    assert caught, "the audit hook did not see a TCP connect"


@pytest.mark.parametrize("argv", [["list"], ["show", "what-to-do"], ["show", "quiet-face"]])
@pytest.mark.slow
def test_library_commands_stay_offline(argv, no_network, spoken_home, capsys):
    """With the speech already rendered (rendering it offline: test_export_and_hear_stay_offline)."""
    assert main(argv) == 0


@pytest.mark.slow
def test_export_and_hear_stay_offline(no_network, joe_home, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    assert main(["export", "safety-notice", "--out", str(out), "--format", "wav"]) == 0
    wavs = list(out.glob("*.wav"))
    assert wavs
    main(["hear", str(wavs[0]), "--json"])
