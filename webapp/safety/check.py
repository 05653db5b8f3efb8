"""Checking free text for crisis language, gently and without reading minds.

Phrases come from content/safety/crisis.yaml, each under its category. The text and the
phrases are read the same way before they are compared:

- lower case, apostrophes dropped, words only ("can't" is "cant");
- text speak and common spellings written out, from the file's `spellings` ("im" is "i am",
  "2" is "to", "wanna" is "want to", "dont" is "do not");
- each word taken to its stem with the Snowball English stemmer (kill, killing and killed
  are one word; so are tablet and tablets);
- a word of four letters or more also matches with one slip (a letter wrong, missing, extra
  or two swapped), measured with rapidfuzz.

A phrase is words in order. `a|b` in a phrase is either word; `...` lets up to three other
words stand between its neighbours ("thinking about ... ending it"). Phrases under
`ordinary` are figures of speech ("dying for a cup of tea"): a crisis phrase found within
the same words as one of them does not count, but one found elsewhere in the text does.

Negations are not looked for: "I'm not going to hurt myself" still shows the help, because
the step is gentle and easy to pass. What matched is reported as the category and phrase,
never the person's text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import snowballstemmer
import yaml
from rapidfuzz import process
from rapidfuzz.distance import OSA

from webapp.safety.model import Model
from webapp.yamlcheck import LocatedError, compose, line, listed, mapping, text

CATEGORIES = ("suicide", "self_harm", "harm_from_others")
# How many other words `...` lets stand between two words of a phrase.
GAP = 3
# Words shorter than this match only as they are (after spelling and stemming); words
# this long or longer (as stems) also match with one slip.
FUZZY_FROM = 4
FUZZY_LONG = 7
# Texts are read up to this long (a group post is at most 10,000 characters).
TEXT_MAX = 20_000
# Words remembered per worker with what they stand for; forgotten all at once past this.
SEEN_MAX = 50_000
# Texts with fewer words than this are answered by the phrases alone, not the learned layer.
LEARNED_FROM = 4
# Words people split differently: joined before matching.
JOINED = {("my", "self"): "myself", ("your", "self"): "yourself"}
_WORD = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(r"\+?[0-9]{3,15}")
_stemmer = snowballstemmer.stemmer("english")


@dataclass(frozen=True)
class HelpLine:
    """Someone to contact in a crisis, as content names them, and how a phone reaches them:
    a number to call, or a number to text with the words the text must hold."""

    name: str
    detail: str
    call: str = ""
    text: str = ""
    body: str = ""

    @property
    def href(self) -> str:
        """A link a phone can act on: tel: to call, sms: (with its words) to text."""
        if self.call:
            return f"tel:{self.call}"
        if self.text:
            # "?&body=" is read by both iPhones and Android phones.
            return f"sms:{self.text}" + (f"?&body={quote(self.body)}" if self.body else "")
        return ""


@dataclass(frozen=True)
class Match:
    """Which phrase matched, for the log: never the person's words."""

    category: str
    phrase: str


# One place in a phrase: the stems that fill it, or a gap (None).
Slot = frozenset[str] | None


@dataclass(frozen=True)
class Phrase:
    """A phrase as written in content, and as the slots it is matched by."""

    category: str
    words: str
    slots: tuple[Slot, ...]


