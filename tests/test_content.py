"""The guide's content: it loads, keeps every fact of the clinic's article, never asks for exercises or
force, is written for the ear, and malformed files are refused with the file and field named."""

from __future__ import annotations

import re

import pytest

from voice_guide.content import loader
from voice_guide.content.loader import (
    Library,
    estimate_speech_seconds,
    fixed_seconds,
    item_from_dict,
    item_from_toml,
    library_from_items,
    load_library,
    planned_seconds,
)
from voice_guide.content.model import Item, Step
from voice_guide.errors import ContentError, UsageError

TOPICS = [
    "safety-notice", "what-is-facial-palsy", "recovery-courses", "causes-and-prognosis", "what-to-do",
    "what-not-to-do", "five-suggestions", "what-to-expect",
]
SESSIONS = {"quiet-face": 600, "muscle-by-muscle": 300, "self-massage": 210}
DEFAULT_RATE = 150


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def spoken_texts(item: Item) -> list[str]:
    """Everything of an item that may be said aloud: title, summary, step words, labels and titles."""
    return [item.title, item.summary, *(s.say for s in item.steps), *(s.label for s in item.steps),
            *(s.title for s in item.steps)]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def all_sentences(library: Library) -> list[tuple[str, str]]:
    return [(item.name, s) for item in library.items for t in spoken_texts(item) for s in sentences(t)]


# --- the library ----------------------------------------------------------------------------------


def test_library_holds_every_topic_and_session(library):
    assert [i.name for i in library.topics()] == TOPICS
    assert {i.name: i.length for i in library.sessions()} == SESSIONS
    assert library.names() == TOPICS + list(SESSIONS)


def test_safety_notice_is_first_and_the_only_one_marked(library):
    first = library.items[0]
    assert first.name == "safety-notice" and first.safety and first.order == 0
    assert [i.name for i in library.items if i.safety] == ["safety-notice"]
    text = first.text
    for phrase in ("emergency services now", "an arm or a leg", "trouble speaking", "at once",
                   "ear, nose and throat doctor", "neurologist"):
        assert phrase in text


@pytest.mark.parametrize("query, name", [
    ("self-massage", "self-massage"),
    ("SELF-MASSAGE", "self-massage"),
    ("self massage", "self-massage"),
    ("Start Massage", "self-massage"),
    ("massage", "self-massage"),
    ("what to do", "what-to-do"),
    ("What not to do", "what-not-to-do"),
    ("Gentle self massage", "self-massage"),
    ("quiet sitting", "quiet-face"),
    ("muscle by muscle", "muscle-by-muscle"),
    ("Bell's palsy", "causes-and-prognosis"),
    ("safety", "safety-notice"),
])
def test_get_accepts_name_title_and_alias_in_any_case(library, query, name):
    assert library.get(query).name == name


@pytest.mark.parametrize("query", ["", "exercises", "massagee", "quiet"])
def test_get_miss_is_a_usage_error_listing_every_name(library, query):
    with pytest.raises(UsageError) as info:
        library.get(query)
    assert info.value.exit_code == 2
    for name in library.names():
        assert name in str(info.value)


# --- fidelity to the article ----------------------------------------------------------------------

