"""Checking free text for crisis language, gently and without reading minds.

Phrases come from content/safety/crisis.yaml. A phrase matches when its words appear in
order, ignoring case, punctuation and small misspellings (one letter wrong, missing or
extra in a phrase word of four letters or more). Negations are not looked for: "I'm not going
to hurt myself" still shows the help, because the step is gentle and easy to pass.
What matched is reported as the category and phrase, never the person's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from webapp.yamlcheck import LocatedError, compose, line, listed, mapping, text

CATEGORIES = ("suicide", "self_harm", "harm_from_others")
# Words people split or join differently: normalised before matching.
JOINED = {("my", "self"): "myself", ("self", "harm"): "selfharm"}


@dataclass(frozen=True)
class HelpLine:
    """Someone to contact in a crisis, as content names them."""

    name: str
    detail: str


@dataclass(frozen=True)
class Match:
    """Which phrase matched, for the log: never the person's words."""

    category: str
    phrase: str


@dataclass(frozen=True)
class CrisisPhrases:
    """Every phrase, by category, and the help lines to show."""

    phrases: tuple[tuple[str, tuple[str, ...]], ...] = ()
    help: tuple[HelpLine, ...] = ()

    def check(self, words: str) -> Match | None:
        """Return the first phrase found in the text, or None."""
        tokens = normalise(words)
        for category, phrase in self.phrases:
            wanted = normalise(phrase)
            if _contains(tokens, wanted):
                return Match(category, phrase)
        return None


def normalise(words: str) -> list[str]:
    """Return the text as lower-case words, apostrophes dropped, split words joined."""
    tokens = re.findall(r"[a-z0-9]+", words.lower().replace("'", "").replace("’", ""))
    joined: list[str] = []
    for token in tokens:
        if joined and (joined[-1], token) in JOINED:
            joined[-1] = JOINED[(joined[-1], token)]
        else:
            joined.append(token)
    return joined


def _close(word: str, wanted: str) -> bool:
    """Say whether a word is the wanted one, allowing one slip in wanted words of 4+ letters."""
    if word == wanted:
        return True
    if len(wanted) < 4 or len(word) < 3 or abs(len(word) - len(wanted)) > 1:
        return False
    # One substitution, insertion or deletion.
    if len(word) == len(wanted):
        return sum(a != b for a, b in zip(word, wanted, strict=True)) == 1
    short, long = sorted((word, wanted), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _contains(tokens: list[str], wanted: list[str]) -> bool:
    """Say whether the wanted words appear together, in order, in the tokens."""
    size = len(wanted)
    return any(
        all(_close(tokens[start + i], wanted[i]) for i in range(size))
        for start in range(len(tokens) - size + 1)
    )


def load(path: Path) -> CrisisPhrases:
    """Parse and check the crisis phrases file; raise LocatedError at the first problem."""
    node = compose(path)
    fields = mapping(node, "the crisis phrases", {"categories", "help"})
    if "categories" not in fields or "help" not in fields:
        raise LocatedError(line(node), "the file needs categories: and help:")
    phrases = []
    for key, value in mapping(fields["categories"], "categories", set(CATEGORIES)).items():
        for item in listed(value, key):
            phrase = text(item, "a phrase", 80)
            if not normalise(phrase):
                raise LocatedError(line(item), "a phrase needs some words")
            phrases.append((key, phrase))
    help_lines = []
    for item in listed(fields["help"], "help"):
        parts = mapping(item, "a help line", {"name", "detail"})
        if set(parts) != {"name", "detail"}:
            raise LocatedError(line(item), "each help line needs name: and detail:")
        help_lines.append(
            HelpLine(text(parts["name"], "name", 80), text(parts["detail"], "detail", 300))
        )
    return CrisisPhrases(tuple(phrases), tuple(help_lines))
