"""Training the learned layer of the crisis net (`flask safety train`, `make safety-model`).

Needs scikit-learn, a development dependency only: the app reads the weights this writes
(content/safety/model.json) in plain Python, see webapp/safety/model.py.

It learns from corpus.yaml and training.yaml, never from held-out.yaml. Everything is fixed
(the folds' seed, the solver), so the same data gives the same file. The threshold is chosen
by 5-fold cross-validation on the training data: the highest probability at which the
out-of-fold answers still catch at least TARGET_RECALL of the crises.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from webapp.safety import corpus, model
from webapp.safety.check import TEXT_MAX, CrisisPhrases, _stem, normalise

SEED = 20_240_601
FOLDS = 5
# The regularisation of the logistic regression (inverse strength), chosen by the folds.
C = 10.0
TARGET_RECALL = 0.99
MOST_FALSE_ALARMS = 0.04
TRAINED_FROM = ("corpus.yaml", "training.yaml")


@dataclass(frozen=True)
class Example:
    """One labelled sentence, read the way the net reads it."""

    text: str
    crisis: bool
    source: str
    features: tuple[str, ...]
    # The crisis phrases found in it (their words, as in crisis.yaml).
    phrases: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Folds:
    """Out-of-fold probabilities, and what they give at a threshold."""

    probabilities: tuple[float, ...]
    threshold: float

    def measure(self, examples: list[Example], source: str | None = None) -> tuple[float, float]:
        """Recall and false-alarm rate of the out-of-fold answers (on one source, or all)."""
        caught = crises = alarms = ordinary = 0
        for example, probability in zip(examples, self.probabilities, strict=True):
            if source is not None and example.source != source:
                continue
            flagged = probability >= self.threshold
            if example.crisis:
                crises += 1
                caught += flagged
            else:
                ordinary += 1
                alarms += flagged
        return caught / max(crises, 1), alarms / max(ordinary, 1)


def _read(net: CrisisPhrases, text: str) -> tuple[tuple[str, ...], frozenset[str]]:
    tokens = normalise(text[:TEXT_MAX], net.spellings)
    stems = [_stem(token) for token in tokens]
    found = [
        (start, end, net.phrases[index].category, net.phrases[index].words)
        for start, end, index in net.found(tokens)
    ]
    return (
        tuple(model.window_features(tokens, stems, found, 0, len(tokens))),
        frozenset(words for _s, _e, _c, words in found),
    )


def examples(root: Path, net: CrisisPhrases) -> list[Example]:
    """The labelled sentences of the training sets, in file order."""
    found: list[Example] = []
    for name in TRAINED_FROM:
        sentences = corpus.load(root / name)
        for label, texts in ((True, sentences.crisis), (False, sentences.ordinary)):
            for text in texts:
                read, phrases = _read(net, text)
                found.append(Example(text, label, name, read, phrases))
    return found


def vetoable(found: list[Example]) -> frozenset[str]:
    """The phrases the learned layer may set aside: those found in some ordinary sentence
    of the training data. Every other phrase (never yet found in ordinary talk) always shows
    the help, whatever the model says: a plain "I'm going to take my own life" inside a
    long post about appointments must never be talked down."""
    return frozenset(phrase for e in found if not e.crisis for phrase in e.phrases)


def matrix(rows: list[tuple[str, ...]]):
    """The rows as a sparse matrix: each feature's bucket, 1/sqrt(features) per occurrence."""
    from scipy.sparse import csr_matrix

    data, cols, indptr = [], [], [0]
    for row in rows:
        share = 1.0 / math.sqrt(len(row)) if row else 0.0
        cols.extend(model.bucket(feature) for feature in row)
        data.extend([share] * len(row))
        indptr.append(len(cols))
    built = csr_matrix((data, cols, indptr), shape=(len(rows), model.BUCKETS))
    built.sum_duplicates()
    return built


def fit(rows: list[tuple[str, ...]], labels: list[bool], c: float = C):
    """A logistic regression on the rows (fixed solver and seed: the same data, the same
    weights)."""
    from sklearn.linear_model import LogisticRegression

    learner = LogisticRegression(
        C=c, solver="liblinear", class_weight="balanced", random_state=SEED, max_iter=1000
    )
    learner.fit(matrix(rows), labels)
    return learner


