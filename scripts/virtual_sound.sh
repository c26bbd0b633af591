#!/usr/bin/env bash
# A virtual sound card for tests and CI (no hardware needed): a PulseAudio daemon with a null sink
# "vsink" whose monitor "vsink.monitor" is the default source, so what is played can be recorded.
#
#   eval "$(scripts/virtual_sound.sh)"      # start (idempotent); prints the PULSE_SERVER export
#   scripts/virtual_sound.sh stop           # stop the daemon and the monitor reader
#
# Works as root or as a user, with no XDG_RUNTIME_DIR and no D-Bus. Only the export line goes to
# stdout; progress and errors go to stderr. PULSE_LATENCY_MSEC is deliberately left alone.
set -euo pipefail

BASE="${VOICE_GUIDE_PULSE_DIR:-/tmp/voice-guide-pulse}"
SOCKET="$BASE/native"
SERVER="unix:$SOCKET"
RUNTIME="$BASE/runtime"
STATE="$BASE/state"
CONFIG="$BASE/daemon.pa"
LOG="$BASE/pulseaudio.log"
PAREC_PID="$BASE/parec.pid"

say() { echo "virtual_sound: $*" >&2; }

answers() { PULSE_SERVER="$SERVER" timeout 5 pactl info >/dev/null 2>&1; }

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

daemon_env() {
    # A private home for the daemon: it needs writable runtime/state folders and must not look for
    # a session bus or another user's daemon.
    env -u DBUS_SESSION_BUS_ADDRESS \
        HOME="$STATE" XDG_RUNTIME_DIR="$RUNTIME" XDG_CONFIG_HOME="$STATE/config" \
        PULSE_RUNTIME_PATH="$RUNTIME/pulse" PULSE_STATE_PATH="$STATE/pulse" \
        PULSE_SERVER="$SERVER" "$@"
}

stop() {
    if alive "$PAREC_PID"; then
        kill "$(cat "$PAREC_PID")" 2>/dev/null || true
    fi
    rm -f "$PAREC_PID"
    if answers; then
        daemon_env pulseaudio --kill >/dev/null 2>&1 || true
        for _ in $(seq 50); do answers || break; sleep 0.1; done
    fi
    if answers; then
        say "the sound server at $SOCKET did not stop"
        exit 1
    fi
    say "stopped"
}

start_daemon() {
    command -v pulseaudio >/dev/null || { say "pulseaudio is not installed; run scripts/setup.sh (or apt-get install pulseaudio pulseaudio-utils)"; exit 1; }
    command -v pactl >/dev/null || { say "pactl is missing; apt-get install pulseaudio-utils"; exit 1; }
    mkdir -p "$BASE" "$STATE/config" "$STATE/pulse"
    mkdir -p -m 700 "$RUNTIME" "$RUNTIME/pulse"
    chmod 700 "$RUNTIME" "$RUNTIME/pulse"
    rm -f "$SOCKET"
    cat >"$CONFIG" <<EOF
load-module module-native-protocol-unix auth-anonymous=1 socket=$SOCKET
load-module module-null-sink sink_name=vsink sink_properties=device.description=voice-guide-virtual-sink
set-default-sink vsink
set-default-source vsink.monitor
EOF
    # -n: no default script (no hardware probing, no D-Bus/X11 modules); never exit when idle.
    # Root may run a per-user daemon: pulseaudio only warns, and --system would need a pulse user.
    daemon_env pulseaudio -n --file="$CONFIG" --daemonize=yes --exit-idle-time=-1 \
        --use-pid-file=yes --log-target="file:$LOG" --log-level=notice \
        --disallow-module-loading=no --realtime=no --high-priority=no 2>>"$LOG" || {
        say "pulseaudio did not start; see $LOG"
        tail -n 20 "$LOG" >&2 || true
        exit 1
    }
    for _ in $(seq 100); do answers && return 0; sleep 0.1; done
    say "pulseaudio started but does not answer at $SOCKET; see $LOG"
    exit 1
}

start() {
    if answers; then
        say "sound server already running at $SOCKET"
    else
        start_daemon
        say "started sound server at $SOCKET"
    fi
    PULSE_SERVER="$SERVER" pactl set-default-sink vsink >/dev/null
    PULSE_SERVER="$SERVER" pactl set-default-source vsink.monitor >/dev/null
    # One reader kept on the monitor, asking for low latency: the null sink runs at the lowest latency
    # any client asks for: with a default parec (2 s) every playback start waits ~2 s, and below
    # ~100 ms PortAudio streams underrun.
    if ! alive "$PAREC_PID"; then
        PULSE_SERVER="$SERVER" nohup setsid parec --device=vsink.monitor --raw --latency-msec=100 >/dev/null 2>&1 </dev/null &
        echo $! >"$PAREC_PID"
    fi
    echo "export PULSE_SERVER=$SERVER"
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    *) say "usage: $0 [start|stop]"; exit 2 ;;
esac
