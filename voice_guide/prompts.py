"""The sentences that tell the user how to answer, in the form they can use: spoken commands when the
guide is listening, keys when it is not (`--no-listen`, no microphone, or the microphone gone). Pure.
"""

from __future__ import annotations

TEACH_HELP = "To teach me how you say a word, say, for example: teach me pause again."


def yes_no(hears: bool) -> str:
    return "Say yes or no." if hears else "Press y for yes, or n for no."


def go_on(hears: bool, read_only: bool) -> str:
    """After 'Paused.'"""
    if hears:
        return "Say resume to go on, " + ("or stop to finish." if read_only else "or menu to choose something else.")
    return "Press space to go on, " + ("or q to finish." if read_only else "or m for the menu.")


def resume_offer(hears: bool, in_item: bool) -> str:
    """After 'Last time you were at step 4 of ...'"""
    then = "start from the beginning" if in_item else "start from the menu"
    if hears:
        return f"Say yes to go on from there, or no to {then}." if in_item else f"Say yes to go on, or no to {then}."
    return f"Press y to go on, or n to {then}."


def help_text(mode: str, hears: bool) -> str:
    """What the user can do right now: `mode` is 'menu', 'paused', 'running' or 'question'."""
    if mode == "question":
        return "Say yes or no." if hears else "Press y for yes, or n for no."
    if not hears:
        return {
            "menu": "Keys: type the number of a topic or a session, and wait a moment or press Enter. "
                    "Press l to hear the list, plus or minus for faster or slower, greater or less than for "
                    "louder or quieter, and q to quit.",
            "paused": "Keys: space to go on, n for next, b for back, r to repeat, w for where, plus or minus "
                      "for faster or slower, m for the menu, q to quit.",
        }.get(mode, "Keys: space to pause, n for next, b for back, r to repeat, w for where, plus or minus for "
                    "faster or slower, greater or less than for louder or quieter, m for the menu, q to quit. "
                    "Type a number to go to that step.")
    if mode == "menu":
        return ("Say the name of a topic or a session, for example: safety notice, or: start massage. "
                "Say list to hear them all. You can also say slower, faster, louder, quieter, or stop. "
                f"{TEACH_HELP}")
    if mode == "paused":
        return ("Say resume to go on. You can also say next, back, repeat, where, slower, faster, or menu. "
                f"{TEACH_HELP}")
    return "You can say pause, next, back, repeat, where, slower, faster, louder, quieter, or menu."
