"""Engines that load while the guide already speaks: the first word should not wait for a speech
recogniser (or anything else slow to open) that is only needed once the user answers."""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
import time
from typing import Callable, Generic, TypeVar

from voice_guide.audio import Audio
from voice_guide.engines import Hypothesis, Recognizer
from voice_guide.errors import EngineError
from voice_guide.fileio import check_stop

T = TypeVar("T")

EXIT_WAIT = 20.0
"""Longest wait at exit for the loads still running, all together: a native engine (onnxruntime,
CTranslate2) whose loading thread is cut off by the interpreter's exit aborts the process in C++
("terminate called without an active exception") instead of the stop's exit 130 and one line."""
WAIT_SLICE = 0.1
"""`get` looks for a stop this often while it waits (`fileio.check_stop`)."""
STOP_EXIT = EXIT_WAIT + 5.0
"""Longest a stopped run takes to end once its last line is out, past the waits above: the
interpreter's exit joins every thread and exit handler without a limit, and a thread that never
returned held it (a CI run's stopped `read --input` said "stopped." and was still there 60 s on)."""
_loading: list[threading.Event] = []
"""The loads started in this process, waited for at exit."""


@atexit.register
def _wait_for_loads() -> None:
    deadline = time.monotonic() + EXIT_WAIT
    for done in _loading:
        done.wait(max(0.0, deadline - time.monotonic()))


def exit_within(seconds: float, code: int) -> None:
    """End the process with `code` after `seconds` unless it has ended by itself by then."""
    def end() -> None:
        time.sleep(seconds)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)

    threading.Thread(target=end, name="voice-guide-exit", daemon=True).start()


class Deferred(Generic[T]):
    """A value made by `make()` in a background thread, started at once or by `start()` (`get()`
    starts it too); `get()` waits for it and raises its error."""

    def __init__(self, make: Callable[[], T], name: str = "voice-guide-loading", start: bool = True) -> None:
        self._make = make
        self._done = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._lock = threading.Lock()
        if start:
            self.start()

    def start(self) -> None:
        with self._lock:
            if not self._thread.is_alive() and not self._done.is_set() and self._thread.ident is None:
                _loading[:] = [done for done in _loading if not done.is_set()]
                _loading.append(self._done)
                self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._make()
        except BaseException as exc:  # handed to whoever asks for the value
            self._error = exc
        finally:
            self._done.set()

    def ready(self) -> bool:
        return self._done.is_set()

    def get(self, timeout: float | None = None) -> T:
        self.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._done.wait(WAIT_SLICE if deadline is None else min(WAIT_SLICE, deadline - time.monotonic())):
            check_stop()
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError("still loading")
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


class LoadingRecognizer:
    """A recogniser opened in the background: the first utterance waits for it. What its opening has
    to tell the user (a fallback, or that it cannot hear at all) goes to `tell(sentence, deaf)` with
    that first utterance, a fixed point in the conversation; one that cannot be opened then hears
    nothing, so the keys still work."""

    name = "loading"
    notice = ""
    """Said through `tell` with the first utterance instead (see above)."""

    def __init__(self, open_recognizer: Callable[[], Recognizer], tell: Callable[[str, bool], None]) -> None:
        self._recognizer = Deferred(open_recognizer, name="voice-guide-recogniser", start=False)
        self._tell = tell
        self._told = False

    def start(self) -> None:
        """Begin opening it (once the guide's first words are playing)."""
        self._recognizer.start()

    def ready(self) -> bool:
        return self._recognizer.ready()

    def decode(self, audio: Audio) -> list[Hypothesis]:
        try:
            recognizer = self._recognizer.get()
        except EngineError as err:
            self._once(f"{err} I will not hear you this time; use the keyboard, or question mark for help.", True)
            return []
        self._once(recognizer.notice, False)
        self.name = recognizer.name
        return recognizer.decode(audio)

    @property
    def encoder(self) -> str:
        """The loaded recogniser's encoder (`command_model.Encoding`; waits for it), or "" when it has
        none or could not be opened (its own failure is told by `decode`)."""
        try:
            return getattr(self._recognizer.get(), "encoder", "")
        except EngineError:
            return ""

    def encoder_states(self, audio: Audio):
        return self._recognizer.get().encoder_states(audio)  # type: ignore[attr-defined]

    def _once(self, text: str, deaf: bool) -> None:
        if not self._told:
            self._told = True
            if text:
                self._tell(text, deaf)


class LoadingScorer:
    """The command model opened in the background, like `LoadingRecognizer`: when it cannot be opened,
    what went wrong is told once (`tell`) and every utterance gets no scores, so Whisper and the matcher
    decide alone; with a recogniser that has no encoder for it (not Whisper), it is not used, untold."""

    def __init__(self, open_scorer: Callable[[], "object"], tell: Callable[[str, bool], None]) -> None:
        self._scorer = Deferred(open_scorer, name="voice-guide-command-model", start=False)
        self._tell = tell
        self._told = False

    def start(self) -> None:
        self._scorer.start()

    def scores(self, audio: Audio) -> dict:
        try:
            scorer = self._scorer.get()
        except EngineError as err:
            if not self._told:
                self._told = True
                self._tell(f"{err} I will understand you with Whisper alone.", False)
            return {}
        return {} if scorer is None else scorer.scores(audio)  # type: ignore[attr-defined]