FACTS = {
    "safety-notice": ["emergency services", "neurologist", "E N T doctor"],
    "what-is-facial-palsy": [
        "unilateral paralysis", "one side", "facial nerve is damaged",
        "connects the brain with the facial muscles",
        "compression", "swelling of the tissue", "temporal bone", "very long and curved channel",
        "quite vulnerable", "bacterial or viral infection",
    ],
    "recovery-courses": [
        "two possible courses", "2 to 5 weeks", "completely", "full spontaneous recovery", "as before",
        "superficial", "thick telephone cable", "insulated wires", "insulation is the myelin sheath",
        "The wire is the axon", "electrical signals from the brain to the muscles",
        "physical connection", "much more time", "resources", "one, two, three months or more",
        "first signs", "quite a high probability", "incomplete", "residuals and complications",
    ],
    "causes-and-prognosis": [
        "classical Bell's palsy", "more favourable", "diagnosis of exclusion", "no particular cause",
        "Ramsay Hunt syndrome", "herpetic eruption", "tumours", "after an operation", "trauma",
        "heavy swelling", "does not go away quickly", "longer time", "more severely",
    ],
    "what-to-do": [
        "See a doctor immediately", "ear, nose and throat doctor", "E N T doctor", "neurologist",
        "good understanding of facial palsy", "inflammation", "bacterial or viral infection",
        "tumour that is slowly developing", "cerebellopontine angle", "acute phase",
        "reduce the compression", "as soon as possible", "prednisone", "steroid",
        "main purpose is to reduce the swelling", "antivirals", "medicines against bacteria",
    ],
    "what-not-to-do": [
        "Do not panic", "do not despair", "blink", "slurred", "Regeneration starts at the very moment",
        "reconnect", "movements will return", "couple of weeks", "2 months", "3 months",
        "no way to quickly switch", "grass", "overnight", "two or three days", "a week",
        "laws of nature", "cut your finger", "next morning", "take time", "feel hopeless",
        "suppress our immune system", "stay calm", "emotional balance", "Do nice things",
        "a lot of rest", "go to sleep", "do nothing", "positive state of mind",
    ],
    "five-suggestions": [
        "no way to improve the recovery dramatically", "Suggestion number 1", "Suggestion number 2",
        "Suggestion number 3", "Suggestion number 4", "Suggestion number 5",
        "do not try to force your face into facial expressions", "a couple of times a day",
        "about 10 minutes", "Listen to your face", "sensory balance", "affected side", "healthy side",
        "one whole unit", "two separate halves", "We do not recommend any facial exercises",
        "pronouncing letters or sounds", "synkinesis", "contractures", "tension", "rigidity",
        "pulling sensations", "one by one", "over-amplifying", "big deal", "background relaxation",
        "proportional", "2, 3 or 5 minutes", "as much as you can", "both hands",
        "both sides of your face at the same time", "three or four minutes", "a few drops",
        "oil or gel", "do not pull your skin", "slow, gently stroking", "no need for any special technique",
        "from the midline outwards", "from the lower face upwards", "do not use force",
        "calm, tranquil state of mind and emotions",
    ],
    "what-to-expect": [
        "do not worry", "absolute majority of cases", "recovery is complete", "small fraction",
        "residuals and complications", "write to the clinic", "symmetry", "smile", "Crystal Touch",
    ],
    "quiet-face": [
        "10 minutes", "one whole unit", "two separate halves", "sensory balance", "affected side",
        "healthy side", "a couple of times a day", "Listen to it",
    ],
    "muscle-by-muscle": [
        "one by one", "rigidity", "pulling sensations", "contractures", "synkinesis",
        "a few times a day", "2, 3 or 5 minutes", "as much as you can",
    ],
    "self-massage": [
        "three or four minutes", "both hands", "both sides of your face at the same time", "a few drops",
        "oil or gel", "do not pull your skin", "slow, gently stroking", "no special technique",
        "from the midline outwards", "from the lower face upwards", "no force", "calm, tranquil state",
        "sensory balance",
    ],
}


@pytest.mark.parametrize("name, phrase", [(n, p) for n, phrases in FACTS.items() for p in phrases])
def test_every_fact_of_the_article_is_spoken(library, name, phrase):
    assert phrase.lower() in " ".join(spoken_texts(library.get(name))).lower()


def test_no_number_outside_the_articles_numbers(library):
    """Every figure spoken is one the article uses (its durations, or a suggestion's number)."""
    allowed = {"1", "2", "3", "4", "5", "10"}
    found = {n for _, s in all_sentences(library) for n in re.findall(r"\d+", s)}
    assert found <= allowed


# --- no exercises, no force -----------------------------------------------------------------------

