"""Coding residents' comments to the strategy: goals, actions, focus populations and themes.

A *codebook* lists the codes a comment can get. Each :class:`Code` has an id (``PLACES``,
``1.3``, ``youth``), a kind (goal, action, focus population or staff-defined theme), a
description, a few example phrases, and optionally a lexicon: ``keywords`` (weight 1.0) and
``related`` terms (weight 0.4). The shipped codebook (``csas/data/insight/codebook.yaml``, for
people ``codebook.md``) holds the four goals of Tacoma's strategy; :meth:`Codebook.from_strategy`
builds one from a strategy's goals, actions and focus populations as plain dicts.

Two coders, both fully offline on a CPU:

* **zero-shot** (:func:`zero_shot_coder`): no coded examples. A comment's evidence for a code is
  the sum of the weights of the distinct lexicon terms it contains, plus words taken from the
  code's name, description and examples (weight 0.25 for a code with a lexicon, 1.0 for one
  without, divided by the number of codes whose text has the word). The score is
  ``1 - 2 ** -evidence``: one keyword alone gives 0.5, the decision threshold; two related
  terms (0.8) are not enough, three are.
* **supervised** (:func:`train_coder`): staff-coded examples. One logistic regression per code
  (one-vs-rest, balanced class weights) on TF-IDF word 1-2-grams (optionally also character
  2-4-grams within words), every code's zero-shot score (the prior) and one indicator per
  lexicon term found. The code's score blends the model with its zero-shot score; the blend and the
  decision threshold are chosen by cross-validation *on the training examples only*. A code
  with fewer than 3 positive (or negative) examples keeps its zero-shot score.

Scores are reported on one scale for both: in [0, 1], with the code's decision threshold
mapped to 0.5 (piecewise linear), so "score >= 0.5" always means "assigned". They are ranking
scores, not calibrated probabilities. A comment's ``confidence`` is that of its least certain
decision: the score of a code assigned, or 1 - score of a code left out (0.5 to 1).

Explanations: for each code, the words of the comment that drove the score (lexicon words
first, then the words with the largest positive weight in the code's model); a supervised
coder also names the nearest coded example (cosine similarity of word TF-IDF).

Then: :func:`least_confident_first` orders comments for review (active learning);
:func:`agreement` gives Cohen's kappa per code between two coders and precision, recall and
F1 per code (and macro-F1) against a reference coder; :func:`cross_validate` measures
macro-F1 on repeated stratified splits; :func:`code_csv` codes a CSV file in chunks.

Example, zero-shot with the shipped codebook:

>>> coder = zero_shot_coder()
>>> result = code_comments(["The street lights are out and the sidewalk is broken"], coder)
>>> result.items[0].codes
('PLACES',)
>>> result.items[0].terms["PLACES"][:2]
('sidewalk', 'street lights')

Supervised, from a few coded examples (real use needs a hundred or more):

>>> texts = ["more police patrols", "fix the sidewalks", "police took an hour to come",
...          "dark street no lights", "hire officers", "repair potholes"] * 2
>>> codes = [{"RESPONSE"}, {"PLACES"}, {"RESPONSE"}, {"PLACES"}, {"RESPONSE"}, {"PLACES"}] * 2
>>> coder = train_coder(texts, codes, folds=2)
>>> coder.method, coder.trained_codes
('supervised', ('PLACES', 'RESPONSE'))
>>> code_comments(["police response was slow"], coder).items[0].codes
('RESPONSE',)
"""

from __future__ import annotations

import csv
import math
import os
import re
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast, get_args

import numpy as np
import numpy.typing as npt
import yaml
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Embedder = Callable[[Sequence[str]], FloatArray]

CodeKind = Literal["goal", "action", "focus", "theme"]
CODE_KINDS: tuple[str, ...] = get_args(CodeKind)

KEYWORD_WEIGHT = 1.0
RELATED_WEIGHT = 0.4
DESCRIPTION_WEIGHT = 0.25
UNCURATED_DESCRIPTION_WEIGHT = 1.0
MIN_EXAMPLES_PER_CLASS = 3

_WORD_PATTERN = r"(?u)[^\W_]+"  # words: runs of letters and digits
_WORD = re.compile(_WORD_PATTERN)
DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "insight"
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just let me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    such get gets make makes made need needs use used one two every everyone people person
    things thing way ways many much well like including include includes whether without within
    across toward towards via per e g eg etc
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


# --------------------------------------------------------------------------------------------
# Codebook


@dataclass(frozen=True)
class Code:
    """One code a comment can be given.

    Fields:
        id: the code's identifier, written in outputs (``PLACES``, ``1.3``, ``youth``).
        name: a short human name.
        kind: ``goal``, ``action``, ``focus`` (a focus population) or ``theme`` (staff-defined).
        description: what the code means; the zero-shot coder reads its words.
        examples: short example phrases (read like the description).
        keywords: lexicon terms of weight 1.0: lower-case words, several words for a phrase,
            a trailing ``*`` for any ending of the last word (``polic*``).
        related: lexicon terms of weight 0.4, same syntax.
        parent: the id of the code this one belongs to (an action's goal), or None.
    """

    id: str
    name: str
    kind: CodeKind
    description: str
    examples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    parent: str | None = None

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise ValueError("a code needs a non-empty id")
        if self.kind not in CODE_KINDS:
            raise ValueError(
                f"code {self.id!r}: kind {self.kind!r} is not one of {', '.join(CODE_KINDS)}"
            )
        if not (self.description.strip() or self.examples or self.keywords):
            raise ValueError(
                f"code {self.id!r} has no description, examples or keywords to code from"
            )


