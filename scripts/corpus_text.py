"""What the training corpus says that is not a command: everyday room talk (a training list and a
separate held-out list, never both), room talk with a command's word in it (training only), near
misses of command words, and the guide's own sentences
(make_corpus.guide_sentences), split between training and held out."""

from __future__ import annotations

from functools import lru_cache

from make_corpus import EVERYDAY, OTHER_WORDS, guide_sentences

MORE_CHATTER = [
    "I'll be there in a minute", "did you feed the dog", "the post has come", "put the kettle on",
    "have you seen my keys", "it's cold in here", "shall I open the window", "what's for dinner",
    "I need to ring my sister", "the bus was late again", "can you turn the telly off",
    "my eye feels dry today", "I slept badly last night", "let's go for a walk later",
    "the appointment is on tuesday", "I can't find the remote", "the neighbours are noisy",
    "pass me the tissues", "I think it's going to rain", "we're out of milk", "that was lovely",
    "I'm a bit tired", "did anyone call", "my cheek feels numb", "is it lunchtime yet",
    "the doctor said to rest", "I'll do it tomorrow", "not bad thanks", "we should tidy up",
    "look at the time", "I'm just reading", "whose turn is it", "the washing is done",
    "could you help me with this jar", "oh that's annoying", "let me have a look",
    "I don't feel like cooking", "there's someone at the door", "where did I put my phone",
    "it's quite sunny outside",
]
"""Training room talk, besides make_corpus.EVERYDAY."""

HELDOUT_CHATTER = [
    "I'm going upstairs for a bit", "the plumber is coming at ten", "have you had breakfast",
    "my tea has gone cold", "the garden needs watering", "I'll ask the chemist about it",
    "can you hear the birds", "what a lovely day", "I left my glasses in the car",
    "the radio is too loud", "it's nearly dinner time", "we need more bread", "I'm watching the news",
    "she rang this morning", "that's a good idea", "I can't remember his name", "the cat is asleep",
    "put it on the table", "my face is a little better", "I'll see you at the weekend",
    "the heating is on", "there's a letter for you", "the shop closes at six",
    "I had a nice chat with her", "let's sit in the garden", "the traffic was terrible",
    "I need a new toothbrush", "is it still raining", "what day is it today", "I'll make us a sandwich",
    "turn the light on would you", "the film starts at eight", "he said he'd come round",
    "I'm trying to rest", "that smells nice", "the clock is slow", "I can't open this",
    "did you lock the door", "my sister sends her love", "we had a lovely walk",
]
"""Held-out room talk: only ever in the held-out split."""

NEAR_MISSES = [
    "left", "right", "on", "off", "hello", "book", "mess", "nest", "text", "neat", "pose", "pores",
    "top", "shop", "stock", "bag", "pack", "peat", "repair", "reason", "assume", "slow motion",
    "lower back", "louvre", "quite", "quieten", "hell", "health", "melon", "money", "where's the cat",
    "weather", "weight", "stopwatch", "fastener", "faster food", "skipper", "nexus", "yesterday",
    "yellow", "nose", "knot", "nod", "go away", "going", "happy", "house", "water", "doctor",
    "coffee", "morning", "thursday", "window", "garden", "paper", "music", "sister", "pillow",
    "basket", "orange", "little", "maybe", "table", "kitchen", "seven", "bird", "tree", "cat",
]
"""Words that sound like commands but are not ("book", "mess", "pose"), and other single words; no
homophone of a command ("paws", "wear", "know"), which no ear could tell apart."""


NEAR_TALK = [
    "the door won't open", "is the shop open", "leave it open", "the jar won't open", "the bus stop",
    "it won't stop raining", "next door's cat", "see you next week", "next time maybe", "come back later",
    "my back hurts", "he's back home", "I'm fed up", "pick it up", "time to wake up", "sit down please",
    "the lift is down", "I can't wait", "help yourself", "that doesn't help", "yes I know", "not again",
    "where are you going", "what's on the menu", "it's louder outside", "the music is too quiet",
    "skip breakfast", "start the car", "I'll go on my own", "hold the door", "back in a minute",
    "up the stairs", "down the road", "it's a bit louder", "can't stop coughing", "go back to bed",
    "open the curtains", "open your eyes", "I need help with this", "where's my cup", "say that to her",
    "up and down", "the quiet room", "slower than usual", "faster than me", "resume work tomorrow",
    "step outside", "mute the telly", "I'm done", "read the paper", "what's the time", "I can't hear you",
]
"""Training room talk with a command's word in it, which the matcher does not act on ("the door won't
open", "my back hurts"): the room talk a model of the guide's phrases most easily takes for a command.
None says what a person asking the guide for something would ("say that again", "help me up")."""


def chatter(split: str) -> list[str]:
    return HELDOUT_CHATTER if split == "heldout" else list(dict.fromkeys(EVERYDAY + MORE_CHATTER))


def near_misses(split: str) -> list[str]:
    """Every other near miss is held out, so the held-out ones are words training never heard."""
    words = list(dict.fromkeys(NEAR_MISSES + OTHER_WORDS))
    return words[1::4] if split == "heldout" else [w for i, w in enumerate(words) if i % 4 != 1]


@lru_cache(maxsize=2)
def _guide(limit: int) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.lower().rstrip(".!?") for s in guide_sentences(limit)))


def guide_lines(split: str, limit: int = 120) -> list[str]:
    """The guide's own sentences (its echo); every fourth one is held out."""
    said = _guide(limit)
    return said[::4] if split == "heldout" else [s for i, s in enumerate(said) if i % 4]