def as_model(learner, threshold: float = 0.5) -> model.Model:
    """The plain-Python model of a fitted learner."""
    found = model.Model(threshold=threshold)
    for index, weight in enumerate(learner.coef_[0]):
        if weight:
            found.weights[index] = float(weight)
    found.bias = float(learner.intercept_[0])
    return found


def cross_validate(net: CrisisPhrases, found: list[Example], c: float = C) -> Folds:
    """5-fold out-of-fold probabilities (folds stratified by source and label, fixed seed),
    each sentence read as the app reads it (in windows), and the threshold they choose."""
    from sklearn.model_selection import StratifiedKFold

    strata = [f"{example.source}:{example.crisis}" for example in found]
    probabilities = [0.0] * len(found)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for train, test in folds.split(strata, strata):
        learner = fit([found[i].features for i in train], [found[i].crisis for i in train], c)
        learned = as_model(learner)
        # A phrase never found in this fold's ordinary sentences cannot be set aside.
        learned.vetoable = vetoable([found[i] for i in train])
        scored = CrisisPhrases(
            net.phrases, net.help, net.ordinary, net.spellings, net.vocabulary,
            net.starts, net.ordinary_starts, model=learned,
        )  # fmt: skip
        for i in test:
            if found[i].phrases - learned.vetoable:
                probabilities[i] = 1.0
                continue
            probabilities[i] = scored.probability(normalise(found[i].text, net.spellings))
    return Folds(tuple(probabilities), choose_threshold(found, probabilities))


def choose_threshold(found: list[Example], probabilities: list[float]) -> float:
    """The highest threshold whose out-of-fold answers catch TARGET_RECALL of the crises, when
    their false alarms stay within MOST_FALSE_ALARMS. When the data cannot give both, the
    lowest threshold whose false alarms stay within MOST_FALSE_ALARMS: the most crises caught
    without stopping so much ordinary talk that the step is learned to be ignored."""
    pairs = list(zip(probabilities, (e.crisis for e in found), strict=True))
    crises = sorted((p for p, crisis in pairs if crisis), reverse=True)
    ordinary = sorted((p for p, crisis in pairs if not crisis), reverse=True)
    if not crises or not ordinary:
        return 0.5
    wanted = crises[math.ceil(TARGET_RECALL * len(crises)) - 1]
    if sum(p >= wanted for p in ordinary) <= MOST_FALSE_ALARMS * len(ordinary):
        return wanted
    allowed = math.floor(MOST_FALSE_ALARMS * len(ordinary))
    # Just above the (allowed + 1)th highest ordinary probability: at most `allowed` reach it.
    return math.nextafter(ordinary[allowed], math.inf)


def train(root: Path, net: CrisisPhrases) -> tuple[dict, Folds, list[Example]]:
    """Train on every sentence; return the weights file's contents, the folds and the
    examples."""
    found = examples(root, net)
    folds = cross_validate(net, found)
    learner = fit([e.features for e in found], [e.crisis for e in found])
    weights = learner.coef_[0]
    kept = [(i, float(w)) for i, w in enumerate(weights) if w != 0.0]
    recall, alarms = folds.measure(found)
    written = {
        "about": "The crisis net's learned layer: written by `flask safety train`; do not edit.",
        "trained_on": model.data_hash(root),
        "buckets": model.BUCKETS,
        "window": model.WINDOW,
        "step": model.STEP,
        "c": C,
        "seed": SEED,
        "cross_validated": {"recall": round(recall, 4), "false_alarms": round(alarms, 4)},
        "threshold": folds.threshold,
        "vetoable": sorted(vetoable(found)),
        "bias": float(learner.intercept_[0]),
        "index": [i for i, _w in kept],
        "weight": [w for _i, w in kept],
    }
    return written, folds, found


def write(path: Path, written: dict) -> None:
    """Write the weights file, compact and in a fixed order."""
    path.write_text(json.dumps(written, separators=(",", ":")) + "\n")