NEGATION = re.compile(r"\b(?:not|no|never|without|avoid|nothing|nor)\b|n't", re.I)
SENSITIVE = re.compile(
    r"\bexercis\w*|\bforc(?:e|es|ed|ing)\b|\bfaces\b|\bfacial expressions?\b|\bpronounc\w*|"
    r"\btens(?:e|ed|es|ing|ion)\b|\btighten\w*|\bcontract(?:s|ed|ing)?\b|\bcontractions?\b|\bsqueez\w*|"
    r"\bstrain\w*|\bvoluntary\b|\bpush\w*|\bclench\w*|\btight\w*|\bgrimac\w*|\bpractis\w*|\btrain(?:ing)?\b",
    re.I,
)
FILLERS = re.compile(r"^(?:now|please|gently|slowly|softly|just|also|and|then|so|try to|try and|"
                     r"carefully|lightly|firmly|again|next|first)\b\s*", re.I)
FORBIDDEN_IMPERATIVES = [
    r"smile", r"frown", r"pucker", r"purse", r"wrinkle", r"raise", r"lift", r"blink", r"puff", r"blow",
    r"whistle", r"clench", r"squeeze", r"tense", r"tighten", r"contract", r"flex", r"stretch", r"push",
    r"press", r"pull", r"grimace", r"pout", r"wink", r"move", r"show your teeth", r"open your mouth",
    r"close your eyes tight\w*", r"say the (?:letter|sound|word)", r"pronounce", r"repeat after me",
    r"make (?:a face|faces|an expression|expressions|a sound|the sound|a movement)", r"practi[sc]e",
    r"exercise", r"train", r"force", r"work your", r"activate", r"hold your (?:lips|mouth|brows?)",
]
IMPERATIVE = re.compile(r"^(?:" + "|".join(FORBIDDEN_IMPERATIVES) + r")\b", re.I)


def problems_in(sentence: str) -> list[str]:
    """Why a spoken sentence could be heard as an instruction to exercise or force the face."""
    found = []
    if SENSITIVE.search(sentence) and not NEGATION.search(sentence):
        found.append("mentions exercise, force or faces without a negation")
    clauses = re.split(r"[,;:]\s*|\s+\b(?:and|then|or)\b\s+", sentence)
    seen = ""
    for clause in clauses:
        bare = clause.strip()
        while FILLERS.match(bare):
            bare = FILLERS.sub("", bare, count=1)
        if IMPERATIVE.match(bare) and not NEGATION.search(seen):
            found.append(f"tells the user to {bare.split()[0].lower()}")
        seen += " " + clause
    return found


@pytest.mark.parametrize("sentence", [
    "Smile.",
    "Now gently raise your eyebrows.",
    "Try to close your eyes tightly.",
    "Sit quietly, then pucker your lips.",
    "Breathe in and puff out your cheeks.",
    "Say the letter O ten times.",
    "Pronounce the sounds slowly.",
    "Make a face in the mirror.",
    "Tense the muscle, then let it go.",
    "Contract the frontalis.",
    "Please practise these facial exercises daily.",
    "These exercises help you recover.",
    "Use a little force when you massage.",
    "Move the corner of your mouth up.",
    "Press firmly into the cheek.",
])
def test_the_scanner_catches_instructions_to_exercise_or_force(sentence):
    assert problems_in(sentence)


@pytest.mark.parametrize("sentence", [
    "We do not recommend any facial exercises.",
    "Do not move it, tense it or contract it.",
    "There is no special technique, and no force.",
    "Do not press hard.",
    "Let it soften.",
    "Stroke slowly outwards along your jaw.",
])
def test_the_scanner_lets_negated_and_gentle_sentences_pass(sentence):
    assert problems_in(sentence) == []


def test_nothing_spoken_asks_for_exercises_faces_or_force(library):
    bad = [(name, s, p) for name, s in all_sentences(library) for p in problems_in(s)]
    assert bad == []


