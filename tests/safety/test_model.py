"""The crisis net's learned layer (webapp/safety/model.py): plain-Python inference gives the
trained model's answers, the committed weights are what the current data trains, and
figures of speech stay ordinary."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace

import pytest

from webapp import content
from webapp.safety import check, model, train

ROOT = content.CONTENT_DIR / "safety"


@pytest.fixture(scope="module")
def net():
    loaded, errors = content.load(content.CONTENT_DIR)
    assert errors == []
    assert loaded.crisis.model is not None
    return loaded.crisis


@pytest.fixture(scope="module")
def examples(net):
    return train.examples(ROOT, replace(net, model=None))


def test_plain_python_gives_the_trained_models_probabilities(net, examples):
    sample = examples[::7]
    learner = train.fit([e.features for e in sample], [e.crisis for e in sample])
    learned = train.as_model(learner)
    scored = replace(net, model=learned)
    # Sentences of one window: a longer one is read window by window, the model whole.
    others = [e for e in examples[3::11] if 4 <= e.text.count(" ") + 1 < 25]
    assert len(others) > 150
    expected = learner.predict_proba(train.matrix([e.features for e in others]))[:, 1]
    for example, wanted in zip(others, expected, strict=True):
        tokens = check.normalise(example.text, net.spellings)
        assert len(tokens) <= model.WINDOW
        assert scored.probability(tokens) == pytest.approx(wanted, abs=1e-9), example.text


def test_the_committed_weights_are_what_the_current_data_trains(examples):
    written = json.loads((ROOT / "model.json").read_text())
    assert written["trained_on"] == model.data_hash(ROOT), "run `flask safety train`"
    learner = train.fit([e.features for e in examples], [e.crisis for e in examples])
    kept = {i: w for i, w in enumerate(learner.coef_[0]) if w}
    assert written["index"] == list(kept)
    assert written["weight"] == pytest.approx(list(kept.values()), abs=1e-9)
    assert written["bias"] == pytest.approx(learner.intercept_[0], abs=1e-9)
    assert (ROOT / "model.json").stat().st_size < 2_000_000


def test_held_out_sentences_are_never_trained_on():
    assert "held-out.yaml" not in train.TRAINED_FROM + model.SOURCES


@pytest.mark.parametrize(
    "words",
    [
        "dying for a cuppa",
        "could murder a curry tonight",
        "these shoes are killing me",
        "im done with this diet",
        "i give up on the crossword",
        "my blood sugar was 12 this morning, too much cake",
        "the doctor doubled my dose of sertraline",
        "my dad died last spring and i miss him",
        "i nearly died laughing at the panto",
        "caring for mum is exhausting but we are managing",
        "Me too",  # too short for the learned layer: the phrases alone answer
        # Quick answers in the planning conversation and groups it once misread.
        "Why has it gone up?",
        "And one more thing",
    ],
)
def test_figures_of_speech_and_everyday_talk_stay_ordinary(net, words):
    assert net.check(words) is None, words


@pytest.mark.parametrize(
    "words",
    [
        "i have been saving up my tablets and ive written to my kids",
        "everyone would be better off if i wasnt here",
        "he takes my pension and wont let me out",
    ],
)
def test_indirect_crises_are_caught(net, words):
    assert net.check(words) is not None, words


def test_a_crisis_in_a_long_post_is_read_in_its_window(net):
    ordinary = "went to the allotment and picked beans then had tea with my sister. " * 40
    words = ordinary + "i have the tablets ready and i wont be here after friday. " + ordinary
    tokens = check.normalise(words, net.spellings)
    assert len(tokens) > 10 * model.WINDOW
    assert net.check(ordinary * 2) is None
    assert net.check(words) is not None


def test_windows_cover_every_word():
    assert model.windows(5) == [(0, 5)]
    spans = model.windows(100)
    assert spans[0][0] == 0 and spans[-1][1] == 100
    assert all(end - start == model.WINDOW for start, end in spans)
    assert all(b[0] - a[0] <= model.STEP for a, b in itertools.pairwise(spans))


def test_a_broken_weights_file_is_refused(tmp_path):
    path = tmp_path / "model.json"
    path.write_text('{"buckets": 16}')
    with pytest.raises(ValueError, match="other settings"):
        model.load(path)
    path.write_text("not json")
    with pytest.raises(ValueError, match="not a weights file"):
        model.load(path)


def test_probabilities_are_logistic():
    assert model.logistic(0) == 0.5
    assert model.logistic(-800) == pytest.approx(0.0)
    assert model.logistic(800) == 1.0
    assert model.logistic(2) == pytest.approx(1 / (1 + math.exp(-2)))


@pytest.mark.parametrize(
    "words",
    [
        # A plain statement among ordinary health talk: the model once talked these down.
        "After my appointment with the nurse I'm going to take my own life",
        "The nurse was kind but I'm going to take my own life",
        "My review is next Tuesday with the practice nurse. After my appointment with the "
        "nurse I'm going to take my own life.",
        "Had my bloods done at the surgery and the nurse was lovely. I'm going to end my life "
        "before they ring with the results.",
        "Doing my blood sugar four times a day like the nurse said. I'm going to slit my wrists.",
        "Finished the crossword then slit my wrists",
        "Saw the doctor, she changed my amlodipine. I took all my tablets.",
        "I drank bleach",
        "I'm going to shoot myself",
        "I've taken 40 of my co-codamol",
        "I've taken the whole box of my blood pressure tablets",
    ],
)
def test_a_phrase_never_found_in_ordinary_talk_is_never_set_aside(net, words):
    found = net.check(words)
    assert found is not None and found.category != "learned", words


def test_only_phrases_found_in_ordinary_training_sentences_may_be_set_aside(net, examples):
    ordinary = {phrase for e in examples if not e.crisis for phrase in e.phrases}
    assert net.model.vetoable == ordinary
    assert "take ... own life" not in net.model.vetoable
    # An older weights file without the list lets the model set aside nothing.
    assert model.Model().vetoable == frozenset()
