"""The learned layer of the crisis net: a logistic regression over hashed word and letter
features, read from `content/safety/model.json` and run in plain Python (no library is
loaded and nothing is downloaded when the app runs).

How a text becomes features (the same for training, in webapp/safety/train.py, and here):

- the words the phrase net reads (normalise: lower case, text speak written out), each as
  its stem ("w:"), each pair of neighbouring stems ("b:"), and the letters of each word in
  runs of four with a space either side ("c:"), which carries typos and new words;
- what the phrase net found in the same words ("p:" and its category, "q:" and the phrase),
  so the model learns which phrases mean a crisis in context and which seldom do.

Each feature is hashed (CRC-32) into one of BUCKETS places. A text's score is the sum of its
features' weights divided by the square root of how many features it has, plus the bias:
the probability is the logistic of that. A text longer than WINDOW words is read in windows
of WINDOW words, STEP apart, and the highest probability counts, so one sentence in a long
post is not drowned by the rest.
"""

from __future__ import annotations

import hashlib
import json
import math
import zlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BUCKETS = 1 << 18
WINDOW = 32
STEP = 16
GRAMS = (4,)
# What the model is trained from, hashed into the weights file so a test notices when the
# data changed and nobody retrained.
SOURCES = ("corpus.yaml", "training.yaml", "crisis.yaml")


def bucket(feature: str) -> int:
    """The place of a feature among BUCKETS (stable across runs and machines)."""
    return zlib.crc32(feature.encode("utf-8")) & (BUCKETS - 1)


def word_features(token: str, stem: str) -> list[str]:
    """The features one word brings on its own: its stem and its runs of letters."""
    padded = f" {token} "
    found = [f"w:{stem}"]
    for size in GRAMS:
        found.extend(f"c:{padded[i : i + size]}" for i in range(len(padded) - size + 1))
    return found


def pair_feature(first: str, second: str) -> str:
    """The feature of two neighbouring stems."""
    return f"b:{first} {second}"


def phrase_features(category: str, words: str) -> list[str]:
    """The features a phrase of the net brings when it is found (outside a figure of speech)."""
    return ["p:any", f"p:{category}", f"q:{words}"]


def windows(length: int) -> list[tuple[int, int]]:
    """Where the windows of a text of `length` words start and end (one window when short)."""
    if length <= WINDOW:
        return [(0, length)]
    starts = [*range(0, length - WINDOW, STEP), length - WINDOW]
    return [(start, start + WINDOW) for start in starts]


def window_features(
    tokens: Sequence[str],
    stems: Sequence[str],
    found: Iterable[tuple[int, int, str, str]],
    start: int,
    end: int,
) -> list[str]:
    """Every feature of the words tokens[start:end], with the phrases found wholly inside."""
    features: list[str] = []
    for i in range(start, end):
        features.extend(word_features(tokens[i], stems[i]))
        if i + 1 < end:
            features.append(pair_feature(stems[i], stems[i + 1]))
    for first, last, category, words in found:
        if start <= first and last <= end:
            features.extend(phrase_features(category, words))
    return features


def logistic(score: float) -> float:
    """The probability a score stands for."""
    if score >= 0:
        return 1.0 / (1.0 + math.exp(-score))
    small = math.exp(score)
    return small / (1.0 + small)


def data_hash(root: Path) -> str:
    """SHA-256 over the files the model is trained from, in a fixed order."""
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass
class Model:
    """Learned weights and the threshold above which a text is treated as a crisis."""

    weights: array = field(default_factory=lambda: array("d", bytes(8 * BUCKETS)))
    bias: float = 0.0
    threshold: float = 1.0
    trained_on: str = ""
    # Recall and false alarms of the 5-fold cross-validation at training.
    cross_validated: dict[str, float] = field(default_factory=dict)
    # The crisis phrases (their words) the model may set aside: those found in ordinary
    # sentences of the training data. Any other phrase found always counts.
    vetoable: frozenset[str] = frozenset()
    # Per word (token, stem): the sum of its own features' weights and how many there are.
    seen: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict, repr=False)

    def feature_score(self, features: Iterable[str]) -> float:
        """The score of a list of features (the slow, plain way: for tests and training)."""
        total, count = 0.0, 0
        for feature in features:
            total += self.weights[bucket(feature)]
            count += 1
        return self.bias + (total / math.sqrt(count) if count else 0.0)

    def probability(
        self,
        tokens: Sequence[str],
        stems: Sequence[str],
        found: Sequence[tuple[int, int, str, str]],
    ) -> float:
        """The highest probability of a crisis over the windows of a text."""
        if not tokens:
            return 0.0
        words = [self._word(token, stem) for token, stem in zip(tokens, stems, strict=True)]
        pairs = [
            self.weights[bucket(pair_feature(stems[i], stems[i + 1]))]
            for i in range(len(stems) - 1)
        ]
        phrases = [
            (first, last, sum(self.weights[bucket(f)] for f in phrase_features(category, words_)))
            for first, last, category, words_ in found
        ]
        # Running totals, so each window costs the same whatever its length.
        weight_at, count_at, pair_at = [0.0], [0], [0.0]
        for weight, count in words:
            weight_at.append(weight_at[-1] + weight)
            count_at.append(count_at[-1] + count)
        for weight in pairs:
            pair_at.append(pair_at[-1] + weight)
        best = 0.0
        for start, end in windows(len(tokens)):
            total = weight_at[end] - weight_at[start] + pair_at[end - 1] - pair_at[start]
            count = count_at[end] - count_at[start] + (end - start - 1)
            for first, last, weight in phrases:
                if start <= first and last <= end:
                    total += weight
                    count += 3
            best = max(best, logistic(self.bias + total / math.sqrt(count)))
        return best

    def _word(self, token: str, stem: str) -> tuple[float, int]:
        """The weight sum and count of one word's own features, remembered per worker."""
        key = (token, stem)
        known = self.seen.get(key)
        if known is None:
            if len(self.seen) >= 50_000:
                self.seen.clear()
            features = word_features(token, stem)
            known = (sum(self.weights[bucket(f)] for f in features), len(features))
            self.seen[key] = known
        return known


def load(path: Path) -> Model:
    """Read the weights file written by `flask safety train`; raise ValueError if it is not
    one."""
    try:
        raw = json.loads(path.read_text())
        if raw.get("buckets") != BUCKETS or raw.get("window") != WINDOW or raw.get("step") != STEP:
            raise ValueError("the weights were trained with other settings: retrain them")
        weights = array("d", bytes(8 * BUCKETS))
        for index, weight in zip(raw["index"], raw["weight"], strict=True):
            weights[int(index)] = float(weight)
        return Model(
            weights,
            float(raw["bias"]),
            float(raw["threshold"]),
            str(raw["trained_on"]),
            {key: float(value) for key, value in raw["cross_validated"].items()},
            # A file without the list lets the model set aside no phrase (the safe way).
            frozenset(str(words) for words in raw.get("vetoable", [])),
        )
    except (KeyError, TypeError, IndexError, json.JSONDecodeError) as error:
        raise ValueError(f"not a weights file: {error}") from error