def test_muscle_session_only_notices_softens_and_rests(library):
    session = library.get("muscle-by-muscle")
    muscles = {
        "frontalis": "forehead", "corrugator": "between your eyebrows", "orbicularis oculi": "eye",
        "nasalis": "nose", "zygomaticus major": "cheekbone", "orbicularis oris": "lips",
        "buccinator": "cheek", "mentalis": "chin", "platysma": "neck",
    }
    for muscle, place in muscles.items():
        steps = [s for s in session.steps if muscle in s.say]
        assert len(steps) == 1, muscle
        step = steps[0]
        assert place in step.say and muscle in step.label
        assert "Notice it" in step.say and "Let it soften." in step.say and "Let it rest." in step.say
        assert step.hold > 0 and step.cue


# --- written for the ear --------------------------------------------------------------------------


def test_text_has_no_symbols_or_abbreviations_a_voice_would_mangle(library):
    for name, sentence in all_sentences(library):
        assert not re.search(r"[()\[\]{}•*#&/%<>@_|~\"]|\s-\s|^-|\.\.\.", sentence), (name, sentence)
        assert not re.search(r"\b[A-Z]{2,}\b", sentence), (name, sentence)
        assert not re.search(r"\b(?:e\.g|i\.e|etc|approx|min|sec|vs)\b", sentence, re.I), (name, sentence)


def test_sentences_are_short(library):
    long = [(n, s) for n, s in all_sentences(library) if len(s.split()) > 22]
    assert long == []


def test_topic_steps_are_short_paragraphs_with_brief_pauses(library):
    for item in library.topics():
        for i, step in enumerate(item.steps):
            assert 2 <= len(sentences(step.say)) <= 4, (item.name, i)
            assert 0.6 <= step.hold <= 1.0, (item.name, i)


def test_suggestions_are_numbered_in_order(library):
    text = library.get("five-suggestions").text
    positions = [text.index(f"Suggestion number {n}") for n in range(1, 6)]
    assert positions == sorted(positions)


# --- sessions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SESSIONS))
def test_session_has_one_fill_and_fits_its_length(library, name):
    session = library.get(name)
    assert sum(s.fill for s in session.steps) == 1
    assert planned_seconds(session, DEFAULT_RATE) == session.length
    title_gap = 1.0
    spare = session.length - fixed_seconds(session, DEFAULT_RATE) - title_gap
    assert spare >= 20, f"{name}: only {spare:.0f} s left for the fill hold at {DEFAULT_RATE} wpm"


@pytest.mark.parametrize("name", list(SESSIONS))
def test_session_opens_with_orientation_and_closes_calmly(library, name):
    session = library.get(name)
    assert session.steps[0].label == "start" and not session.steps[0].fill
    assert session.steps[-1].label == "end" and "end of" in session.steps[-1].say
    assert all(step.label for step in session.steps)


def test_quiet_face_has_a_long_cued_hold_with_halfway(library):
    session = library.get("quiet-face")
    fill = next(s for s in session.steps if s.fill)
    assert fill.cue and fill.halfway
    assert session.length - fixed_seconds(session, DEFAULT_RATE) > 240


# --- estimates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, rate, seconds", [
    ("", 150, 0.0),
    ("one two three", 60, 3.0),
    (" ".join(["word"] * 150), 150, 60.0),
    ("Bell's palsy, 2 to 5 weeks.", 120, 3.0),
])
def test_estimate_speech_seconds(text, rate, seconds):
    assert estimate_speech_seconds(text, rate) == pytest.approx(seconds)


def test_estimate_refuses_a_zero_rate():
    with pytest.raises(ValueError):
        estimate_speech_seconds("hello", 0)


def test_planned_seconds_of_a_topic_is_speech_plus_holds():
    topic = Item(name="t", title="Two words", kind="topic",
                 steps=(Step(say="one two three", hold=1.0), Step(say="four", hold=0.5)))
    assert planned_seconds(topic, 60) == pytest.approx(2 + 3 + 1 + 1.5)


# --- validation -----------------------------------------------------------------------------------


def topic(**changes) -> dict:
    data = {"name": "t", "title": "A topic", "kind": "topic", "order": 1, "summary": "A summary.",
            "steps": [{"say": "Hello there. Be calm.", "hold": 0.8}]}
    data.update(changes)
    return data


