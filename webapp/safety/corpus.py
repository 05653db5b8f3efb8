"""Measuring the crisis net against labelled sentences: how many crises it catches (recall)
and how much ordinary talk it stops (false alarms).

`content/safety/corpus.yaml` is the set the phrases are tuned on. `content/safety/held-out.yaml`
was written by someone who had not seen the matcher, before any tuning, and is never edited:
it tells whether the net works on words it was not shaped to. Both must pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from webapp.safety.check import CrisisPhrases
from webapp.yamlcheck import LocatedError, compose, line, listed, mapping, text

# The bars `flask safety check` holds the net to, on every set.
LEAST_RECALL = 0.98
MOST_FALSE_ALARMS = 0.05
SETS = ("corpus.yaml", "held-out.yaml")


@dataclass(frozen=True)
class Sentences:
    """A labelled set: sentences that are a crisis, and ordinary ones."""

    crisis: tuple[str, ...]
    ordinary: tuple[str, ...]


@dataclass(frozen=True)
class Measure:
    """How the net did on one set."""

    name: str
    caught: int
    crises: int
    alarms: int
    ordinary: int
    missed: tuple[str, ...]
    false_alarms: tuple[str, ...]

    @property
    def recall(self) -> float:
        return self.caught / self.crises if self.crises else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.alarms / self.ordinary if self.ordinary else 0.0

    @property
    def passes(self) -> bool:
        return self.recall >= LEAST_RECALL and self.false_alarm_rate <= MOST_FALSE_ALARMS


def load(path: Path) -> Sentences:
    """Read a labelled set; raise LocatedError at the first problem."""
    node = compose(path)
    fields = mapping(node, "a labelled set", {"crisis", "ordinary"})
    if set(fields) != {"crisis", "ordinary"}:
        raise LocatedError(line(node), "a labelled set needs crisis: and ordinary:")
    crisis = tuple(text(item, "a sentence", 1000) for item in listed(fields["crisis"], "crisis"))
    ordinary = tuple(
        text(item, "a sentence", 1000) for item in listed(fields["ordinary"], "ordinary")
    )
    return Sentences(crisis, ordinary)


def measure(name: str, phrases: CrisisPhrases, sentences: Sentences) -> Measure:
    """Run the net over every sentence of a set."""
    missed = tuple(s for s in sentences.crisis if phrases.check(s) is None)
    alarms = tuple(s for s in sentences.ordinary if phrases.check(s) is not None)
    return Measure(
        name,
        len(sentences.crisis) - len(missed),
        len(sentences.crisis),
        len(alarms),
        len(sentences.ordinary),
        missed,
        alarms,
    )
