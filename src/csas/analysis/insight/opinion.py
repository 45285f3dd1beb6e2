"""Opinion groups from agree / disagree / pass votes, the way Polis finds them.

Residents vote on short statements (imported from a Polis conversation or voted in csas).
:func:`opinion_groups` places every participant on a two-dimensional opinion map, groups
participants who vote alike, and says which statements set each group apart (representative
statements) and which statements every group agrees on (consensus statements). It follows
the published Polis method (``compdemocracy/polis``, ``math/``, read as a specification; no
code was copied) step by step:

1. **Vote matrix.** One row per participant, one column per statement; 1 = agree,
   -1 = disagree, 0 = pass (the Polis export's convention), blank where the participant never
   saw the statement. Votes on statements in ``moderated_out`` are left out of everything.
2. **Who is in the conversation.** A participant is clustered ("in-conv") once they have voted
   on at least ``min(min_votes, number of statements)`` statements (Polis: 7). If fewer than
   ``min_in_conv`` (Polis: 15) qualify, the most active remaining voters are added until there
   are. Polis also keeps anyone who *was* in-conv at an earlier point of the conversation; a
   snapshot of the votes cannot know that, so a few of Polis's grouped participants can be
   missing here (see the tests for the three shared conversations).
3. **PCA.** Blank cells take their statement's mean vote among in-conv participants and every
   column is centred, so a blank contributes exactly 0. The first two principal components come
   from a singular value decomposition of that matrix. Polis runs 100 steps of power iteration
   with deflation on the same matrix; power iteration converges to the leading right singular
   vectors, so the SVD gives the fixed point Polis iterates towards (up to sign, which does not
   change any grouping), without depending on a warm start.
4. **Sparsity-aware projection.** A participant's position is the sum over the statements they
   voted on of (vote - statement mean) x loading, scaled by sqrt(statements / votes cast), so
   someone who voted on a quarter of the statements is not pulled towards the centre of the
   map. (Because blanks are 0 after centring, the sum is the ordinary projection.)
5. **Base clusters.** k-means with ``base_k`` = 100 clusters (or one per distinct position when
   there are fewer) on the in-conv participants' positions.
6. **Opinion groups.** k-means over the base-cluster centres, each weighted by its number of
   participants, for k = 2 ... min(``max_k``, 2 + base clusters // 12); the k with the highest
   mean silhouette of the base-cluster centres (each centre counted once, as Polis does) wins;
   ties go to the smaller k. On the shared Polis conversations this unweighted silhouette
   agrees with Polis's exported groups better than one weighted by participants. Every
   k-means run uses k-means++ starts seeded by ``seed`` and keeps the best of ``n_init``
   starts, so a fixed seed gives the same groups every time. Groups are numbered 0, 1, ...
   from the largest (ties: by mean first coordinate).
7. **Representative statements** per group g and statement c (in-conv participants only,
   counting agree A, disagree D and seen S = A + D + passes):

   * ``probability`` pa = (A + 1) / (S + 2) (agree side; pd likewise for disagree), a
     Laplace-smoothed share with one pseudo-vote each way;
   * ``probability_test``: one-proportion z against 1/2, 2 sqrt(S + 1) ((A + 1)/(S + 1) - 1/2);
   * ``representativeness`` ra = pa / ((A_rest + 1) / (S_rest + 2)), where "rest" is every
     in-conv participant in the other groups;
   * ``representativeness_test``: pooled two-proportion z of the group against the rest,
     with 1 added to each of the four counts;
   * a side passes when both its z values exceed :data:`Z_90` = 1.2816 (one-sided 90%);
     the statement's ``direction`` is the side that passes (when both or neither do, the
     side whose representativeness z is larger), it is ``significant`` when that side
     passes, and ``metric`` = ra x rat x pa x pat on that side. Up to
     ``n_representative`` (5) significant statements are kept per group, by metric; when
     none is significant the single statement with the largest representativeness z is
     given, with ``significant`` False.

8. **Consensus statements**: statements that every group agrees with (or every group
   disagrees with): in each group the smoothed share pa (pd) exceeds 1/2, and over all
   in-conv participants the one-proportion z exceeds :data:`Z_95` = 1.6449. They are ranked by
   the group-informed consensus score, the product over groups of pa (pd), and up to
   ``n_consensus`` (5) per side are kept.

Example: two camps of ten who vote in opposite ways on six statements and agree on two
more; now and then someone passes.

>>> participants, statements, votes = [], [], []
>>> for person in range(20):
...     camp = 1 if person < 10 else -1
...     for statement in range(8):
...         participants.append(f"p{person}")
...         statements.append(statement)
...         passes = (person + statement) % 7 == 0
...         votes.append(0 if passes else camp if statement < 6 else 1)
>>> result = opinion_groups(participants, statements, votes, seed=1)
>>> result.k, result.sizes, result.n_in_conv
(2, (10, 10), 20)
>>> result.groups["p0"] != result.groups["p19"]
True
>>> sorted(c.comment for c in result.consensus)
[6, 7]
>>> result.representative[0][0].direction in ("agree", "disagree")
True
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Direction = Literal["agree", "disagree"]

#: One-sided 90% critical value of the standard normal (Polis's ``z-sig-90?``).
Z_90 = 1.2816
#: One-sided 95% critical value of the standard normal (Polis's ``z-sig-95?``).
Z_95 = 1.6449


@dataclass(frozen=True)
class RepresentativeComment:
    """A statement that sets one opinion group apart from the others.

    Fields:
        comment: the statement's id.
        direction: "agree" when the group agrees with it more than the rest does,
            "disagree" when it disagrees more.
        n_agree, n_disagree, n_seen: the group's in-conv votes on it (seen includes passes).
        probability: the group's smoothed share on ``direction``'s side, (n + 1) / (seen + 2).
        probability_test: z of that share against 1/2.
        other_probability: the same smoothed share among in-conv participants in other groups.
        representativeness: probability / other_probability.
        representativeness_test: two-proportion z, group against the rest.
        metric: representativeness x its z x probability x its z (the ranking key).
        significant: both z values exceed :data:`Z_90`.
    """

    comment: Hashable
    direction: Direction
    n_agree: int
    n_disagree: int
    n_seen: int
    probability: float
    probability_test: float
    other_probability: float
    representativeness: float
    representativeness_test: float
    metric: float
    significant: bool


@dataclass(frozen=True)
class ConsensusComment:
    """A statement every opinion group leans the same way on.

    Fields:
        comment: the statement's id.
        direction: "agree" or "disagree".
        group_probabilities: each group's smoothed share on that side, by group number.
        score: the product of ``group_probabilities`` (Polis's group-informed consensus).
        n_agree, n_disagree, n_seen: all in-conv participants' votes on it.
        probability: the smoothed share on that side over all in-conv participants.
        probability_test: z of that share against 1/2.
    """

    comment: Hashable
    direction: Direction
    group_probabilities: tuple[float, ...]
    score: float
    n_agree: int
    n_disagree: int
    n_seen: int
    probability: float
    probability_test: float


@dataclass(frozen=True)
class OpinionGroups:
    """Participants' opinion groups, with what characterises each group.

    Fields:
        groups: every participant who voted -> group number (0 = largest), or None when the
            participant is not in-conv (too few votes to place reliably).
        k: the number of groups.
        silhouette: mean silhouette of the chosen grouping (-1 to 1; higher is clearer).
        silhouette_by_k: the silhouette of every k tried.
        sizes: in-conv participants per group, by group number.
        projections: every participant with at least one counted vote -> (x, y) position on
            the opinion map (the two principal components, sparsity-scaled).
        n_in_conv: participants grouped.
        representative: per group number, its representative statements, best first.
        consensus: statements all groups agree (then disagree) on, best first per side.
        comment_ids: the statements analysed (moderated-out ones excluded), in column order.
        components: 2 x len(comment_ids) loadings of the two principal components.
        explained_variance: share of the centred matrix's variance each component explains.
        n_participants: participants with at least one vote (including moderated-out ones).
        n_votes: votes analysed after duplicates and moderated-out statements are removed.
        n_superseded: earlier votes by the same participant on the same statement (the last
            one in input order counts).
        n_moderated_out_votes: votes on statements in ``moderated_out`` (left out).
        in_conv_threshold: the number of votes that put a participant in the conversation.
        n_base_clusters: base clusters used.
        seed: the seed every k-means run used.
        method: how the result was computed, in words.
    """

    groups: Mapping[Hashable, int | None]
    k: int
    silhouette: float
    silhouette_by_k: Mapping[int, float]
    sizes: tuple[int, ...]
    projections: Mapping[Hashable, tuple[float, float]]
    n_in_conv: int
    representative: tuple[tuple[RepresentativeComment, ...], ...]
    consensus: tuple[ConsensusComment, ...]
    comment_ids: tuple[Hashable, ...]
    components: FloatArray
    explained_variance: tuple[float, float]
    n_participants: int
    n_votes: int
    n_superseded: int
    n_moderated_out_votes: int
    in_conv_threshold: int
    n_base_clusters: int
    seed: int
    method: str

    def members(self, group: int) -> tuple[Hashable, ...]:
        """The participants in one group, in input order."""
        if not 0 <= group < self.k:
            raise ValueError(f"group must be between 0 and {self.k - 1}, not {group}")
        return tuple(p for p, g in self.groups.items() if g == group)


def _validate_votes(
    participants: Sequence[Hashable], comments: Sequence[Hashable], values: npt.ArrayLike
) -> IntArray:
    raw = np.asarray(values)
    if raw.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {raw.shape}")
    if not len(participants) == len(comments) == raw.size:
        raise ValueError(
            "participants, comments and values must have the same length: got "
            f"{len(participants)}, {len(comments)} and {raw.size}"
        )
    if raw.size == 0:
        raise ValueError("no votes: opinion groups need votes from at least 3 participants")
    if raw.dtype.kind not in "iufb":
        raise ValueError(
            f"values must be numbers -1 (disagree), 0 (pass) or 1 (agree); got {raw.dtype} "
            f"values such as {raw[0].item()!r}"
        )
    as_float = raw.astype(np.float64)
    bad = np.flatnonzero(~np.isin(as_float, (-1.0, 0.0, 1.0)))
    if bad.size:
        first = int(bad[0])
        raise ValueError(
            f"values[{first}] is {raw[first].item()!r} (participant "
            f"{participants[first]!r}, comment {comments[first]!r}); expected -1 (disagree), "
            f"0 (pass) or 1 (agree); {bad.size} value(s) are outside that set"
        )
    return as_float.astype(np.int64)


def _index(items: Iterable[Hashable]) -> dict[Hashable, int]:
    index: dict[Hashable, int] = {}
    for item in items:
        index.setdefault(item, len(index))
    return index


def _prop_test(successes: FloatArray, n: FloatArray) -> FloatArray:
    """One-proportion z against 1/2 with one pseudo-success and one pseudo-trial."""
    return np.asarray(2.0 * np.sqrt(n + 1.0) * ((successes + 1.0) / (n + 1.0) - 0.5))


def _two_prop_test(
    succ_in: FloatArray, n_in: FloatArray, succ_out: FloatArray, n_out: FloatArray
) -> FloatArray:
    """Pooled two-proportion z, group vs rest, with 1 added to each of the four counts."""
    s1, s2, n1, n2 = succ_in + 1.0, succ_out + 1.0, n_in + 1.0, n_out + 1.0
    pooled = (s1 + s2) / (n1 + n2)
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    safe = np.where(variance > 0, variance, 1.0)
    return np.asarray(np.where(variance > 0, (s1 / n1 - s2 / n2) / np.sqrt(safe), 0.0))


def _kmeans(
    points: FloatArray, k: int, *, weights: FloatArray | None, seed: int, n_init: int
) -> tuple[IntArray, FloatArray]:
    model = KMeans(n_clusters=k, n_init=n_init, random_state=seed, max_iter=300)
    labels = model.fit_predict(points, sample_weight=weights)
    return labels.astype(np.int64), np.asarray(model.cluster_centers_, dtype=np.float64)


def opinion_groups(
    participants: Sequence[Hashable],
    comments: Sequence[Hashable],
    values: npt.ArrayLike,
    *,
    moderated_out: Iterable[Hashable] = (),
    seed: int = 0,
    max_k: int = 5,
    base_k: int = 100,
    min_votes: int = 7,
    min_in_conv: int = 15,
    n_init: int = 10,
    n_representative: int = 5,
    n_consensus: int = 5,
) -> OpinionGroups:
    """Group participants by how they voted, Polis-style (see the module docstring).

    ``participants[i]`` cast ``values[i]`` (1 agree, -1 disagree, 0 pass) on ``comments[i]``.
    When a participant voted on a statement more than once the last vote in input order
    counts (sort by time first); earlier ones are counted in ``n_superseded``. Raises
    ValueError for mismatched lengths, values outside {-1, 0, 1}, fewer than three
    participants or two statements, and votes too uniform to split into groups.
    """
    votes = _validate_votes(participants, comments, values)
    for name, value, low in (
        ("max_k", max_k, 2),
        ("base_k", base_k, 2),
        ("min_votes", min_votes, 1),
        ("min_in_conv", min_in_conv, 0),
        ("n_init", n_init, 1),
        ("n_representative", n_representative, 1),
        ("n_consensus", n_consensus, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, not {value!r}")

    excluded = set(moderated_out)
    person_index = _index(participants)
    kept = [i for i, c in enumerate(comments) if c not in excluded]
    n_moderated_out_votes = len(comments) - len(kept)
    comment_index = _index(comments[i] for i in kept)
    n_people, n_comments = len(person_index), len(comment_index)
    if n_people < 3:
        raise ValueError(f"opinion groups need votes from at least 3 participants; got {n_people}")
    if n_comments < 2:
        raise ValueError(
            "opinion groups need votes on at least 2 statements that are not moderated out; "
            f"got {n_comments}"
        )

    matrix = np.full((n_people, n_comments), np.nan)
    filled = np.zeros((n_people, n_comments), dtype=bool)
    n_superseded = 0
    for i in kept:
        row, col = person_index[participants[i]], comment_index[comments[i]]
        n_superseded += int(filled[row, col])
        filled[row, col] = True
        matrix[row, col] = votes[i]
    seen = ~np.isnan(matrix)
    votes_cast = seen.sum(axis=1)

    # 2. in-conv participants
    threshold = min(min_votes, n_comments)
    in_conv = votes_cast >= threshold
    if in_conv.sum() < min_in_conv:
        # most active first; ties by first appearance (a stable sort keeps input order)
        for row in np.argsort(-votes_cast, kind="stable"):
            if in_conv.sum() >= min_in_conv or votes_cast[row] == 0:
                break
            in_conv[row] = True
    in_rows = np.flatnonzero(in_conv)
    if in_rows.size < 3:
        raise ValueError(
            f"opinion groups need at least 3 participants in the conversation; got "
            f"{in_rows.size} (of {n_people} voters)"
        )

    # 3. PCA of the mean-imputed, centred matrix of in-conv participants
    in_seen = seen[in_rows]
    totals = np.where(in_seen, matrix[in_rows], 0.0).sum(axis=0)
    counts = in_seen.sum(axis=0)
    means = np.divide(totals, counts, out=np.zeros(n_comments), where=counts > 0)
    centred = np.where(seen, matrix - means, 0.0)
    _, singular, vt = np.linalg.svd(centred[in_rows], full_matrices=False)
    components = np.array(vt[:2], dtype=np.float64)
    for component in components:  # a fixed sign: the largest loading is positive
        if component[np.argmax(np.abs(component))] < 0:
            component *= -1.0
    power = singular**2
    total_power = float(power.sum())
    explained = (
        (float(power[0] / total_power), float(power[1] / total_power))
        if total_power > 0
        else (0.0, 0.0)
    )

    # 4. sparsity-aware projection
    scale = np.sqrt(n_comments / np.maximum(votes_cast, 1))
    positions = (centred @ components.T) * scale[:, None]
    people = list(person_index)
    projections = {
        people[row]: (float(positions[row, 0]), float(positions[row, 1]))
        for row in range(n_people)
        if votes_cast[row] > 0
    }

    # 5. base clusters
    points = positions[in_rows]
    distinct, where = np.unique(np.round(points, 12), axis=0, return_inverse=True)
    if distinct.shape[0] < 3:
        raise ValueError(
            f"the in-conv participants' votes take only {distinct.shape[0]} distinct "
            "position(s) on the opinion map; at least 3 are needed to form groups"
        )
    if distinct.shape[0] <= base_k:  # every distinct position is its own base cluster
        n_base = distinct.shape[0]
        base_labels = where.reshape(-1).astype(np.int64)
        base_centres = np.asarray(distinct, dtype=np.float64)
    else:
        n_base = base_k
        base_labels, base_centres = _kmeans(points, n_base, weights=None, seed=seed, n_init=n_init)
    base_sizes = np.bincount(base_labels, minlength=n_base).astype(np.float64)
    occupied = base_sizes > 0
    if not occupied.all():  # k-means can leave a cluster empty; renumber without it
        remap = np.cumsum(occupied) - 1
        base_labels = remap[base_labels]
        base_centres, base_sizes = base_centres[occupied], base_sizes[occupied]
        n_base = int(occupied.sum())

    # 6. opinion groups over the base clusters, k by silhouette
    largest_k = min(max_k, 2 + n_base // 12, n_base - 1)
    silhouettes: dict[int, float] = {}
    best: tuple[float, int, IntArray] | None = None
    for k in range(2, largest_k + 1):
        labels, _ = _kmeans(base_centres, k, weights=base_sizes, seed=seed, n_init=n_init)
        if np.unique(labels).size < k:
            continue
        score = float(silhouette_score(base_centres, labels))
        silhouettes[k] = score
        if best is None or score > best[0] + 1e-12:
            best = (score, k, labels)
    if best is None:
        raise ValueError("the participants' positions could not be split into 2 or more groups")
    silhouette, k, group_of_base = best
    raw_groups = group_of_base[base_labels]
    # number groups from the largest; ties by mean first coordinate
    sizes_raw = np.bincount(raw_groups, minlength=k)
    mean_x = np.array([points[raw_groups == g, 0].mean() for g in range(k)])
    order = sorted(range(k), key=lambda g: (-int(sizes_raw[g]), float(mean_x[g])))
    renumber = np.empty(k, dtype=np.int64)
    renumber[order] = np.arange(k)
    participant_groups = renumber[raw_groups]
    sizes = tuple(int(n) for n in np.bincount(participant_groups, minlength=k))

    groups: dict[Hashable, int | None] = dict.fromkeys(people)
    for person_row, group in zip(in_rows.tolist(), participant_groups.tolist(), strict=True):
        groups[people[person_row]] = int(group)

    # 7-8. representative and consensus statements
    in_matrix = matrix[in_rows]
    agree = np.zeros((k, n_comments))
    disagree = np.zeros((k, n_comments))
    seen_by = np.zeros((k, n_comments))
    for g in range(k):
        block = in_matrix[participant_groups == g]
        agree[g] = (block == 1).sum(axis=0)
        disagree[g] = (block == -1).sum(axis=0)
        seen_by[g] = (~np.isnan(block)).sum(axis=0)
    comment_ids = tuple(comment_index)
    representative = tuple(
        _representative(g, agree, disagree, seen_by, comment_ids, n_representative)
        for g in range(k)
    )
    consensus = _consensus(agree, disagree, seen_by, comment_ids, n_consensus)

    method = (
        f"Polis-style opinion groups: {in_rows.size} of {n_people} participants in the "
        f"conversation (at least {threshold} votes, topped up to {min_in_conv} by activity); "
        f"{n_comments} statements"
        + (f" ({len(excluded & set(comments))} moderated out)" if excluded & set(comments) else "")
        + "; blanks mean-imputed, 2 principal components by SVD explaining "
        f"{explained[0]:.0%} and {explained[1]:.0%} of the variance; sparsity-aware "
        f"projection; {n_base} base clusters by k-means; weighted k-means over them for "
        f"k = 2..{largest_k}, k = {k} chosen by mean silhouette {silhouette:.3f}; seed {seed}. "
        f"Representative statements: smoothed agree/disagree shares vs the other groups, "
        f"z > {Z_90} on both tests; consensus: every group's smoothed share above 1/2 and "
        f"overall z > {Z_95}."
    )
    return OpinionGroups(
        groups=groups,
        k=k,
        silhouette=silhouette,
        silhouette_by_k=silhouettes,
        sizes=sizes,
        projections=projections,
        n_in_conv=int(in_rows.size),
        representative=representative,
        consensus=consensus,
        comment_ids=comment_ids,
        components=components,
        explained_variance=explained,
        n_participants=n_people,
        n_votes=int(seen.sum()),
        n_superseded=n_superseded,
        n_moderated_out_votes=n_moderated_out_votes,
        in_conv_threshold=threshold,
        n_base_clusters=n_base,
        seed=seed,
        method=method,
    )


def _representative(
    group: int,
    agree: FloatArray,
    disagree: FloatArray,
    seen: FloatArray,
    comment_ids: tuple[Hashable, ...],
    keep: int,
) -> tuple[RepresentativeComment, ...]:
    rest = np.arange(agree.shape[0]) != group
    a, d, s = agree[group], disagree[group], seen[group]
    a_rest, d_rest, s_rest = (
        agree[rest].sum(axis=0),
        disagree[rest].sum(axis=0),
        seen[rest].sum(axis=0),
    )
    # per side: probability, its z, the rest's probability, representativeness, its z, metric
    sides: dict[Direction, tuple[FloatArray, ...]] = {}
    agree_side: Direction = "agree"
    disagree_side: Direction = "disagree"
    for direction, mine, theirs in ((agree_side, a, a_rest), (disagree_side, d, d_rest)):
        prob = (mine + 1.0) / (s + 2.0)
        prob_rest = (theirs + 1.0) / (s_rest + 2.0)
        prob_test = _prop_test(mine, s)
        ratio = prob / prob_rest
        ratio_test = _two_prop_test(mine, s, theirs, s_rest)
        sides[direction] = (
            prob,
            prob_test,
            prob_rest,
            ratio,
            ratio_test,
            ratio * ratio_test * prob * prob_test,
        )
    candidates: list[RepresentativeComment] = []
    for c, comment in enumerate(comment_ids):
        if s[c] == 0:
            continue
        passes = {
            direction: bool(values[1][c] > Z_90 and values[4][c] > Z_90)
            for direction, values in sides.items()
        }
        if passes["agree"] != passes["disagree"]:
            side = agree_side if passes["agree"] else disagree_side
        else:
            side = agree_side if sides["agree"][4][c] > sides["disagree"][4][c] else disagree_side
        p, p_test, p_rest, r, r_test, metric = (float(values[c]) for values in sides[side])
        candidates.append(
            RepresentativeComment(
                comment=comment,
                direction=side,
                n_agree=int(a[c]),
                n_disagree=int(d[c]),
                n_seen=int(s[c]),
                probability=p,
                probability_test=p_test,
                other_probability=p_rest,
                representativeness=r,
                representativeness_test=r_test,
                metric=metric,
                significant=p_test > Z_90 and r_test > Z_90,
            )
        )
    significant = sorted(
        (c for c in candidates if c.significant), key=lambda c: c.metric, reverse=True
    )
    if significant:
        return tuple(significant[:keep])
    if not candidates:
        return ()
    return (max(candidates, key=lambda c: c.representativeness_test),)


def _consensus(
    agree: FloatArray,
    disagree: FloatArray,
    seen: FloatArray,
    comment_ids: tuple[Hashable, ...],
    keep: int,
) -> tuple[ConsensusComment, ...]:
    total_a, total_d, total_s = agree.sum(axis=0), disagree.sum(axis=0), seen.sum(axis=0)
    found: list[ConsensusComment] = []
    for side, counts, total in (("agree", agree, total_a), ("disagree", disagree, total_d)):
        direction: Direction = "agree" if side == "agree" else "disagree"
        by_group = (counts + 1.0) / (seen + 2.0)
        overall = (total + 1.0) / (total_s + 2.0)
        overall_test = _prop_test(total, total_s)
        chosen = [
            c
            for c in range(len(comment_ids))
            if total_s[c] > 0 and bool(np.all(by_group[:, c] > 0.5)) and overall_test[c] > Z_95
        ]
        scores = {c: float(np.prod(by_group[:, c])) for c in chosen}
        chosen.sort(key=lambda c: scores[c], reverse=True)
        found.extend(
            ConsensusComment(
                comment=comment_ids[c],
                direction=direction,
                group_probabilities=tuple(float(x) for x in by_group[:, c]),
                score=scores[c],
                n_agree=int(total_a[c]),
                n_disagree=int(total_d[c]),
                n_seen=int(total_s[c]),
                probability=float(overall[c]),
                probability_test=float(overall_test[c]),
            )
            for c in chosen[:keep]
        )
    return tuple(found)