def session(**changes) -> dict:
    data = {"name": "t", "title": "A session", "kind": "session", "order": 10, "summary": "A summary.",
            "length": 60, "steps": [{"say": "Sit quietly.", "hold": 2},
                                    {"say": "Rest.", "fill": True, "cue": True},
                                    {"say": "The end.", "hold": 1, "label": "end"}]}
    data.update(changes)
    return data


def without(data: dict, key: str) -> dict:
    return {k: v for k, v in data.items() if k != key}


def with_step(data: dict, index: int, **changes) -> dict:
    steps = [dict(s) for s in data["steps"]]
    steps[index].update(changes)
    return {**data, "steps": steps}


BAD = [
    ("not a table", ["x"], "table"),
    ("unknown field", topic(colour="red"), "colour"),
    ("missing name", without(topic(), "name"), "name"),
    ("missing title", without(topic(), "title"), "title"),
    ("missing order", without(topic(), "order"), "order"),
    ("missing summary", without(topic(), "summary"), "summary"),
    ("missing steps", without(topic(), "steps"), "steps"),
    ("name not the file stem", topic(name="other"), "name"),
    ("name not a slug", topic(name="T"), "name"),
    ("title not text", topic(title=3), "title"),
    ("empty title", topic(title="  "), "title"),
    ("unknown kind", topic(kind="lesson"), "kind"),
    ("order not whole", topic(order=1.5), "order"),
    ("order a bool", topic(order=True), "order"),
    ("aliases not a list", topic(aliases="massage"), "aliases"),
    ("alias empty", topic(aliases=["ok", ""]), "aliases[1]"),
    ("safety not a bool", topic(safety="yes"), "safety"),
    ("topic with length", topic(length=30), "length"),
    ("no steps", topic(steps=[]), "steps"),
    ("step not a table", topic(steps=["Hello."]), "steps[0]"),
    ("unknown step field", with_step(topic(), 0, pause=1), "steps[0].pause"),
    ("topic step without say", topic(steps=[{"hold": 1}]), "steps[0].say"),
    ("topic step empty say", with_step(topic(), 0, say=" "), "steps[0].say"),
    ("say not text", with_step(topic(), 0, say=["a"]), "steps[0].say"),
    ("negative hold", with_step(topic(), 0, hold=-1), "steps[0].hold"),
    ("hold not a number", with_step(topic(), 0, hold="2"), "steps[0].hold"),
    ("hold a bool", with_step(topic(), 0, hold=True), "steps[0].hold"),
    ("hold infinite", with_step(topic(), 0, hold=float("inf")), "steps[0].hold"),
    ("topic with fill", with_step(topic(), 0, fill=True), "steps[0].fill"),
    ("topic with halfway", with_step(topic(), 0, halfway=True), "steps[0].halfway"),
    ("cue not a bool", with_step(topic(), 0, cue=1), "steps[0].cue"),
    ("label not text", with_step(topic(), 0, label=2), "steps[0].label"),
    ("session without length", without(session(), "length"), "length"),
    ("session length zero", session(length=0), "length"),
    ("session length text", session(length="10 minutes"), "length"),
    ("session without fill", with_step(session(), 1, fill=False, hold=5), "fill"),
    ("session with two fills", with_step(session(), 0, fill=True), "fill"),
    ("cue on an empty hold", with_step(session(), 0, cue=True, hold=0), "steps[0].cue"),
    ("halfway on an empty hold", with_step(session(), 2, halfway=True, hold=0), "steps[2].halfway"),
    ("step that does nothing", with_step(session(), 0, say="", hold=0), "steps[0].say"),
    ("bad hold in a later step", with_step(session(), 2, hold=-3), "steps[2].hold must be a number"),
]


@pytest.mark.parametrize("why, data, field", BAD, ids=[b[0] for b in BAD])
def test_bad_content_names_the_file_and_the_field(why, data, field):
    with pytest.raises(ContentError) as info:
        item_from_dict(data, "sessions/t.toml")
    message = str(info.value)
    assert message.startswith("sessions/t.toml: ")
    assert field in message
    assert info.value.exit_code == 3


