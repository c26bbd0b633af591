"""The `voice-guide` command: finds the subcommands in `voice_guide.commands` and maps our errors to
one clear sentence and an exit code, never a traceback."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import sys
from typing import TYPE_CHECKING, NoReturn

# Numpy's BLAS must not start a thread per core for the small products of every microphone block: on a
# busy 2-core machine those threads wait for a core (the echo estimate took 14 ms a block instead of
# 1.5 ms). Set before anything imports numpy; the engines keep their own threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from voice_guide import __version__, commands
from voice_guide.errors import VoiceGuideError, printable

if TYPE_CHECKING:
    from voice_guide.content.loader import Library
    from voice_guide.wiring import Devices


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voice-guide",
        description="An offline, voice-first audio guide for acute facial palsy. "
        "Run it with no command to start the spoken menu.",
    )
    parser.add_argument("--version", action="version", version=f"voice-guide {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = [
        importlib.import_module(f"{commands.__name__}.{info.name}")
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    ]
    for module in sorted(modules, key=lambda m: getattr(m, "ORDER", 50)):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None, devices: Devices | None = None, library: Library | None = None) -> int:
    """Run one command; `devices` opens its engines and `library` is what it reads (this machine's
    and the package's own when None; tests hand in fakes, as httpx takes a `transport=`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["guide", *argv]
    args = build_parser().parse_args(argv)
    args.devices, args.library = devices, library
    from voice_guide.chatter import library_messages_to_log
    from voice_guide.commands.export import sigterm_stops

    try:
        # The sound libraries' own messages go to the log in every command (fakes make none).
        with sigterm_stops(), library_messages_to_log() if devices is None else contextlib.nullcontext():
            return int(args.func(args) or 0)
    except VoiceGuideError as err:
        print(f"voice-guide: {printable(str(err))}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("voice-guide: stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def exit_with(code: int) -> NoReturn:
    """Exit the `voice-guide` command; a stopped run (130) ends within `background.STOP_EXIT` even
    when a thread it leaves behind never returns."""
    if code == 130:
        from voice_guide import background

        background.exit_within(background.STOP_EXIT, code)
    sys.exit(code)


def run() -> NoReturn:
    """The `voice-guide` command's entry point."""
    exit_with(main())