@dataclass(frozen=True)
class CrisisPhrases:
    """Every phrase, by category, the figures of speech set aside, and the help lines."""

    phrases: tuple[Phrase, ...] = ()
    help: tuple[HelpLine, ...] = ()
    ordinary: tuple[Phrase, ...] = ()
    spellings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Every stem a phrase names, once (what a word of the text is compared with).
    vocabulary: tuple[str, ...] = ()
    # Which phrases (by their place in `phrases`) and which figures of speech (in
    # `ordinary`) can start at a word: by stem, and by the word as written.
    starts: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False)
    ordinary_starts: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False)
    # What each word of a text stands for, worked out once per word per worker.
    seen: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)
    # The learned layer (content/safety/model.json), when there is one.
    model: Model | None = field(default=None, compare=False, repr=False)

    def check(self, words: str) -> Match | None:
        """Return why the text may be a crisis, or None.

        Without a learned layer: the crisis phrase found in the text (outside any figure of
        speech) that comes first in the file. With one (see webapp/safety/model.py): a phrase
        never found in ordinary talk is always a crisis; otherwise the model reads the words
        and the phrases found together, and the text is a crisis when its probability
        reaches the model's threshold: the phrase is named if one was found, "learned"
        otherwise."""
        tokens = normalise(words[:TEXT_MAX], self.spellings)
        if not tokens:
            return None
        found = self.found(tokens)
        first = min((index for _s, _e, index in found), default=None)
        if self.model is None:
            return None if first is None else self._match(first)
        # A phrase never found in ordinary talk always counts: the model only weighs those
        # that have been (and adds what no phrase names).
        sure = [i for _s, _e, i in found if self.phrases[i].words not in self.model.vetoable]
        if sure:
            return self._match(min(sure))
        if self.probability(tokens, found) < self.model.threshold:
            return None
        return Match("learned", "learned layer") if first is None else self._match(first)

    def _match(self, index: int) -> Match:
        """Name the phrase at this place in the file as the reason for a match."""
        return Match(self.phrases[index].category, self.phrases[index].words)

    def probability(
        self, tokens: list[str], found: list[tuple[int, int, int]] | None = None
    ) -> float:
        """The learned layer's probability that these words (normalised) are a crisis."""
        if self.model is None:
            return 0.0
        if found is None:
            found = self.found(tokens)
        if len(tokens) < LEARNED_FROM:
            # Too few words for the model to read ("me too"): the phrases alone answer.
            return 1.0 if found else 0.0
        named = [
            (start, end, self.phrases[index].category, self.phrases[index].words)
            for start, end, index in found
        ]
        return self.model.probability(tokens, [_stem(token) for token in tokens], named)

    def found(self, tokens: list[str]) -> list[tuple[int, int, int]]:
        """Every crisis phrase found in the words (outside any figure of speech), as where it
        starts, where it ends and its place in the file, each phrase once per place."""
        matched = [self._read(token) for token in tokens]
        # Figures of speech are set phrases: matched word for word as written (after the
        # spellings), with no other forms and no slips.
        exact = [frozenset({token}) for token in tokens]
        covered: set[int] = set()
        for start, token in enumerate(tokens):
            for index in self.ordinary_starts.get(token, ()):
                end = _rest(self.ordinary[index].slots, 1, exact, start + 1)
                if end is not None:
                    covered.update(range(start, end))
        found: list[tuple[int, int, int]] = []
        last = len(matched) - 1
        for start, here in enumerate(matched):
            indexes = {index for stem in here for index in self.starts.get(stem, ())}
            for index in sorted(indexes):
                slots = self.phrases[index].slots
                # Most candidates fail at their second word: look before calling _rest.
                if (
                    len(slots) > 1
                    and slots[1] is not None
                    and (start == last or not matched[start + 1] & slots[1])
                ):
                    continue
                end = _rest(slots, 1, matched, start + 1)
                if end is not None and not covered.issuperset(range(start, end)):
                    found.append((start, end, index))
        return found

    def _read(self, token: str) -> frozenset[str]:
        """What one word of the text may stand for (see _read), kept for the next text."""
        found = self.seen.get(token)
        if found is None:
            if len(self.seen) >= SEEN_MAX:
                self.seen.clear()
            found = self.seen[token] = _read(token, self.vocabulary)
        return found


