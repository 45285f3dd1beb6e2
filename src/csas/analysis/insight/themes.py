"""Candidate themes: groups of similar comments, for staff to name and add to the codebook.

Comments that automatic coding left uncoded or coded with low confidence are grouped by the
words they use. Each group ("candidate theme") comes with its keywords, a few representative
quotes and a size, so that staff can decide what it is about, name it, and promote it into the
codebook. Nothing here names a theme: that is the staff's call.

How :func:`candidate_themes` works:

1. **What is clustered.** A comment is left out, with its reason in ``excluded``, when it is
   empty, has fewer than ``min_words`` words, or was coded with a confidence of at least
   ``max_confidence`` (when ``confidences`` are given). Exact duplicates (the same words,
   ignoring case, punctuation and spacing) are clustered once and then counted in their
   theme's ``size``; ``duplicate_of`` maps each repeat to the first copy.
2. **TF-IDF.** Each distinct comment becomes a vector of word and two-word-phrase weights
   (sublinear term frequency x inverse document frequency, scikit-learn's
   ``TfidfVectorizer``); English stop words are dropped unless ``stop_words="none"``. With 50
   or more distinct comments a term must occur in at least two of them. A comment left with no
   term at all is excluded as "no informative words".
3. **Spherical k-means.** The vectors are scaled to unit length and clustered by cosine
   similarity: k-means++ starts (seeded by ``seed``), centres renormalised after each update,
   the best of ``n_init`` starts by total similarity.
4. **How many themes.** Given ``k`` is used as is. Otherwise every k from 2 to
   ``min(max_k, round(sqrt(n / 2)))`` (n = distinct comments; at least 2) is tried and the k
   with the highest mean cosine silhouette wins (ties to the smaller k). sqrt(n / 2) is the
   usual rule of thumb for the number of clusters; the cap keeps the list short enough to
   review. Silhouettes of short texts are small (0.02-0.10 is typical): compare them between
   k, not with the 0.5 expected of well-separated numeric clusters.
5. **Keywords.** A term's ``weight`` is its mean TF-IDF weight in the theme's comments minus
   its mean in all other comments (how much more the theme uses it); the top ``n_keywords``
   with a positive weight are listed, with ``share``, the fraction of the theme's distinct
   comments that contain the term.
6. **Quotes.** The ``n_quotes`` distinct comments closest (by cosine) to the theme's centre,
   verbatim, with their input position.
7. **Coherence.** The mean normalised pointwise mutual information (NPMI, -1 to 1) of every
   pair among the theme's top ten single-word keywords, from how often they occur in the same
   comment across all clustered comments. Above 0 the keywords tend to occur together, which
   usually means a nameable theme; near or below 0 the theme is a mixed bag.

Example: nine comments about three things.

>>> comments = [
...     "The street lights are broken on our street",
...     "Please fix the broken street lights",
...     "Street lights out again, so dark at night",
...     "Buses are always late and the bus is crowded",
...     "More buses please, the bus never comes on time",
...     "The bus is late every single morning",
...     "Too many potholes on the road, fix the potholes",
...     "Potholes everywhere, the road is falling apart",
...     "Fix the road potholes near my house",
...     "ok",
... ]
>>> result = candidate_themes(comments, k=3, seed=0)
>>> result.k, [theme.size for theme in result.themes]
(3, [3, 3, 3])
>>> sorted(theme.keywords[0].term for theme in result.themes)
['bus', 'potholes', 'street']
>>> result.excluded
{9: 'too short (fewer than 3 words)'}
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import silhouette_samples
from sklearn.preprocessing import normalize

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
StopWords = Literal["english", "none"]

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
#: Tokens for TF-IDF: words of two or more letters (no digits, no underscores).
WORD_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"
#: Single-word keywords whose co-occurrence gives a theme's coherence.
COHERENCE_WORDS = 5
#: Above this many distinct comments, the silhouette is computed on a seeded sample of them.
SILHOUETTE_SAMPLE = 3000


@dataclass(frozen=True)
class Keyword:
    """A word or two-word phrase that characterises a theme.

    Fields: term; weight (mean TF-IDF weight in the theme's comments minus that in the other
    comments); share (fraction of the theme's distinct comments that contain it).
    """

    term: str
    weight: float
    share: float


@dataclass(frozen=True)
class Quote:
    """A comment quoted verbatim as an example of a theme.

    Fields: index (position in the input); id (``ids[index]``, or the index when no ids were
    given); text (exactly as given); similarity (cosine similarity to the theme's centre).
    """

    index: int
    id: Hashable
    text: str
    similarity: float


@dataclass(frozen=True)
class Theme:
    """One candidate theme.

    Fields:
        number: 0, 1, ... from the largest theme.
        keywords: the most characteristic terms, best first.
        quotes: representative comments, closest to the centre first.
        members: input positions of every comment in the theme, duplicates included.
        size: len(members).
        n_distinct: distinct comments in the theme.
        share: size / comments clustered.
        coherence: NPMI coherence of the top single-word keywords (-1 to 1).
        silhouette: mean cosine silhouette of the theme's distinct comments (-1 to 1).
    """

    number: int
    keywords: tuple[Keyword, ...]
    quotes: tuple[Quote, ...]
    members: tuple[int, ...]
    size: int
    n_distinct: int
    share: float
    coherence: float
    silhouette: float

    @property
    def label(self) -> str:
        """A provisional name from the top three keywords, until staff give a real one."""
        return " / ".join(keyword.term for keyword in self.keywords[:3])


@dataclass(frozen=True)
class CandidateThemes:
    """Candidate themes found among comments, and what happened to every comment.

    Fields:
        themes: the themes, largest first.
        k: the number of themes.
        k_rule: "given" or "silhouette".
        silhouette: mean cosine silhouette of the chosen clustering.
        silhouette_by_k: every k tried and its silhouette (only the given k when given).
        assignments: per input comment, its theme number, or None when excluded.
        excluded: input position -> why the comment was not clustered.
        duplicate_of: input position of a repeated comment -> position of its first copy.
        n_texts: comments given.
        n_clustered: comments placed in a theme (duplicates included).
        n_distinct: distinct comments clustered.
        n_terms: words and phrases in the TF-IDF vocabulary.
        seed: the seed of the k-means starts.
        method: how the themes were found, in words.
    """

    themes: tuple[Theme, ...]
    k: int
    k_rule: Literal["given", "silhouette"]
    silhouette: float
    silhouette_by_k: Mapping[int, float]
    assignments: tuple[int | None, ...]
    excluded: Mapping[int, str]
    duplicate_of: Mapping[int, int]
    n_texts: int
    n_clustered: int
    n_distinct: int
    n_terms: int
    seed: int
    method: str


def _spherical_kmeans(
    vectors: sp.csr_matrix, k: int, *, seed: int, n_init: int, max_iter: int = 100
) -> tuple[IntArray, FloatArray]:
    """Cluster unit-length rows by cosine similarity; the best of ``n_init`` seeded starts."""
    rng = np.random.default_rng(seed)
    n = vectors.shape[0]
    best: tuple[float, IntArray, FloatArray] | None = None
    for _ in range(n_init):
        chosen = [int(rng.integers(n))]
        distance = 1.0 - (vectors @ vectors[chosen[0]].T).toarray().ravel()
        for _ in range(1, k):
            weight = np.maximum(distance, 0.0) ** 2
            total = weight.sum()
            pick = int(rng.choice(n, p=weight / total)) if total > 0 else int(rng.integers(n))
            chosen.append(pick)
            distance = np.minimum(distance, 1.0 - (vectors @ vectors[pick].T).toarray().ravel())
        centres = vectors[chosen].toarray()
        labels = np.full(n, -1, dtype=np.int64)
        for _ in range(max_iter):
            similarity = np.asarray(vectors @ centres.T)
            new_labels = similarity.argmax(axis=1).astype(np.int64)
            if np.array_equal(new_labels, labels):
                break
            labels = new_labels
            membership = sp.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(k, n))
            sums = np.asarray((membership @ vectors).todense())
            empty = np.asarray(membership.sum(axis=1)).ravel() == 0
            sums[empty] = centres[empty]
            centres = normalize(sums)
        similarity = np.asarray(vectors @ centres.T)
        labels = similarity.argmax(axis=1).astype(np.int64)
        score = float(similarity.max(axis=1).sum())
        if best is None or score > best[0] + 1e-12:
            best = (score, labels, centres)
    if best is None:  # pragma: no cover - n_init >= 1 is validated
        raise ValueError("n_init must be at least 1")
    return best[1], best[2]


def _silhouette(
    vectors: sp.csr_matrix, labels: IntArray, *, seed: int
) -> tuple[float, FloatArray, IntArray]:
    """Mean cosine silhouette, per-sample values, and the rows they were computed on."""
    n = vectors.shape[0]
    rows = np.arange(n)
    if n > SILHOUETTE_SAMPLE:
        rows = np.sort(np.random.default_rng(seed).choice(n, SILHOUETTE_SAMPLE, replace=False))
    if np.unique(labels[rows]).size < 2:
        return 0.0, np.zeros(rows.size), rows
    values = silhouette_samples(vectors[rows], labels[rows], metric="cosine")
    return float(values.mean()), np.asarray(values, dtype=np.float64), rows


def _npmi(present: sp.csc_matrix, columns: Sequence[int]) -> float:
    """Mean NPMI over pairs of columns of a binary comment x term matrix."""
    n = present.shape[0]
    if len(columns) < 2 or n == 0:
        return 0.0
    block = present[:, list(columns)]
    together = np.asarray((block.T @ block).todense(), dtype=np.float64)
    alone = np.diag(together)
    scores = []
    for a in range(len(columns)):
        for b in range(a + 1, len(columns)):
            joint = together[a, b] / n
            if joint == 0:
                scores.append(-1.0)
            elif joint >= 1.0:
                scores.append(1.0)
            else:
                pmi = math.log(joint / ((alone[a] / n) * (alone[b] / n)))
                scores.append(pmi / -math.log(joint))
    return float(np.mean(scores))


def _validate(
    texts: Sequence[str | None],
    ids: Sequence[Hashable] | None,
    confidences: Sequence[float | None] | None,
    options: Mapping[str, tuple[object, int]],
    max_confidence: float,
    stop_words: str,
) -> None:
    if isinstance(texts, str):
        raise ValueError("texts must be a sequence of comments, not a single string")
    for position, text in enumerate(texts):
        if text is not None and not isinstance(text, str):
            raise ValueError(
                f"texts[{position}] is {type(text).__name__} {text!r}; expected a string or None"
            )
    for name, other in (("ids", ids), ("confidences", confidences)):
        if other is not None and len(other) != len(texts):
            raise ValueError(f"{name} has {len(other)} entries for {len(texts)} texts")
    for name, (value, low) in options.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, not {value!r}")
    if not 0.0 < max_confidence <= 1.0:
        raise ValueError(f"max_confidence must be in (0, 1], not {max_confidence!r}")
    if stop_words not in get_args(StopWords):
        raise ValueError(f"stop_words must be one of {get_args(StopWords)}, not {stop_words!r}")


def candidate_themes(
    texts: Sequence[str | None],
    *,
    ids: Sequence[Hashable] | None = None,
    confidences: Sequence[float | None] | None = None,
    max_confidence: float = 0.5,
    k: int | None = None,
    max_k: int = 12,
    min_words: int = 3,
    n_keywords: int = 10,
    n_quotes: int = 5,
    stop_words: StopWords = "english",
    seed: int = 0,
    n_init: int = 10,
) -> CandidateThemes:
    """Cluster comments into candidate themes (see the module docstring for the method).

    ``confidences[i]`` is the automatic coding's confidence for ``texts[i]`` (None: uncoded);
    comments at or above ``max_confidence`` are already coded and left out. Raises
    ValueError for bad options, and when fewer distinct usable comments remain than a
    clustering needs (k + 1, or 3 when k is chosen), saying how many were excluded and why.
    """
    options: dict[str, tuple[object, int]] = {
        "max_k": (max_k, 2),
        "min_words": (min_words, 1),
        "n_keywords": (n_keywords, 1),
        "n_quotes": (n_quotes, 1),
        "n_init": (n_init, 1),
        "seed": (seed, 0),
    }
    if k is not None:
        options["k"] = (k, 2)
    _validate(texts, ids, confidences, options, max_confidence, stop_words)

    excluded: dict[int, str] = {}
    duplicate_of: dict[int, int] = {}
    first_copy: dict[tuple[str, ...], int] = {}
    distinct: list[int] = []  # input position of each distinct usable comment
    for position, text in enumerate(texts):
        words = tuple(word.casefold() for word in _WORD.findall(text or ""))
        confidence = confidences[position] if confidences is not None else None
        if text is None or not text.strip():
            excluded[position] = "empty"
        elif len(words) < min_words:
            excluded[position] = f"too short (fewer than {min_words} words)"
        elif confidence is not None and confidence >= max_confidence:
            excluded[position] = f"already coded (confidence >= {max_confidence:g})"
        elif words in first_copy:
            duplicate_of[position] = first_copy[words]
        else:
            first_copy[words] = position
            distinct.append(position)

    def too_few(found: int, needed: int) -> ValueError:
        reasons: dict[str, int] = {}
        for reason in excluded.values():
            reasons[reason] = reasons.get(reason, 0) + 1
        detail = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
        return ValueError(
            f"only {found} distinct usable comment(s) of {len(texts)}"
            + (f" ({detail})" if detail else "")
            + (f", {len(duplicate_of)} duplicate(s)" if duplicate_of else "")
            + f"; candidate themes need at least {needed}"
        )

    needed = (k + 1) if k is not None else 3
    if len(distinct) < needed:
        raise too_few(len(distinct), needed)

    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2),
        stop_words="english" if stop_words == "english" else None,
        min_df=2 if len(distinct) >= 50 else 1,
        sublinear_tf=True,
        token_pattern=WORD_PATTERN,
        lowercase=True,
    )
    try:
        weights = sp.csr_matrix(vectorizer.fit_transform([texts[i] or "" for i in distinct]))
    except ValueError:  # scikit-learn: "empty vocabulary"
        weights = sp.csr_matrix((len(distinct), 0))
    terms = vectorizer.get_feature_names_out() if weights.shape[1] else np.array([], dtype=str)
    informative = np.asarray(weights.getnnz(axis=1)) > 0
    for empty_row in np.flatnonzero(~informative).tolist():
        excluded[distinct[empty_row]] = "no informative words"
    for repeat, original in list(duplicate_of.items()):
        if original in excluded:
            excluded[repeat] = excluded[original]
            del duplicate_of[repeat]
    keep_rows = np.flatnonzero(informative)
    distinct = [distinct[row] for row in keep_rows]
    weights = sp.csr_matrix(weights[keep_rows])
    if len(distinct) < needed:
        raise too_few(len(distinct), needed)
    vectors = sp.csr_matrix(normalize(weights))
    n = len(distinct)

    if k is not None:
        candidates = [k]
        k_rule: Literal["given", "silhouette"] = "given"
    else:
        largest = max(2, min(max_k, round(math.sqrt(n / 2)), n - 1))
        candidates = list(range(2, largest + 1))
        k_rule = "silhouette"
    silhouettes: dict[int, float] = {}
    best: tuple[float, int, IntArray, FloatArray, FloatArray, IntArray] | None = None
    for candidate in candidates:
        labels, centres = _spherical_kmeans(vectors, candidate, seed=seed, n_init=n_init)
        score, samples, sample_rows = _silhouette(vectors, labels, seed=seed)
        silhouettes[candidate] = score
        if best is None or score > best[0] + 1e-12:
            best = (score, candidate, labels, centres, samples, sample_rows)
    if best is None:  # pragma: no cover - there is always at least one candidate k
        raise ValueError("no number of themes to try")
    silhouette, _, labels, centres, samples, sample_rows = best

    # themes numbered from the largest (duplicates included); empty clusters dropped
    members_of: dict[int, list[int]] = {}
    for row, label in enumerate(labels):
        members_of.setdefault(int(label), []).append(row)
    repeats: dict[int, list[int]] = {}
    row_of = {position: row for row, position in enumerate(distinct)}
    for repeat, original in duplicate_of.items():
        repeats.setdefault(row_of[original], []).append(repeat)

    def size(label: int) -> int:
        return sum(1 + len(repeats.get(row, ())) for row in members_of[label])

    order = sorted(members_of, key=lambda label: (-size(label), min(members_of[label])))
    present = sp.csc_matrix((weights > 0).astype(np.float64))
    is_unigram = np.array([" " not in term for term in terms], dtype=bool)
    n_clustered = sum(size(label) for label in order)
    sample_silhouette = dict(zip(sample_rows.tolist(), samples.tolist(), strict=True))
    names = list(ids) if ids is not None else list(range(len(texts)))

    themes: list[Theme] = []
    assignments: list[int | None] = [None] * len(texts)
    for number, label in enumerate(order):
        rows = members_of[label]
        inside = np.zeros(n, dtype=bool)
        inside[rows] = True
        mean_in = np.asarray(weights[inside].mean(axis=0)).ravel()
        mean_out = (
            np.asarray(weights[~inside].mean(axis=0)).ravel()
            if (~inside).any()
            else np.zeros(weights.shape[1])
        )
        lift = mean_in - mean_out
        ranked = [int(j) for j in np.argsort(-lift, kind="stable") if lift[j] > 0]
        share_in = np.asarray(present[rows].mean(axis=0)).ravel()
        keywords = tuple(
            Keyword(term=str(terms[j]), weight=float(lift[j]), share=float(share_in[j]))
            for j in ranked[:n_keywords]
        )
        coherence = _npmi(present, [j for j in ranked if is_unigram[j]][:COHERENCE_WORDS])
        closeness = np.asarray(vectors[rows] @ centres[label]).ravel()
        quotes = tuple(
            Quote(
                index=distinct[rows[i]],
                id=names[distinct[rows[i]]],
                text=texts[distinct[rows[i]]] or "",
                similarity=float(closeness[i]),
            )
            for i in np.argsort(-closeness, kind="stable")[:n_quotes]
        )
        positions = sorted(
            position for row in rows for position in (distinct[row], *repeats.get(row, ()))
        )
        for position in positions:
            assignments[position] = number
        sampled = [sample_silhouette[row] for row in rows if row in sample_silhouette]
        themes.append(
            Theme(
                number=number,
                keywords=keywords,
                quotes=quotes,
                members=tuple(positions),
                size=len(positions),
                n_distinct=len(rows),
                share=len(positions) / n_clustered,
                coherence=coherence,
                silhouette=float(np.mean(sampled)) if sampled else 0.0,
            )
        )

    method = (
        f"Candidate themes: {n} distinct comments clustered ({len(duplicate_of)} duplicates "
        f"counted with them, {len(excluded)} of {len(texts)} excluded); TF-IDF of words and "
        f"two-word phrases ({weights.shape[1]} terms"
        + (", English stop words removed" if stop_words == "english" else "")
        + "); spherical k-means (cosine), best of "
        f"{n_init} k-means++ starts, seed {seed}; "
        + (
            f"k = {len(themes)} given"
            if k_rule == "given"
            else f"k = {len(themes)} of 2..{candidates[-1]} by mean cosine silhouette "
            f"({silhouette:.3f})"
        )
        + "; keywords by mean TF-IDF weight in the theme minus elsewhere; quotes closest to "
        "the theme centre; coherence = mean NPMI of the top single-word keywords."
    )
    return CandidateThemes(
        themes=tuple(themes),
        k=len(themes),
        k_rule=k_rule,
        silhouette=silhouette,
        silhouette_by_k=silhouettes,
        assignments=tuple(assignments),
        excluded=dict(sorted(excluded.items())),
        duplicate_of=dict(sorted(duplicate_of.items())),
        n_texts=len(texts),
        n_clustered=n_clustered,
        n_distinct=n,
        n_terms=int(weights.shape[1]),
        seed=seed,
        method=method,
    )
