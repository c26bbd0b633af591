"""The `voice-guide` command's own set-up, before any subcommand runs."""

import os
import subprocess
import sys


def test_the_command_keeps_numpy_to_one_blas_thread_unless_told_otherwise():
    """Set before numpy loads: BLAS threads per core made each microphone block wait on a busy machine."""
    code = "import os; import voice_guide.cli; print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "1"
    env["OPENBLAS_NUM_THREADS"] = "2"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "2"