def test_good_dicts_load():
    assert item_from_dict(topic(), "topics/t.toml").steps[0].say == "Hello there. Be calm."
    item = item_from_dict(session(aliases=["a thing"]), "sessions/t.toml")
    assert item.length == 60.0 and item.aliases == ("a thing",) and item.steps[1].fill


def test_text_is_joined_into_single_spaced_lines():
    item = item_from_toml('name = "t"\ntitle = "T"\nkind = "topic"\norder = 1\nsummary = "S."\n'
                          '[[steps]]\nsay = """\nOne line.\n  Two   lines.\n"""\n', "topics/t.toml")
    assert item.steps[0].say == "One line. Two lines."


def test_broken_toml_names_the_file():
    with pytest.raises(ContentError, match=r"^topics/t\.toml: not valid TOML"):
        item_from_toml('name = "t\n', "topics/t.toml")


def test_duplicate_names_titles_and_aliases_are_refused():
    a = item_from_dict(topic(aliases=["start massage"]), "topics/t.toml")
    b = item_from_dict(session(name="u", aliases=["Start-Massage"]), "sessions/u.toml")
    clash = r"^sessions/u\.toml: aliases\[0\] 'Start-Massage'.*topics/t\.toml"
    with pytest.raises(ContentError, match=clash):
        library_from_items([("topics/t.toml", a), ("sessions/u.toml", b)])
    c = item_from_dict(session(name="t"), "sessions/t.toml")
    with pytest.raises(ContentError, match=r"^sessions/t\.toml: name 't'"):
        library_from_items([("topics/t.toml", a), ("sessions/t.toml", c)])


def test_an_alias_may_repeat_its_own_name():
    item = item_from_dict(topic(aliases=["T", "t"]), "topics/t.toml")
    assert library_from_items([("topics/t.toml", item)]).get("t") is item


def test_items_are_ordered_by_order_then_name():
    a = item_from_dict(topic(name="b", order=2), "topics/b.toml")
    b = item_from_dict(topic(name="a", order=2, title="Another"), "topics/a.toml")
    c = item_from_dict(topic(name="c", order=1, title="First"), "topics/c.toml")
    lib = library_from_items([("topics/b.toml", a), ("topics/a.toml", b), ("topics/c.toml", c)])
    assert lib.names() == ["c", "a", "b"]


def test_load_library_from_a_folder(tmp_path):
    (tmp_path / "topics").mkdir()
    (tmp_path / "sessions").mkdir()
    (tmp_path / "topics" / "t.toml").write_text(
        'name = "t"\ntitle = "T"\nkind = "topic"\norder = 1\nsummary = "S."\n[[steps]]\nsay = "Hi. Bye."\n',
        encoding="utf-8")
    assert load_library(tmp_path).names() == ["t"]
    (tmp_path / "sessions" / "s.toml").write_text(
        'name = "s"\ntitle = "S"\nkind = "topic"\norder = 2\nsummary = "S."\n[[steps]]\nsay = "Hi. Bye."\n',
        encoding="utf-8")
    with pytest.raises(ContentError, match=r"^sessions/s\.toml: kind must be \"session\""):
        load_library(tmp_path)


def test_load_library_from_an_empty_folder_says_so(tmp_path):
    with pytest.raises(ContentError, match="no topics or sessions"):
        load_library(tmp_path)


def test_default_folder_is_the_packages_own():
    assert (loader.CONTENT_DIR / "topics" / "safety-notice.toml").is_file()


def test_no_content_tells_the_user_how_to_give_a_command():
    """Content is said alike with a microphone and with only keys: which word to say or which key to
    press is the session's to tell (in the form that is true now), never the content's."""
    import re

    for item in load_library().items:
        for text in [item.title, *(s.say for s in item.steps)]:
            assert not re.search(r"\b(you can|please|just) (say|press|type)\b|\bpress (space|a key|any)\b", text, re.I), (item.name, text)