@dataclass(frozen=True)
class Codebook:
    """An ordered set of codes with unique ids.

    Fields:
        name: what the codebook is (shown to staff).
        codes: the codes, in the order outputs list them.
    """

    name: str
    codes: tuple[Code, ...]

    def __post_init__(self) -> None:
        if not self.codes:
            raise ValueError(f"codebook {self.name!r} has no codes")
        seen: set[str] = set()
        for code in self.codes:
            if code.id in seen:
                raise ValueError(f"codebook {self.name!r}: code id {code.id!r} is used twice")
            seen.add(code.id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(code.id for code in self.codes)

    def code(self, code_id: str) -> Code:
        """The code with this id; ValueError listing the known ids if there is none."""
        for code in self.codes:
            if code.id == code_id:
                return code
        raise ValueError(f"no code {code_id!r} in codebook {self.name!r} (known: {self._known()})")

    def of_kind(self, *kinds: CodeKind) -> Codebook:
        """The codebook restricted to codes of the given kinds, in the same order."""
        for kind in kinds:
            if kind not in CODE_KINDS:
                raise ValueError(f"kind {kind!r} is not one of {', '.join(CODE_KINDS)}")
        return Codebook(self.name, tuple(c for c in self.codes if c.kind in kinds))

    def extended(self, codes: Iterable[Code]) -> Codebook:
        """The codebook with more codes appended (for example staff-defined themes)."""
        return Codebook(self.name, self.codes + tuple(codes))

    def _known(self) -> str:
        return ", ".join(self.ids)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Codebook:
        """A codebook from plain data shaped like ``codebook.yaml``.

        ``{"name": ..., "codes": [{"id", "name", "kind", "description", "examples",
        "keywords", "related", "parent"}, ...]}``; other keys (include and exclude rules,
        boundary cases) are for people and are ignored here.
        """
        raw_codes = data.get("codes")
        if not isinstance(raw_codes, list) or not raw_codes:
            raise ValueError("codebook data needs a non-empty 'codes' list")
        codes = []
        for number, raw in enumerate(raw_codes, start=1):
            if not isinstance(raw, Mapping) or "id" not in raw:
                raise ValueError(f"codebook code {number} needs an 'id'")
            codes.append(
                Code(
                    id=str(raw["id"]),
                    name=str(raw.get("name", raw["id"])),
                    kind=cast(CodeKind, str(raw.get("kind", "theme"))),
                    description=" ".join(str(raw.get("description", "")).split()),
                    examples=_strings(raw.get("examples")),
                    keywords=_strings(raw.get("keywords")),
                    related=_strings(raw.get("related")),
                    parent=None if raw.get("parent") is None else str(raw["parent"]),
                )
            )
        return cls(str(data.get("name", "codebook")), tuple(codes))

    @classmethod
    def from_strategy(
        cls,
        goals: Sequence[Mapping[str, Any]],
        *,
        name: str = "strategy",
        actions: bool = True,
        focus_populations: bool = True,
        themes: Sequence[Mapping[str, Any]] = (),
        lexicon: Codebook | None = None,
    ) -> Codebook:
        """A codebook from a strategy's goals as plain dicts (as in a strategy YAML file).

        Each goal needs ``short_name`` (the code id) and ``title``; ``statement``, ``actions``
        (``code``, optional ``slug``, ``title``) and ``focus_populations`` (``slug``,
        ``name``) are used when present. A goal's description is its title and statement
        followed by its action titles and focus populations. Action codes have the id
        ``slug`` or else ``code``; focus codes the id ``slug``; both have the goal as parent.
        `themes` are staff-defined codes as mappings (``id``, ``name``, ``description``,
        ``examples``, ``keywords``). `lexicon`: codes of that codebook with the same id lend
        their examples, keywords and related terms (e.g. the shipped goal codebook).
        """
        if not goals:
            raise ValueError("the strategy has no goals to build a codebook from")
        codes: list[Code] = []
        for number, goal in enumerate(goals, start=1):
            if not goal.get("short_name") or not goal.get("title"):
                raise ValueError(f"goal {number} needs a 'short_name' and a 'title'")
            goal_id = str(goal["short_name"])
            goal_actions = list(goal.get("actions") or [])
            focus = list(goal.get("focus_populations") or [])
            for action in goal_actions:
                if not action.get("title") or not (action.get("slug") or action.get("code")):
                    raise ValueError(f"goal {goal_id}: every action needs a 'code' and a 'title'")
            for population in focus:
                if not population.get("slug") or not population.get("name"):
                    raise ValueError(
                        f"goal {goal_id}: every focus population needs a 'slug' and a 'name'"
                    )
            parts = [str(goal["title"]) + ".", str(goal.get("statement") or "")]
            if goal_actions:
                parts.append("Actions: " + "; ".join(str(a["title"]) for a in goal_actions))
            if focus:
                parts.append("Focus populations: " + "; ".join(str(f["name"]) for f in focus))
            codes.append(
                Code(
                    id=goal_id,
                    name=str(goal["title"]),
                    kind="goal",
                    description=" ".join(" ".join(parts).split()),
                )
            )
            if actions:
                for action in goal_actions:
                    codes.append(
                        Code(
                            id=str(action.get("slug") or action["code"]),
                            name=str(action["title"]),
                            kind="action",
                            description=str(action["title"]),
                            parent=goal_id,
                        )
                    )
            if focus_populations:
                for population in focus:
                    codes.append(
                        Code(
                            id=str(population["slug"]),
                            name=str(population["name"]),
                            kind="focus",
                            description=str(population["name"]),
                            parent=goal_id,
                        )
                    )
        codebook = cls(name, tuple(codes))
        if themes:
            theme_data = [{"kind": "theme", **dict(theme)} for theme in themes]
            codebook = codebook.extended(Codebook.from_mapping({"codes": theme_data}).codes)
        if lexicon is not None:
            lent = {code.id: code for code in lexicon.codes}
            codebook = Codebook(
                codebook.name,
                tuple(
                    Code(
                        id=c.id,
                        name=c.name,
                        kind=c.kind,
                        description=c.description,
                        examples=c.examples or lent[c.id].examples,
                        keywords=c.keywords or lent[c.id].keywords,
                        related=c.related or lent[c.id].related,
                        parent=c.parent,
                    )
                    if c.id in lent
                    else c
                    for c in codebook.codes
                ),
            )
        return codebook


def _strings(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(str(item) for item in value)
    raise ValueError(f"expected a list of strings, found {value!r}")


def _data_path(name: str) -> Path:
    return DATA_DIR / name


def load_codebook(path: str | os.PathLike[str] | None = None) -> Codebook:
    """The codebook in a YAML file; without a path, the shipped goal codebook."""
    source = Path(path) if path is not None else _data_path("codebook.yaml")
    with source.open(encoding="utf-8-sig") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: expected a mapping with 'codes', found {type(data).__name__}")
    try:
        return Codebook.from_mapping(data)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from error


@dataclass(frozen=True)
class CodedExamples:
    """Comments with the codes a person gave them (training or evaluation data).

    Fields:
        texts: the comments.
        codes: for each comment, the set of code ids given (empty when none applies).
        source: where they came from (a file path, or "in memory").
    """

    texts: tuple[str, ...]
    codes: tuple[frozenset[str], ...]
    source: str = "in memory"

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.codes):
            raise ValueError(
                f"{self.source}: {len(self.texts)} texts but {len(self.codes)} code sets"
            )

    @property
    def n(self) -> int:
        return len(self.texts)

    def counts(self, code_ids: Sequence[str]) -> dict[str, int]:
        """How many examples carry each code."""
        return {c: sum(c in codes for codes in self.codes) for c in code_ids}

    def subset(self, indices: Iterable[int]) -> CodedExamples:
        chosen = list(indices)
        return CodedExamples(
            tuple(self.texts[i] for i in chosen), tuple(self.codes[i] for i in chosen), self.source
        )


def load_examples(
    path: str | os.PathLike[str] | None = None,
    *,
    text_column: str = "comment",
    codes_column: str = "goals",
) -> CodedExamples:
    """Coded comments from a CSV file (codes joined by '|', empty for none).

    Without a path: the shipped evaluation set ``austin-coded.csv`` (390 Austin comments
    coded to the four goals; see ``SOURCE.md`` beside it).
    """
    source = Path(path) if path is not None else _data_path("austin-coded.csv")
    texts: list[str] = []
    codes: list[frozenset[str]] = []
    with source.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        for column in (text_column, codes_column):
            if column not in columns:
                raise ValueError(_missing_column(source, column, columns))
        for row in reader:
            texts.append(row[text_column] or "")
            raw = row[codes_column] or ""
            codes.append(frozenset(part.strip() for part in raw.split("|") if part.strip()))
    return CodedExamples(tuple(texts), tuple(codes), str(source))


def _missing_column(source: object, column: str, columns: Sequence[str]) -> str:
    listed = ", ".join(repr(c) for c in columns) if columns else "(none: the file is empty)"
    return f"{source}: there is no column {column!r}; the columns are {listed}"


# --------------------------------------------------------------------------------------------
# Lexicon (zero-shot)


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _stem(word: str) -> str:
    """A crude stem for description words, used as a prefix ("neighborhoods" -> "neighborhood")."""
    for suffix in ("ing", "ies", "es", "ed", "s", "y", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class _Term:
    code: int
    weight: float
    words: tuple[str, ...]
    prefix: bool  # the last word matches any ending


class _Lexicon:
    """Matches every code's terms in token lists; caches what each distinct word matches."""

    def __init__(self, codebook: Codebook) -> None:
        self.n_codes = len(codebook.codes)
        terms: dict[tuple[tuple[str, ...], bool, int], float] = {}

        def add(pattern: str, code: int, weight: float) -> None:
            prefix = pattern.rstrip().endswith("*")
            words = tuple(_tokens(pattern.replace("*", " ")))
            if not words:
                return
            key = (words, prefix, code)
            terms[key] = max(weight, terms.get(key, 0.0))

        for index, code in enumerate(codebook.codes):
            for pattern in code.keywords:
                add(pattern, index, KEYWORD_WEIGHT)
            for pattern in code.related:
                add(pattern, index, RELATED_WEIGHT)
        # Words of names, descriptions and examples: weak evidence, shared between the codes
        # whose text contains them, so that a word every code mentions proves nothing.
        described: dict[str, set[int]] = {}
        for index, code in enumerate(codebook.codes):
            text = " ".join((code.name, code.description, *code.examples))
            for word in _tokens(text):
                if len(word) > 2 and word not in _STOPWORDS and not word.isdigit():
                    described.setdefault(_stem(word), set()).add(index)
        for stem, owners in described.items():
            for index in owners:
                key = ((stem,), True, index)
                if not any(
                    k[2] == index and _covers(k[0], k[1], stem) for k in terms if len(k[0]) == 1
                ):
                    base = (
                        DESCRIPTION_WEIGHT
                        if codebook.codes[index].keywords
                        else UNCURATED_DESCRIPTION_WEIGHT
                    )
                    terms[key] = max(base / len(owners), terms.get(key, 0.0))
        self.terms = tuple(
            _Term(code, weight, words, prefix)
            for (words, prefix, code), weight in sorted(terms.items())
        )
        self._exact: dict[str, list[int]] = {}
        self._prefix: dict[str, list[int]] = {}
        self._multi: dict[str, list[int]] = {}
        for term_id, term in enumerate(self.terms):
            if len(term.words) == 1:
                table = self._prefix if term.prefix else self._exact
                table.setdefault(term.words[0], []).append(term_id)
            else:
                self._multi.setdefault(term.words[0], []).append(term_id)
        self._prefix_lengths = sorted({len(p) for p in self._prefix})
        self._cache: dict[str, tuple[int, ...]] = {}
        self.weights = np.array([t.weight for t in self.terms])
        self.codes = np.array([t.code for t in self.terms], dtype=np.intp)

    def _single(self, word: str) -> tuple[int, ...]:
        found = self._cache.get(word)
        if found is None:
            hits = list(self._exact.get(word, ()))
            for length in self._prefix_lengths:
                if length > len(word):
                    break
                hits.extend(self._prefix.get(word[:length], ()))
            found = tuple(hits)
            if len(self._cache) < 500_000:
                self._cache[word] = found
        return found

    def matches(self, tokens: Sequence[str]) -> dict[int, tuple[int, int]]:
        """Distinct terms found: term id -> (first token, token count) of its first match."""
        found: dict[int, tuple[int, int]] = {}
        for position, word in enumerate(tokens):
            for term_id in self._single(word):
                found.setdefault(term_id, (position, 1))
            for term_id in self._multi.get(word, ()):
                if term_id in found:
                    continue
                term = self.terms[term_id]
                size = len(term.words)
                window = tokens[position : position + size]
                if len(window) == size and all(
                    w == t for w, t in zip(window[1:-1], term.words[1:-1], strict=True)
                ):
                    last, wanted = window[-1], term.words[-1]
                    if last == wanted or (term.prefix and last.startswith(wanted)):
                        found[term_id] = (position, size)
        return found

    def found(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Which distinct terms each text contains (n x terms, ones)."""
        indptr = [0]
        indices: list[int] = []
        for text in texts:
            indices.extend(sorted(self.matches(_tokens(text))))
            indptr.append(len(indices))
        data = np.ones(len(indices))
        return sparse.csr_matrix(
            (data, np.array(indices, dtype=np.int32), np.array(indptr, dtype=np.int64)),
            shape=(len(texts), len(self.terms)),
        )

    def evidence(self, found: sparse.csr_matrix) -> FloatArray:
        """Summed weights of each code's terms found (n x codes)."""
        weights = sparse.csr_matrix(
            (self.weights, (np.arange(len(self.terms)), self.codes)),
            shape=(len(self.terms), self.n_codes),
        )
        return cast(FloatArray, np.asarray((found @ weights).todense()))

    def explain(self, text: str) -> list[list[tuple[float, str]]]:
        """For each code, (weight, the comment's words) of every term found, heaviest first."""
        tokens = _tokens(text)
        per_code: list[list[tuple[float, str]]] = [[] for _ in range(self.n_codes)]
        for term_id, (start, size) in self.matches(tokens).items():
            term = self.terms[term_id]
            per_code[term.code].append((term.weight, " ".join(tokens[start : start + size])))
        for entries in per_code:
            entries.sort(key=lambda entry: (-entry[0], entry[1]))
        return per_code


def _covers(words: tuple[str, ...], prefix: bool, stem: str) -> bool:
    word = words[0]
    return stem == word or (prefix and stem.startswith(word)) or word.startswith(stem)


def _zero_shot_scores(evidence: FloatArray) -> FloatArray:
    return 1.0 - np.exp2(-evidence)


@dataclass(frozen=True)
class _Lexical:
    """What the lexicon found in some texts: terms (n x terms) and zero-shot scores."""

    found: sparse.csr_matrix
    zero_shot: FloatArray

    @classmethod
    def of(cls, lexicon: _Lexicon, texts: Sequence[str]) -> _Lexical:
        found = lexicon.found(texts)
        return cls(found, _zero_shot_scores(lexicon.evidence(found)))

    def rows(self, indices: npt.NDArray[np.intp]) -> _Lexical:
        return _Lexical(self.found[indices], self.zero_shot[indices])


# --------------------------------------------------------------------------------------------
# Coders


@dataclass(frozen=True)
class _Model:
    words: TfidfVectorizer
    chars: TfidfVectorizer | None
    prior_weight: float
    term_weight: float
    classifiers: Mapping[int, LogisticRegression]  # code index -> fitted model
    train_words: sparse.csr_matrix  # word TF-IDF of the training texts (nearest examples)
    train: CodedExamples
    embed: Embedder | None


@dataclass(frozen=True)
class Coder:
    """A coder ready to code comments; build it with :func:`zero_shot_coder` or
    :func:`train_coder`.

    Fields:
        codebook: the codes it assigns.
        method: ``zero-shot`` or ``supervised``.
        thresholds: per code, the decision threshold on the raw score (the blend below, or
            the zero-shot score); scores are rescaled so that this threshold reads 0.5.
        blends: per code, the weight of the supervised model in the raw score
            ``blend * model probability + (1 - blend) * zero-shot score`` (0: zero-shot only).
        n_examples: coded examples it learnt from (0 for zero-shot).
        trained_codes: codes with a supervised model; the others use their zero-shot score.
        cv_f1: per trained code, the F1 at the chosen threshold in the cross-validation on the
            training examples (optimistic: the threshold was chosen on the same predictions).
        description: how it codes, in words.
    """

    codebook: Codebook
    method: Literal["zero-shot", "supervised"]
    thresholds: Mapping[str, float]
    blends: Mapping[str, float]
    n_examples: int
    trained_codes: tuple[str, ...]
    cv_f1: Mapping[str, float]
    description: str
    _lexicon: _Lexicon = field(repr=False, compare=False)
    _model: _Model | None = field(default=None, repr=False, compare=False)

    @property
    def training_examples(self) -> CodedExamples | None:
        """The coded examples a supervised coder learnt from (None for zero-shot)."""
        return self._model.train if self._model is not None else None

    def raw_scores(self, texts: Sequence[str]) -> FloatArray:
        """Raw scores (n x codes): model probabilities, or zero-shot scores."""
        texts = list(texts)
        lexical = _Lexical.of(self._lexicon, texts)
        zero_shot = lexical.zero_shot
        if self._model is None or not texts:
            return zero_shot
        features = _features(self._model, texts, lexical)
        out = zero_shot.copy()
        for index, classifier in self._model.classifiers.items():
            weight = self.blends[self.codebook.ids[index]]
            probability = classifier.predict_proba(features)[:, 1]
            out[:, index] = weight * probability + (1.0 - weight) * zero_shot[:, index]
        return out

    def scores(self, texts: Sequence[str]) -> FloatArray:
        """Scores in [0, 1] (n x codes), each code's threshold mapped to 0.5."""
        raw = self.raw_scores(texts)
        cut = np.array([self.thresholds[c] for c in self.codebook.ids])
        return _rescale(raw, cut)


def _rescale(raw: FloatArray, cut: FloatArray) -> FloatArray:
    below = 0.5 * raw / np.maximum(cut, 1e-12)
    above = 0.5 + 0.5 * (raw - cut) / np.maximum(1.0 - cut, 1e-12)
    return cast(FloatArray, np.clip(np.where(raw < cut, below, above), 0.0, 1.0))


def _features(model: _Model, texts: Sequence[str], lexical: _Lexical) -> sparse.csr_matrix:
    blocks = [model.words.transform(texts)]
    if model.chars is not None:
        blocks.append(model.chars.transform(texts))
    blocks.append(sparse.csr_matrix(lexical.zero_shot * model.prior_weight))
    blocks.append(lexical.found * model.term_weight)
    if model.embed is not None:
        blocks.append(sparse.csr_matrix(_unit_rows(model.embed(texts))))
    return sparse.hstack(blocks, format="csr")


def _unit_rows(matrix: FloatArray) -> FloatArray:
    matrix = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def zero_shot_coder(codebook: Codebook | None = None) -> Coder:
    """A coder that needs no coded examples: lexicon and description words only."""
    codebook = codebook if codebook is not None else load_codebook()
    return Coder(
        codebook=codebook,
        method="zero-shot",
        thresholds=dict.fromkeys(codebook.ids, 0.5),
        blends=dict.fromkeys(codebook.ids, 0.0),
        n_examples=0,
        trained_codes=(),
        cv_f1={},
        description=(
            "zero-shot: weights of lexicon and description terms found, score 1 - 2^-evidence, "
            "threshold 0.5 (one keyword)"
        ),
        _lexicon=_Lexicon(codebook),
    )


def _examples(
    texts: Sequence[str] | CodedExamples, codes: Sequence[Collection[str]] | None
) -> CodedExamples:
    if isinstance(texts, CodedExamples):
        if codes is not None:
            raise ValueError("pass either CodedExamples or texts and codes, not both")
        return texts
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of comments, not one string")
    if codes is None:
        raise ValueError("codes are needed for every text")
    if len(texts) != len(codes):
        raise ValueError(f"got {len(texts)} texts but {len(codes)} code sets; they must match")
    return CodedExamples(tuple(texts), tuple(frozenset(c) for c in codes))


def _check_examples(examples: CodedExamples, codebook: Codebook) -> None:
    known = set(codebook.ids)
    for index, (text, codes) in enumerate(zip(examples.texts, examples.codes, strict=True)):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{examples.source}: example {index} has an empty text")
        if unknown := sorted(codes - known):
            raise ValueError(
                f"{examples.source}: example {index} has code(s) {', '.join(map(repr, unknown))} "
                f"that are not in codebook {codebook.name!r} (known: {', '.join(codebook.ids)})"
            )


def _label_matrix(examples: CodedExamples, code_ids: Sequence[str]) -> BoolArray:
    return np.array([[c in codes for c in code_ids] for codes in examples.codes], dtype=bool)


def _strata(labels: BoolArray, minimum: int = 2) -> npt.NDArray[np.intp]:
    """One stratum per row for multi-label splits: its rarest code, or -1 for none.

    Strata with fewer than `minimum` rows join the "none" stratum (splitters need several),
    and a "none" stratum still that small joins the largest one.
    """
    frequency = labels.sum(axis=0)
    order = np.argsort(frequency, kind="stable")
    strata = np.full(labels.shape[0], -1, dtype=np.intp)
    for code in order[::-1]:
        strata[labels[:, code]] = code
    values, counts = np.unique(strata, return_counts=True)
    for value, count in zip(values, counts, strict=True):
        if count < minimum:
            strata[strata == value] = -1
    if 0 < np.sum(strata == -1) < minimum:  # still too small: join the largest stratum
        values, counts = np.unique(strata, return_counts=True)
        strata[strata == -1] = values[np.argmax(counts)]
    return strata


def _f1_at(y: BoolArray, p: FloatArray, cut: float) -> float:
    predicted = p >= cut
    denominator = float(predicted.sum() + y.sum())
    return 2.0 * float(np.sum(predicted & y)) / denominator if denominator else 0.0


_CUTS = tuple(float(c) for c in np.round(np.arange(0.05, 0.951, 0.025), 3))
_BLENDS = tuple(float(b) for b in np.round(np.arange(0.0, 1.001, 0.1), 1))


def _best_blend(
    y: BoolArray, model: FloatArray, zero_shot: FloatArray, blends: Sequence[float] = _BLENDS
) -> tuple[float, float, float]:
    """(blend, threshold, F1) maximising F1 of blend * model + (1 - blend) * zero-shot.

    Ties go to the blend closest to 0.5, then the threshold closest to 0.5.
    """
    best = (-1.0, 0.0, 0.0, 0.0)  # F1, -distance of blend, -distance of cut; then values
    chosen = (0.5, 0.5)
    for blend in blends:
        p = blend * model + (1.0 - blend) * zero_shot
        for cut in _CUTS:
            key = (round(_f1_at(y, p, cut), 12), -abs(blend - 0.5), -abs(cut - 0.5))
            if key > best[:3]:
                best = (*key, 0.0)
                chosen = (blend, cut)
    return chosen[0], chosen[1], best[0]


@dataclass(frozen=True)
class _Options:
    seed: int
    char_ngrams: bool
    prior_weight: float
    term_weight: float
    c: float
    embed: Embedder | None


def _fit_model(
    examples: CodedExamples,
    labels: BoolArray,
    trainable: Sequence[int],
    lexical: _Lexical,
    options: _Options,
) -> _Model:
    texts = list(examples.texts)
    words = TfidfVectorizer(
        token_pattern=_WORD_PATTERN, ngram_range=(1, 2), sublinear_tf=True, dtype=np.float64
    )
    train_words = words.fit_transform(texts).tocsr()
    chars = None
    if options.char_ngrams:
        chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, dtype=np.float64
        )
        chars.fit(texts)
    classifiers: dict[int, LogisticRegression] = {}
    model = _Model(
        words,
        chars,
        options.prior_weight,
        options.term_weight,
        classifiers,
        train_words,
        examples,
        options.embed,
    )
    features = _features(model, texts, lexical)
    for index in trainable:
        classifier = LogisticRegression(
            C=options.c,
            class_weight="balanced",
            solver="liblinear",
            random_state=options.seed,
            max_iter=1000,
        )
        classifier.fit(features, labels[:, index])
        classifiers[index] = classifier
    return model


def train_coder(
    texts: Sequence[str] | CodedExamples,
    codes: Sequence[Collection[str]] | None = None,
    *,
    codebook: Codebook | None = None,
    seed: int = 0,
    folds: int = 3,
    char_ngrams: bool = False,
    prior_weight: float = 3.0,
    term_weight: float = 1.0,
    c: float = 4.0,
    embed: Embedder | None = None,
) -> Coder:
    """A supervised coder learnt from coded examples (staff codes or the shipped set).

    `texts` and `codes` (one collection of code ids per text, empty for none), or a
    :class:`CodedExamples` alone. For each code with at least 3 positive and 3 negative
    examples, a logistic regression (one-vs-rest, balanced class weights, inverse
    regularisation `c`) on: word 1-2-gram TF-IDF; character 2-4-gram TF-IDF within words if
    `char_ngrams` (off by default: no better on the evaluation set and five times slower);
    every code's zero-shot score times `prior_weight`; one indicator per lexicon term found,
    times `term_weight`; and, if `embed` is given, the unit-length vectors it returns for a
    list of texts (e.g. from a packaged sentence-embedding model).

    The code's final score is ``blend * model + (1 - blend) * zero-shot``; the blend (0 to 1
    by 0.1) and the threshold (0.05 to 0.95 by 0.025) are those maximising F1 over
    `folds`-fold cross-validation on these examples only (out-of-fold predictions).
    Raises ValueError for mismatched lengths, empty texts or codes not in the codebook.
    """
    codebook = codebook if codebook is not None else load_codebook()
    examples = _examples(texts, codes)
    if examples.n == 0:
        raise ValueError("no coded examples to learn from; use zero_shot_coder() instead")
    _check_examples(examples, codebook)
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    options = _Options(seed, char_ngrams, prior_weight, term_weight, c, embed)
    lexicon = _Lexicon(codebook)
    labels = _label_matrix(examples, codebook.ids)
    positives = labels.sum(axis=0)
    trainable = [
        i
        for i in range(len(codebook.ids))
        if min(positives[i], examples.n - positives[i]) >= MIN_EXAMPLES_PER_CLASS
    ]
    lexical = _Lexical.of(lexicon, examples.texts)
    zero_shot = lexical.zero_shot
    thresholds = dict.fromkeys(codebook.ids, 0.5)
    blends = dict.fromkeys(codebook.ids, 0.0)
    cv_f1: dict[str, float] = {}
    n_folds = folds
    if trainable:
        out_of_fold = np.zeros((examples.n, len(codebook.ids)))
        n_folds = max(2, min(folds, int(min(positives[i] for i in trainable))))
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        strata = _strata(labels[:, trainable], n_folds)
        for fit_rows, held_rows in splitter.split(np.zeros(examples.n), strata):
            fold_labels = labels[fit_rows]
            usable = [i for i in trainable if 0 < fold_labels[:, i].sum() < len(fit_rows)]
            fold_model = _fit_model(
                examples.subset(fit_rows), fold_labels, usable, lexical.rows(fit_rows), options
            )
            held_texts = [examples.texts[i] for i in held_rows]
            features = _features(fold_model, held_texts, lexical.rows(held_rows))
            for i in trainable:
                classifier = fold_model.classifiers.get(i)
                out_of_fold[held_rows, i] = (
                    classifier.predict_proba(features)[:, 1]
                    if classifier is not None
                    else zero_shot[held_rows, i]
                )
        for i in trainable:
            code_id = codebook.ids[i]
            blends[code_id], thresholds[code_id], cv_f1[code_id] = _best_blend(
                labels[:, i], out_of_fold[:, i], zero_shot[:, i]
            )
    model = _fit_model(examples, labels, trainable, lexical, options)
    return Coder(
        codebook=codebook,
        method="supervised",
        thresholds=thresholds,
        blends=blends,
        n_examples=examples.n,
        trained_codes=tuple(codebook.ids[i] for i in trainable),
        cv_f1=cv_f1,
        description=(
            f"supervised: logistic regression per code (C={c:g}, balanced) on word 1-2-gram"
            + (" and char 2-4-gram" if char_ngrams else "")
            + f" TF-IDF, zero-shot scores (x{prior_weight:g}) and lexicon terms "
            f"(x{term_weight:g})"
            + (", embeddings" if embed is not None else "")
            + f"; blend with zero-shot and thresholds by {n_folds}-fold "
            f"CV on the {examples.n} training examples"
        ),
        _lexicon=lexicon,
        _model=model,
    )


@lru_cache(maxsize=1)
def _default_coder() -> Coder:
    return train_coder(load_examples(), codebook=load_codebook())


def default_coder() -> Coder:
    """The coder ``code_csv`` uses by default: the shipped codebook trained on the shipped
    coded examples (built once per process)."""
    return _default_coder()


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class NearestExample:
    """The coded example most like a comment.

    Fields: index (in the coder's training examples), text, codes (as coded), similarity
    (cosine of word TF-IDF, 0 to 1).
    """

    index: int
    text: str
    codes: tuple[str, ...]
    similarity: float


@dataclass(frozen=True)
class CodedComment:
    """One comment's coding.

    Fields:
        index: its position in the input.
        codes: the codes assigned (score >= 0.5), in codebook order; empty for none.
        scores: per code, the score in [0, 1] (0.5 = the code's decision threshold).
        confidence: the confidence of its least certain decision (0.5 to 1): a code's score
            if assigned, 1 - score if not. 1.0 for an empty comment.
        terms: per code, the comment's words that drove the score (explained codings only).
        nearest: the nearest coded example (supervised coders, explained codings only).
        empty: the comment has no words, so nothing was coded.
    """

    index: int
    codes: tuple[str, ...]
    scores: Mapping[str, float]
    confidence: float
    terms: Mapping[str, tuple[str, ...]]
    nearest: tuple[NearestExample, ...]
    empty: bool


@dataclass(frozen=True)
class CodingResult:
    """The coding of a list of comments.

    Fields:
        items: one :class:`CodedComment` per comment, in input order.
        code_ids: the codebook's code ids (the columns of `scores`).
        scores: n x codes scores in [0, 1] (0.5 = threshold).
        assigned: n x codes, whether each code was assigned.
        confidence: per comment, as in :class:`CodedComment`.
        method: the coder's description.
        n: number of comments; n_empty: how many were empty (coded as none).
    """

    items: tuple[CodedComment, ...]
    code_ids: tuple[str, ...]
    scores: FloatArray
    assigned: BoolArray
    confidence: FloatArray
    method: str
    n: int
    n_empty: int

    def counts(self) -> dict[str, int]:
        """How many comments got each code."""
        return {c: int(self.assigned[:, i].sum()) for i, c in enumerate(self.code_ids)}


def _decision_confidence(scores: FloatArray) -> FloatArray:
    if scores.shape[1] == 0:
        return np.ones(scores.shape[0])
    return cast(FloatArray, np.min(np.maximum(scores, 1.0 - scores), axis=1))


def _is_empty(text: object) -> bool:
    return not isinstance(text, str) or _WORD.search(text) is None


def _code_arrays(coder: Coder, texts: Sequence[str]) -> tuple[FloatArray, BoolArray, FloatArray]:
    empty = np.array([_is_empty(t) for t in texts], dtype=bool)
    scores = np.zeros((len(texts), len(coder.codebook.ids)))
    if (~empty).any():
        kept = [t for t, e in zip(texts, empty, strict=True) if not e]
        scores[~empty] = coder.scores(kept)
    assigned = scores >= 0.5
    confidence = _decision_confidence(scores)
    confidence[empty] = 1.0
    return scores, assigned, confidence


def code_comments(
    texts: Sequence[str],
    coder: Coder | None = None,
    *,
    explain: bool = True,
    max_terms: int = 6,
) -> CodingResult:
    """Code each comment with `coder` (default: :func:`default_coder`).

    Empty comments (no letters or digits, or not a string) get no codes, confidence 1.0 and
    ``empty=True``. With ``explain=False`` the words and nearest examples are not computed
    (much faster for large batches).
    """
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of comments, not one string")
    coder = coder if coder is not None else default_coder()
    texts = list(texts)
    scores, assigned, confidence = _code_arrays(coder, texts)
    ids = coder.codebook.ids
    explanations = _explanations(coder, texts, max_terms) if explain else None
    nearest = _nearest(coder, texts) if explain else None
    items = []
    for row, text in enumerate(texts):
        items.append(
            CodedComment(
                index=row,
                codes=tuple(c for c, on in zip(ids, assigned[row], strict=True) if on),
                scores={c: float(s) for c, s in zip(ids, scores[row], strict=True)},
                confidence=float(confidence[row]),
                terms=explanations[row] if explanations is not None else {},
                nearest=nearest[row] if nearest is not None else (),
                empty=_is_empty(text),
            )
        )
    return CodingResult(
        items=tuple(items),
        code_ids=ids,
        scores=scores,
        assigned=assigned,
        confidence=confidence,
        method=coder.description,
        n=len(texts),
        n_empty=sum(item.empty for item in items),
    )


def _explanations(
    coder: Coder, texts: Sequence[str], max_terms: int
) -> list[dict[str, tuple[str, ...]]]:
    ids = coder.codebook.ids
    out: list[dict[str, tuple[str, ...]]] = []
    model = coder._model
    word_rows = model.words.transform(texts) if model is not None and texts else None
    vocabulary = model.words.get_feature_names_out() if model is not None else None
    for row, text in enumerate(texts):
        if _is_empty(text):
            out.append(dict.fromkeys(ids, ()))
            continue
        lexical = coder._lexicon.explain(text)
        terms: dict[str, tuple[str, ...]] = {}
        for index, code_id in enumerate(ids):
            words = [w for _, w in lexical[index]]
            classifier = model.classifiers.get(index) if model is not None else None
            if classifier is not None and word_rows is not None and vocabulary is not None:
                vector = word_rows.getrow(row)
                weights = classifier.coef_[0][: vector.shape[1]]
                contribution = vector.multiply(weights).tocoo()
                order = np.argsort(-contribution.data)
                words.extend(
                    str(vocabulary[contribution.col[k]]) for k in order if contribution.data[k] > 0
                )
            terms[code_id] = tuple(dict.fromkeys(words))[:max_terms]
        out.append(terms)
    return out


def _nearest(coder: Coder, texts: Sequence[str]) -> list[tuple[NearestExample, ...]]:
    model = coder._model
    if model is None or not texts:
        return [() for _ in texts]
    similarity = (model.words.transform(texts) @ model.train_words.T).tocsr()
    out: list[tuple[NearestExample, ...]] = []
    for row, text in enumerate(texts):
        line = similarity.getrow(row)
        if _is_empty(text) or line.nnz == 0:
            out.append(())
            continue
        best = int(line.indices[np.argmax(line.data)])
        codes = model.train.codes[best]
        out.append(
            (
                NearestExample(
                    index=best,
                    text=model.train.texts[best],
                    codes=tuple(c for c in coder.codebook.ids if c in codes),
                    similarity=round(float(line.data.max()), 6),
                ),
            )
        )
    return out


def least_confident_first(result: CodingResult, *, limit: int | None = None) -> tuple[int, ...]:
    """Comment indices in review order: least confident first (active learning).

    Ties keep input order; empty comments come last. `limit` keeps only the first ones.
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be zero or more, got {limit}")
    empty = np.array([item.empty for item in result.items], dtype=bool)
    order = np.lexsort((np.arange(result.n), result.confidence, empty))
    chosen = order if limit is None else order[:limit]
    return tuple(int(i) for i in chosen)


# --------------------------------------------------------------------------------------------
# Agreement


def cohen_kappa(first: Sequence[object], second: Sequence[object]) -> float:
    """Cohen's kappa between two coders' labels for the same items (any hashable labels).

    kappa = (p_o - p_e) / (1 - p_e). NaN when it is undefined: both coders gave every item
    the same single label (p_e = 1).

    >>> round(cohen_kappa([1, 1, 0, 0, 1], [1, 0, 0, 0, 1]), 4)
    0.6154
    """
    if len(first) != len(second):
        raise ValueError(f"the coders coded {len(first)} and {len(second)} items; they must match")
    if not first:
        raise ValueError("no items to compare")
    labels = sorted({*first, *second}, key=repr)
    index = {label: i for i, label in enumerate(labels)}
    table = np.zeros((len(labels), len(labels)))
    for a, b in zip(first, second, strict=True):
        table[index[a], index[b]] += 1
    n = table.sum()
    observed = np.trace(table) / n
    expected = float(table.sum(axis=1) @ table.sum(axis=0)) / n**2
    if math.isclose(expected, 1.0):
        return math.nan
    return float((observed - expected) / (1.0 - expected))


@dataclass(frozen=True)
class CodeAgreement:
    """Agreement on one code between a coder (`first`) and a reference coder.

    Fields:
        code: the code id.
        n: items compared; n_first, n_reference: items each coder gave this code.
        observed: share of items on which they agree.
        kappa: Cohen's kappa (symmetric; NaN when undefined).
        precision, recall, f1: of `first` against the reference (0 when undefined).
    """

    code: str
    n: int
    n_first: int
    n_reference: int
    observed: float
    kappa: float
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class AgreementReport:
    """Per-code agreement plus summaries.

    Fields: codes (one :class:`CodeAgreement` each), macro_f1 (mean F1 over codes),
    mean_kappa (mean over codes where it is defined; NaN if none), exact_match (share of
    items whose whole code set agrees), n.
    """

    codes: tuple[CodeAgreement, ...]
    macro_f1: float
    mean_kappa: float
    exact_match: float
    n: int

    def by_code(self) -> dict[str, CodeAgreement]:
        return {entry.code: entry for entry in self.codes}


def agreement(
    first: Sequence[Collection[str]],
    reference: Sequence[Collection[str]],
    codes: Sequence[str],
) -> AgreementReport:
    """Agreement per code between two codings of the same items.

    Between two people, read the kappas (symmetric). Between a model (`first`) and people
    (`reference`), also read precision, recall and F1 per code and the macro-F1.

    >>> report = agreement([{"A"}, {"A", "B"}, set()], [{"A"}, {"B"}, set()], ["A", "B"])
    >>> report.by_code()["A"].precision, report.by_code()["B"].recall
    (0.5, 1.0)
    """
    if len(first) != len(reference):
        raise ValueError(
            f"the codings cover {len(first)} and {len(reference)} items; they must match"
        )
    if not first:
        raise ValueError("no items to compare")
    if not codes:
        raise ValueError("no codes to compare")
    entries = []
    for code in codes:
        a = [code in item for item in first]
        b = [code in item for item in reference]
        tp = sum(x and y for x, y in zip(a, b, strict=True))
        n_a, n_b = sum(a), sum(b)
        precision = tp / n_a if n_a else 0.0
        recall = tp / n_b if n_b else 0.0
        f1 = 2 * tp / (n_a + n_b) if (n_a + n_b) else 0.0
        entries.append(
            CodeAgreement(
                code=code,
                n=len(a),
                n_first=n_a,
                n_reference=n_b,
                observed=sum(x == y for x, y in zip(a, b, strict=True)) / len(a),
                kappa=cohen_kappa(a, b),
                precision=precision,
                recall=recall,
                f1=f1,
            )
        )
    kappas = [e.kappa for e in entries if not math.isnan(e.kappa)]
    wanted = set(codes)
    exact = sum(
        (set(x) & wanted) == (set(y) & wanted) for x, y in zip(first, reference, strict=True)
    )
    return AgreementReport(
        codes=tuple(entries),
        macro_f1=float(np.mean([e.f1 for e in entries])),
        mean_kappa=float(np.mean(kappas)) if kappas else math.nan,
        exact_match=exact / len(first),
        n=len(first),
    )


# --------------------------------------------------------------------------------------------
# Evaluation


@dataclass(frozen=True)
class CrossValidationResult:
    """Macro-F1 of a coder over repeated stratified train/test splits.

    Fields:
        train_size: training examples per split (0: the zero-shot coder, no training).
        repeats: number of splits.
        test_size: held-out examples per split.
        macro_f1: mean macro-F1 over splits; macro_f1_sd: its standard deviation (ddof=1);
            macro_f1_min, macro_f1_max: its range.
        per_split: the macro-F1 of each split.
        per_code_f1: per code, the mean F1 over splits.
        codes: the codes evaluated.
        seed: the seed of the splits (split i uses the i-th split of one seeded splitter).
        method: the coder's description.
    """

    train_size: int
    repeats: int
    test_size: int
    macro_f1: float
    macro_f1_sd: float
    macro_f1_min: float
    macro_f1_max: float
    per_split: tuple[float, ...]
    per_code_f1: Mapping[str, float]
    codes: tuple[str, ...]
    seed: int
    method: str


def cross_validate(
    examples: CodedExamples,
    *,
    codebook: Codebook | None = None,
    train_size: int = 200,
    repeats: int = 10,
    seed: int = 0,
    **train_options: Any,
) -> CrossValidationResult:
    """Train on `train_size` examples and test on all the others, `repeats` times.

    Splits are stratified on each example's rarest code (StratifiedShuffleSplit, `seed`);
    thresholds are tuned inside each training set only, so no test row is ever seen in
    training. ``train_size=0`` evaluates the zero-shot coder on the same kind of splits
    (``test_size`` = all but 200 rows, so figures compare with the 200-example ones).
    `train_options` go to :func:`train_coder`.
    """
    codebook = codebook if codebook is not None else load_codebook()
    _check_examples(examples, codebook)
    ids = codebook.ids
    labels = _label_matrix(examples, ids)
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if not 0 <= train_size < examples.n:
        raise ValueError(
            f"train_size must be between 0 and {examples.n - 1} (the examples number "
            f"{examples.n}), got {train_size}"
        )
    split_train = train_size if train_size > 0 else min(200, examples.n // 2)
    splitter = StratifiedShuffleSplit(n_splits=repeats, train_size=split_train, random_state=seed)
    zero_shot = zero_shot_coder(codebook) if train_size == 0 else None
    per_split: list[float] = []
    per_code: list[list[float]] = []
    method = ""
    test_size = 0
    for train_rows, test_rows in splitter.split(np.zeros(examples.n), _strata(labels)):
        coder = zero_shot or train_coder(
            examples.subset(train_rows), codebook=codebook, seed=seed, **train_options
        )
        method = coder.description
        test = examples.subset(test_rows)
        result = code_comments(test.texts, coder, explain=False)
        predicted = [set(item.codes) for item in result.items]
        report = agreement(predicted, test.codes, ids)
        per_split.append(report.macro_f1)
        per_code.append([entry.f1 for entry in report.codes])
        test_size = len(test_rows)
    values = np.array(per_split)
    return CrossValidationResult(
        train_size=train_size,
        repeats=repeats,
        test_size=test_size,
        macro_f1=float(values.mean()),
        macro_f1_sd=float(values.std(ddof=1)) if repeats > 1 else 0.0,
        macro_f1_min=float(values.min()),
        macro_f1_max=float(values.max()),
        per_split=tuple(float(v) for v in values),
        per_code_f1={c: float(np.mean([row[i] for row in per_code])) for i, c in enumerate(ids)},
        codes=ids,
        seed=seed,
        method=method,
    )


# --------------------------------------------------------------------------------------------
# CSV


@dataclass(frozen=True)
class CsvCodingSummary:
    """What :func:`code_csv` did.

    Fields:
        input_path, output_path: the files read and written.
        text_column: the column coded.
        rows: records read, every one written; empty: records whose text was empty (written
            with empty ``goals`` and ``confidence``).
        blank_lines: blank lines in the input, which are not records and are not written.
        counts: per goal, rows given it.
        method: the coder's description.
    """

    input_path: str
    output_path: str
    text_column: str
    rows: int
    empty: int
    blank_lines: int
    counts: Mapping[str, int]
    method: str


def _read_error(source: Path, reader: Any, error: Exception) -> ValueError:
    if isinstance(error, UnicodeDecodeError):
        return ValueError(
            f"{source}: not UTF-8 text (byte {error.start} of a block near line "
            f"{reader.line_num + 1}); save the file as CSV UTF-8 and try again"
        )
    return ValueError(f"{source}: line {reader.line_num}: {error}")


ExamplesArg = CodedExamples | str | os.PathLike[str] | Sequence[tuple[str, Collection[str]]]


def _coder_for(codebook: Codebook | None, examples: ExamplesArg | None) -> Coder:
    if codebook is None and examples is None:
        return default_coder()
    codebook = codebook if codebook is not None else load_codebook()
    if examples is None:
        examples = load_examples()
    if isinstance(examples, str | os.PathLike):
        examples = load_examples(examples)
    if not isinstance(examples, CodedExamples):
        pairs = list(examples)
        examples = CodedExamples(
            tuple(text for text, _ in pairs), tuple(frozenset(codes) for _, codes in pairs)
        )
    if examples.n == 0:
        return zero_shot_coder(codebook)
    return train_coder(examples, codebook=codebook)


def _chunks(rows: Iterator[list[str]], size: int) -> Iterator[list[list[str]]]:
    chunk: list[list[str]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def code_csv(
    input_path: str | os.PathLike[str],
    text_column: str,
    output_path: str | os.PathLike[str],
    codebook: Codebook | None = None,
    examples: ExamplesArg | None = None,
    *,
    chunk_size: int = 5_000,
) -> CsvCodingSummary:
    """Code the comments in one column of a CSV file and write them with their goals.

    Reads `input_path` (UTF-8, with or without a byte-order mark) and writes `output_path`
    (UTF-8) with every input column plus ``goals`` (the goal ids that apply, in codebook
    order, joined by '|', empty for none) and ``confidence`` (the confidence of the row's
    least certain goal decision, 0.5 to 1, three decimals; empty when the text is empty).
    If the input already has ``goals`` or ``confidence`` columns, their values are replaced.

    `codebook`: default the shipped goal codebook; only its goal codes are written.
    `examples`: coded examples to learn from - a :class:`CodedExamples`, a CSV path (columns
    ``comment`` and ``goals``) or (text, codes) pairs; default the shipped ``austin-coded.csv``;
    an empty sequence codes zero-shot. Rows are coded `chunk_size` at a time, so memory does
    not grow with the file; the output appears only when every row is written (a temporary
    file is renamed). Blank lines are not records: they are skipped and counted. Raises
    ValueError naming the file, record or column for bad input (a missing column, a record
    with the wrong number of fields, text that is not UTF-8).
    """
    source, target = Path(input_path), Path(output_path)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    coder = _coder_for(codebook, examples)
    goal_ids = coder.codebook.of_kind("goal").ids
    if not goal_ids:
        raise ValueError(f"codebook {coder.codebook.name!r} has no goal codes to write")
    goal_columns = [coder.codebook.ids.index(g) for g in goal_ids]
    counts = dict.fromkeys(goal_ids, 0)
    rows = empty = blank = 0
    with source.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as error:
            raise _read_error(source, reader, error) from error
        if header is None:
            raise ValueError(f"{source}: the file is empty (no header row)")
        if text_column not in header:
            raise ValueError(_missing_column(source, text_column, header))
        text_at = header.index(text_column)
        replace = {name: header.index(name) for name in ("goals", "confidence") if name in header}
        added = [name for name in ("goals", "confidence") if name not in replace]

        def records() -> Iterator[list[str]]:
            nonlocal blank
            number = 1  # the header is record 1
            try:
                for row in reader:
                    number += 1
                    if not row:  # a blank line, not a record
                        blank += 1
                        continue
                    if len(row) != len(header):
                        raise ValueError(
                            f"{source}: record {number} (line {reader.line_num}) has "
                            f"{len(row)} fields; the header has {len(header)}"
                        )
                    yield row
            except (csv.Error, UnicodeDecodeError) as error:
                raise _read_error(source, reader, error) from error

        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(header + added)
                for chunk in _chunks(records(), chunk_size):
                    texts = [row[text_at] for row in chunk]
                    scores, assigned, _ = _code_arrays(coder, texts)
                    confidence = _decision_confidence(scores[:, goal_columns])
                    goal_assigned = assigned[:, goal_columns]
                    for i, row in enumerate(chunk):
                        if _is_empty(texts[i]):
                            values = {"goals": "", "confidence": ""}
                            empty += 1
                        else:
                            chosen = [
                                g for g, on in zip(goal_ids, goal_assigned[i], strict=True) if on
                            ]
                            for g in chosen:
                                counts[g] += 1
                            values = {
                                "goals": "|".join(chosen),
                                "confidence": f"{confidence[i]:.3f}",
                            }
                        for name, at in replace.items():
                            row[at] = values[name]
                        writer.writerow(row + [values[name] for name in added])
                    rows += len(chunk)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return CsvCodingSummary(
        input_path=str(source),
        output_path=str(target),
        text_column=text_column,
        rows=rows,
        empty=empty,
        blank_lines=blank,
        counts=counts,
        method=coder.description,
    )