def normalise(words: str, spellings: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """Return the text as lower-case words: apostrophes dropped, accents taken off, split
    words joined, and text speak written out."""
    plain = unicodedata.normalize("NFKD", words.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    plain = plain.replace("'", "").replace("’", "").replace("‘", "")
    tokens: list[str] = []
    spellings = spellings or {}
    for token in _WORD.findall(plain):
        tokens.extend(spellings.get(token, (token,)))
    joined: list[str] = []
    for token in tokens:
        if joined and (joined[-1], token) in JOINED:
            joined[-1] = JOINED[(joined[-1], token)]
        else:
            joined.append(token)
    return joined


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def _matches(stem: str, vocabulary: tuple[str, ...]) -> frozenset[str]:
    """The phrase stems a stem of the text stands for: itself, and any within one slip of it.

    A slip counts only where both words have four letters or more and their first letters
    agree (people rarely mistype the first letter, and short words differ by one letter
    from too many others: pill, will, hill, kill). A four-letter word takes only an extra
    letter ("killl"), never a changed one."""
    if len(stem) < FUZZY_FROM:
        return frozenset({stem})
    close = process.extract(stem, vocabulary, scorer=OSA.distance, score_cutoff=1, limit=None)
    return frozenset({stem} | {wanted for wanted, _d, _i in close if _slip(stem, wanted)})


def _slip(typed: str, wanted: str) -> bool:
    """Whether a word one edit from a wanted one is a slip of it: the wanted word has seven
    letters or more (its stem, that is: suicid is six) and the first letters agree. Shorter
    words differ by one letter from too many others (pill, will, hill, kill; treat, threat;
    glass, gass; switch, stitch): their usual misspellings are in the spellings instead."""
    return len(wanted) >= FUZZY_LONG and typed[0] == wanted[0]


def _read(token: str, vocabulary: tuple[str, ...]) -> frozenset[str]:
    """What one word of the text may stand for; a word that drops its final g ("killin",
    "thinkin") is also read with it."""
    found = _matches(_stem(token), vocabulary)
    if token.endswith("in") and len(token) >= 5:
        found |= _matches(_stem(token + "g"), vocabulary)
    return found


def _rest(slots: tuple[Slot, ...], i: int, matched: list[frozenset[str]], at: int) -> int | None:
    """Match slots[i:] from position `at`; return where the match ends, or None."""
    if i == len(slots):
        return at
    slot = slots[i]
    if slot is None:  # up to GAP words may stand here before the next slot
        for skip in range(GAP + 1):
            if at + skip > len(matched):
                break
            end = _rest(slots, i + 1, matched, at + skip)
            if end is not None:
                return end
        return None
    if at < len(matched) and matched[at] & slot:
        return _rest(slots, i + 1, matched, at + 1)
    return None


def compile_phrase(
    category: str, words: str, spellings: dict[str, tuple[str, ...]], stem: bool = True
) -> Phrase | str:
    """Turn a phrase as written into slots (of stems, or of the words as written when `stem`
    is False), or return what is wrong with it."""
    form = _stem if stem else str
    slots: list[Slot] = []
    for part in words.split():
        if part == "...":
            if not slots or slots[-1] is None:
                return "'...' goes between two words"
            slots.append(None)
            continue
        choices: set[str] = set()
        for choice in part.split("|"):
            tokens = normalise(choice, spellings)
            if not tokens:
                return f"{part!r} has no word in it"
            if len(tokens) > 1 and "|" in part:
                return f"each choice in {part!r} must be one word"
            if len(tokens) > 1:  # a spelling written out into several words
                for token in tokens[:-1]:
                    slots.append(frozenset({form(token)}))
            choices.add(form(tokens[-1]))
        slots.append(frozenset(choices))
    if not slots:
        return "a phrase needs some words"
    if slots[-1] is None:
        return "'...' goes between two words"
    return Phrase(category, words, tuple(slots))


def load(path: Path) -> CrisisPhrases:
    """Parse and check the crisis phrases file; raise LocatedError at the first problem."""
    node = compose(path)
    fields = mapping(node, "the crisis phrases", {"categories", "help", "ordinary", "spellings"})
    if "categories" not in fields or "help" not in fields:
        raise LocatedError(line(node), "the file needs categories: and help:")
    spellings: dict[str, tuple[str, ...]] = {}
    if "spellings" in fields:
        for key, value in _pairs(fields["spellings"]):
            written = text(value, f"the spelling of {key!r}", 80).lower().split()
            if not _WORD.fullmatch(key) or not all(_WORD.fullmatch(w) for w in written):
                raise LocatedError(line(value), "spellings are plain words: `im: i am`")
            spellings[key] = tuple(written)
    phrases = []
    for key, value in mapping(fields["categories"], "categories", set(CATEGORIES)).items():
        for item in listed(value, key):
            phrases.append(_phrase(key, item, spellings))
    ordinary = ()
    if "ordinary" in fields:
        ordinary = tuple(
            _phrase("ordinary", item, spellings, stem=False)
            for item in listed(fields["ordinary"], "ordinary")
        )
    help_lines = []
    for item in listed(fields["help"], "help"):
        parts = mapping(item, "a help line", {"name", "detail", "call", "text", "body"})
        if not {"name", "detail"} <= set(parts):
            raise LocatedError(line(item), "each help line needs name: and detail:")
        if "call" in parts and "text" in parts:
            raise LocatedError(line(item), "a help line is called or texted, not both")
        numbers = {}
        for key in ("call", "text"):
            if key in parts:
                number = text(parts[key], key, 20).replace(" ", "")
                if not _NUMBER.fullmatch(number):
                    raise LocatedError(line(parts[key]), f"{key}: must be a phone number")
                numbers[key] = number
        if "body" in parts and "text" not in parts:
            raise LocatedError(line(parts["body"]), "body: is the words of a text: add text:")
        help_lines.append(
            HelpLine(
                text(parts["name"], "name", 80),
                text(parts["detail"], "detail", 300),
                numbers.get("call", ""),
                numbers.get("text", ""),
                text(parts["body"], "body", 40) if "body" in parts else "",
            )
        )
    vocabulary = {
        stem for phrase in phrases for slot in phrase.slots if slot is not None for stem in slot
    }
    return CrisisPhrases(
        tuple(phrases),
        tuple(help_lines),
        ordinary,
        spellings,
        tuple(sorted(vocabulary)),
        _starts(phrases),
        _starts(ordinary),
    )


def _starts(phrases: Sequence[Phrase]) -> dict[str, tuple[int, ...]]:
    """Index phrases by the words their first slot holds, keeping the file's order."""
    found: dict[str, list[int]] = {}
    for index, phrase in enumerate(phrases):
        first = phrase.slots[0]
        assert first is not None
        for word in first:
            found.setdefault(word, []).append(index)
    return {word: tuple(indexes) for word, indexes in found.items()}


def _pairs(node: yaml.Node) -> list[tuple[str, yaml.Node]]:
    """The keys and value nodes of a mapping of any keys."""
    if not isinstance(node, yaml.MappingNode):
        raise LocatedError(line(node), "spellings must be a mapping: `im: i am`")
    return [(str(key.value).lower(), value) for key, value in node.value]


def _phrase(
    category: str, item: yaml.Node, spellings: dict[str, tuple[str, ...]], stem: bool = True
) -> Phrase:
    words = text(item, "a phrase", 400)
    compiled = compile_phrase(category, words, spellings, stem)
    if isinstance(compiled, str):
        raise LocatedError(line(item), compiled)
    return compiled
