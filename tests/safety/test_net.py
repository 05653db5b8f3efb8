"""How the crisis net reads what people write (webapp/safety/check.py), and its measure on
the labelled sets (`flask safety check`)."""

from __future__ import annotations

import re

import pytest

from webapp import content
from webapp.safety import check, corpus


@pytest.fixture(scope="module")
def net():
    loaded, errors = content.load(content.CONTENT_DIR)
    assert errors == []
    return loaded.crisis


def _phrases(tmp_path, body: str) -> check.CrisisPhrases:
    path = tmp_path / "crisis.yaml"
    path.write_text(body + "\nhelp:\n  - name: x\n    detail: y\n")
    return check.load(path)


@pytest.mark.parametrize(
    "words",
    [
        "I keep thinking about killing myself",  # a word form
        "killed myself in my dreams last night and woke up relieved",
        "i want 2 die",  # text speak
        "im gonna end it all tonight",
        "thinkin bout killin myself",  # dropped g
        "some days i want to kil myself",  # a letter missing
        "i have been feeling sucidal",  # a letter missing from a long word
        "I might take all of my tablets at once",  # words between
        "been saving up my pills for weeks",
        "i dont want to wake up tomorrow",  # indirect
        "everyone would be better off without me",
        "i am just a burden to my family",
        "he took my bank card and my pension",  # harm from others
        "my son locks me in my room when he goes out",
        "my husband threatened me again",
    ],
)
def test_the_ways_people_write_a_crisis_are_caught(net, words):
    assert net.check(words) is not None, words


@pytest.mark.parametrize(
    "words",
    [
        "my feet are killing me after that walk",
        "dying for a cup of tea",
        "i could kill for a biscuit",
        "picked up my pills from the chemist",  # pill is not kill
        "i will try again next week",  # will is not kill
        "hope the appointment goes well",  # hope is not rope
        "i was so hungry i could have eaten a horse",  # eaten is not beaten
        "took all my tablets this morning like i should",
        "my mum died three years ago and i still miss her",
        "cut down on bread and sugar this month",
        "I need to buy more tablets at the chemist",
        "Buy my pills, cheapest online",  # spam, not a crisis
        "",
    ],
)
def test_figures_of_speech_and_near_misses_are_left_alone(net, words):
    assert net.check(words) is None, (words, net.check(words))


def test_a_figure_of_speech_covers_only_its_own_words(tmp_path):
    phrases = _phrases(
        tmp_path,
        "spellings:\n  cant: can not\ncategories:\n  suicide:\n    - can not go on\n"
        "ordinary:\n    - can not go on the bus\n",
    )
    assert phrases.check("i cant go on the bus without my inhaler") is None
    assert phrases.check("i cant go on the bus any more, i cant go on") is not None


def test_gaps_choices_and_spellings(tmp_path):
    phrases = _phrases(
        tmp_path,
        "spellings:\n  tabs: tablets\ncategories:\n  suicide:\n"
        "    - take ... all ... tablets|pills\n",
    )
    assert phrases.check("take all my tabs") == check.Match(
        "suicide", "take ... all ... tablets|pills"
    )
    assert phrases.check("take them all pills") is not None
    assert phrases.check("take one two three four all pills") is None  # four words: too far
    assert phrases.check("take all my capsules") is None


@pytest.mark.parametrize(
    ("phrase", "problem"),
    [
        ("... end it", "'...' goes between two words"),
        ("end it ...", "'...' goes between two words"),
        ("end ... ... it", "'...' goes between two words"),
        ("wanna|want die", "each choice in 'wanna|want' must be one word"),
    ],
)
def test_a_phrase_that_cannot_be_read_names_its_line(tmp_path, phrase, problem):
    path = tmp_path / "crisis.yaml"
    path.write_text(
        "spellings:\n  wanna: want to\ncategories:\n  suicide:\n"
        f"    - {phrase}\nhelp:\n  - name: x\n    detail: y\n"
    )
    with pytest.raises(check.LocatedError) as error:
        check.load(path)
    assert error.value.line == 5 and error.value.message == problem


def test_recall_and_false_alarms_are_counted(tmp_path):
    phrases = _phrases(tmp_path, "categories:\n  suicide:\n    - want to die\n")
    sentences = corpus.Sentences(
        crisis=("i want to die", "i wanna die", "no future"), ordinary=("want to diet", "ok")
    )
    measured = corpus.measure("test", phrases, sentences)
    assert (measured.caught, measured.crises, measured.alarms) == (1, 3, 0)
    assert measured.missed == ("i wanna die", "no future")
    assert not measured.passes


def test_the_labelled_sets_are_big_enough():
    tuned = corpus.load(content.CONTENT_DIR / "safety" / "corpus.yaml")
    held = corpus.load(content.CONTENT_DIR / "safety" / "held-out.yaml")
    assert len(tuned.crisis) + len(tuned.ordinary) >= 300
    assert len(held.crisis) >= 120 and len(held.ordinary) >= 80


def test_help_lines_are_links_a_phone_can_act_on(tmp_path):
    path = tmp_path / "crisis.yaml"
    path.write_text(
        "categories:\n  suicide:\n    - want to die\nhelp:\n"
        "  - name: Samaritans\n    detail: Any time\n    call: 116 123\n"
        "  - name: Shout\n    detail: Text us\n    text: '85258'\n    body: SHOUT\n"
        "  - name: Your GP\n    detail: In working hours\n"
    )
    lines = check.load(path).help
    assert [line.href for line in lines] == ["tel:116123", "sms:85258?&body=SHOUT", ""]
    path.write_text(
        "categories:\n  suicide:\n    - want to die\nhelp:\n"
        "  - name: Samaritans\n    detail: Any time\n    call: ring them\n"
    )
    with pytest.raises(check.LocatedError, match="call: must be a phone number"):
        check.load(path)


def test_the_check_passes_its_bars_on_the_tuning_corpus_and_prints_every_set(app):
    # What `make test` (and so CI) runs: the corpus must meet both bars; the held-out set is
    # measured and printed beside it, whatever its figures.
    runner = app.test_cli_runner()
    gated = runner.invoke(args=["safety", "check", "--gate", "corpus.yaml"])
    assert gated.exit_code == 0, gated.output
    assert re.search(r"corpus\.yaml: recall .*: passes", gated.output)
    assert "held-out.yaml: recall" in gated.output
    everything = runner.invoke(args=["safety", "check"])
    held_out = re.search(r"held-out\.yaml: .*: (passes|FAILS)", everything.output)
    assert held_out is not None
    assert everything.exit_code == (0 if held_out.group(1) == "passes" else 1)
    unknown = runner.invoke(args=["safety", "check", "--gate", "nope.yaml"])
    assert unknown.exit_code == 2 and "choose from corpus.yaml" in unknown.output
