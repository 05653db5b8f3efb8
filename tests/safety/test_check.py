"""Crisis language is found through misspellings and negations, and nothing else is."""

from __future__ import annotations

import pytest

from webapp import content
from webapp.safety import check
from webapp.yamlcheck import LocatedError


@pytest.fixture(scope="module")
def crisis():
    loaded, errors = content.load(content.CONTENT_DIR)
    assert errors == []
    return loaded.crisis


@pytest.mark.parametrize(
    ("words", "category"),
    [
        ("Some days I want to kill myself", "suicide"),
        ("some days i want to kil myself", "suicide"),  # a letter missing
        ("I've thought about ending it... I want to end it all.", "suicide"),
        ("I'm not going to hurt myself, don't worry", "self_harm"),  # negation: still gentle help
        ("I hurt my self last week", "self_harm"),  # split word
        ("I have been feeling SUICIDAL", "suicide"),
        ("Everyone would be beter off without me", "suicide"),  # a letter missing
        ("He hits me when he's been drinking", "harm_from_others"),
        ("I'm scared to go home tonight", "harm_from_others"),
        ("I've been self-harming again", "self_harm"),
        ("thinking about self harm", "self_harm"),
    ],
)
def test_crisis_language_is_found(crisis, words, category):
    found = crisis.check(words)
    assert found is not None and found.category == category, words


@pytest.mark.parametrize(
    "words",
    [
        "I want to get back to walking my dog",
        "I'm dead tired after work",
        "I could kill for a cup of tea",
        "My knees hurt when I climb the stairs",
        "I'd like to talk about my medicines",
        "",
    ],
)
def test_everyday_words_are_left_alone(crisis, words):
    assert crisis.check(words) is None


def test_a_match_names_the_phrase_not_the_text(crisis):
    found = crisis.check("honestly I just want to die some days, it's all too much")
    assert found == check.Match("suicide", "want to die")


def test_the_help_lines_come_from_content(crisis):
    names = [line.name for line in crisis.help]
    assert names[0] == "999" and any("116 123" in name for name in names)


def test_a_broken_phrases_file_names_the_line(tmp_path):
    path = tmp_path / "crisis.yaml"
    path.write_text("categories:\n  worry:\n    - feeling low\nhelp:\n  - name: x\n    detail: y\n")
    with pytest.raises(LocatedError) as error:
        check.load(path)
    assert error.value.line == 2 and "unknown field 'worry'" in error.value.message
