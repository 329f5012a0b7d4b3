"""The drift checker's pure-Python statistics against independent numpy/scipy computations.

The modules are imported as Lambda imports them: the function's folder on ``sys.path``.
"""

from __future__ import annotations

import math
import sys
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.harness import ROOT, lazy_module

scipy_special, scipy_stats = lazy_module("scipy.special"), lazy_module("scipy.stats")

sys.path.insert(0, str(ROOT / "mlops_cdk" / "lambdas" / "drift_checker"))  # as deployed: the folder is the root
import drift_stats as ds  # noqa: E402
from drift_baseline import BaselineError, load_baseline  # noqa: E402

EPS = ds.PSI_EPSILON
N = 10_000


# --------------------------------------------------------------------------- independent references


def baseline_from_sample(sample: np.ndarray, bins: int = 10) -> dict:
    """Quantile edges (outer edges null) and proportions, as the pipeline's baseline script writes them."""
    interior = np.quantile(sample, np.arange(1, bins) / bins)
    counts, _ = np.histogram(sample, bins=np.concatenate([[-np.inf], interior, [np.inf]]))
    return {"type": "numeric", "bin_edges": [None, *interior.tolist(), None], "proportions": (counts / counts.sum()).tolist()}


def numpy_psi(base: np.ndarray, cur: np.ndarray) -> float:
    base = np.where(base == 0, EPS, base)
    cur = np.where(cur == 0, EPS, cur)
    return float(np.sum((cur - base) * np.log(cur / base)))


def numpy_numeric_psi(spec: dict, current: np.ndarray) -> float:
    # np.histogram: [a, b) bins (the last closed, which only matters for +inf, which
    # the checker also puts in the last bin).
    edges = np.array([-np.inf, *spec["bin_edges"][1:-1], np.inf])
    counts, _ = np.histogram(current, bins=edges)
    return numpy_psi(np.array(spec["proportions"]), counts / counts.sum())


def streamed(spec: dict, values) -> ds.NumericHistogram:
    hist = ds.NumericHistogram(spec["bin_edges"])
    for v in values:
        hist.add(float(v))
    return hist


# --------------------------------------------------------------------------- numeric PSI


@pytest.fixture(scope="module")
def normal_baseline() -> dict:
    return baseline_from_sample(np.random.default_rng(0).normal(0.0, 1.0, N))


@pytest.mark.parametrize(
    ("shift", "scale", "expect"),
    [(0.0, 1.0, "ok"), (0.5, 1.0, "drift"), (0.0, 1.6, "drift"), (0.2, 1.0, "between"), (5.0, 1.0, "drift")],
)
def test_numeric_psi_matches_numpy(normal_baseline, shift, scale, expect):
    current = np.random.default_rng(1).normal(shift, scale, N)
    hist = streamed(normal_baseline, current)
    result = ds.numeric_drift("x", normal_baseline["bin_edges"], normal_baseline["proportions"], hist)
    assert result.count == N
    assert result.psi == pytest.approx(numpy_numeric_psi(normal_baseline, current), abs=1e-9)
    if expect == "ok":
        assert result.psi < 0.02
    elif expect == "drift":
        assert result.psi >= 0.2
    else:
        assert 0.02 < result.psi < 0.2


def test_numeric_and_categorical_psi_on_real_data():
    """scikit-learn's bundled breast-cancer data (569 tumours, 30 measurements): baseline on a
    random half; the other half should not drift, the malignant tumours alone should."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    rng = np.random.default_rng(5)
    order = rng.permutation(len(data.target))
    train, holdout = order[:285], order[285:]
    malignant = np.flatnonzero(data.target == 0)
    drifted = 0
    for j, name in enumerate(data.feature_names):
        spec = baseline_from_sample(data.data[train, j])
        for rows in (holdout, malignant):
            current = data.data[rows, j]
            result = ds.numeric_drift(name, spec["bin_edges"], spec["proportions"], streamed(spec, current))
            assert result.psi == pytest.approx(numpy_numeric_psi(spec, current), abs=1e-9)
            if rows is holdout:
                assert result.psi < 0.2, name
            else:
                drifted += result.psi >= 0.2
    assert drifted >= 20  # most measurements separate malignant from benign
    # The diagnosis as a categorical feature: chi-square vs scipy.
    labels = [str(data.target_names[t]) for t in data.target]
    base_counts = {c: sum(1 for i in train if labels[i] == c) for c in data.target_names}
    categories = {c: n / len(train) for c, n in base_counts.items()}
    for rows in (holdout, malignant):
        values = [labels[i] for i in rows]
        hist = ds.CategoricalHistogram(list(categories))
        for v in values:
            hist.add(v)
        result = ds.categorical_drift("diagnosis", categories, hist)
        ref_psi, ref_stat, ref_p, _ = categorical_reference(categories, values)
        assert result.psi == pytest.approx(ref_psi, abs=1e-9)
        assert result.chi_square == pytest.approx(ref_stat, rel=1e-9)
        assert result.p_value == pytest.approx(ref_p, rel=1e-9, abs=1e-12)


def test_far_shift_uses_epsilon_for_empty_bins(normal_baseline):
    current = np.random.default_rng(2).normal(50.0, 1.0, N)  # every value in the last bin
    hist = streamed(normal_baseline, current)
    assert hist.counts[:-1] == [0] * 9 and hist.counts[-1] == N
    expected = sum((EPS - b) * math.log(EPS / b) for b in normal_baseline["proportions"][:-1])
    last = normal_baseline["proportions"][-1]
    expected += (1 - last) * math.log(1 / last)
    assert ds.psi(normal_baseline["proportions"], hist.proportions()) == pytest.approx(expected, abs=1e-12)


def test_bins_are_half_open_on_the_left():
    hist = ds.NumericHistogram([None, 0.0, 1.0, None])
    for v in (-math.inf, -1e-300, 0.0, 0.5, 1.0 - 1e-16, 1.0, 2.0, math.inf):
        hist.add(v)
    # [-inf, 0) : -inf, -1e-300 | [0, 1) : 0, 0.5, 1-1e-16 | [1, +inf) : 1, 2, +inf
    assert hist.counts == [2, 3, 3]


def test_single_bin_is_always_zero():
    hist = streamed({"bin_edges": [None, None]}, [-5.0, 0.0, 1e9])
    assert hist.counts == [3]
    assert ds.psi([1.0], hist.proportions()) == 0.0


def test_empty_current_histogram_is_an_error(normal_baseline):
    hist = ds.NumericHistogram(normal_baseline["bin_edges"])
    with pytest.raises(ds.EmptyHistogramError, match="no observations"):
        ds.numeric_drift("x", normal_baseline["bin_edges"], normal_baseline["proportions"], hist)
    with pytest.raises(ds.EmptyHistogramError):
        ds.categorical_drift("c", {"a": 1.0}, ds.CategoricalHistogram(["a"]))


def test_psi_rejects_mismatched_bins():
    with pytest.raises(ValueError, match="2 bins"):
        ds.psi([0.5, 0.5], [1.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        ds.NumericHistogram([None, 1.0, 1.0, None])


def test_histogram_memory_is_flat():
    """Streaming: accumulating 10x more values allocates no more memory."""

    def peak(n: int) -> int:
        hist = ds.NumericHistogram([None, *range(1, 20), None])
        rng = iter(np.random.default_rng(3).uniform(0, 20, n).tolist())
        tracemalloc.start()
        for v in rng:
            hist.add(v)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(10_000), peak(100_000)
    assert large < 4096 and large <= small + 1024


# --------------------------------------------------------------------------- categorical PSI + chi-square


CATS = {"red": 0.5, "green": 0.3, "blue": 0.2}


def categorical_reference(categories: dict, values: list[str]):
    names = list(categories)
    observed = [values.count(n) for n in names]
    unseen = sum(1 for v in values if v not in categories)
    base = [categories[n] for n in names]
    if unseen or ds.OTHER_CATEGORY in categories:
        if ds.OTHER_CATEGORY not in categories:
            names.append(ds.OTHER_CATEGORY)
            base.append(0.0)
            observed.append(unseen)
        else:
            observed[names.index(ds.OTHER_CATEGORY)] += unseen
    observed = np.array(observed, dtype=float)
    base = np.array(base)
    q = np.where(base == 0, EPS, base)
    expected = observed.sum() * q / q.sum()
    chi = scipy_stats.chisquare(observed, expected)
    return numpy_psi(base, observed / observed.sum()), chi.statistic, chi.pvalue, len(names) - 1


@pytest.mark.parametrize(
    "probs",
    [
        {"red": 0.5, "green": 0.3, "blue": 0.2},  # undrifted
        {"red": 0.2, "green": 0.3, "blue": 0.5},  # drifted
        {"red": 0.45, "green": 0.3, "blue": 0.2, "purple": 0.03, "orange": 0.02},  # unseen categories
        {"red": 0.7, "green": 0.3},  # a baseline category never observed
    ],
)
def test_categorical_psi_and_chi_square_match_scipy(probs):
    rng = np.random.default_rng(4)
    values = rng.choice(list(probs), size=N, p=list(probs.values())).tolist()
    hist = ds.CategoricalHistogram(list(CATS))
    for v in values:
        hist.add(v)
    result = ds.categorical_drift("colour", CATS, hist)
    ref_psi, ref_stat, ref_p, ref_df = categorical_reference(CATS, values)
    assert result.psi == pytest.approx(ref_psi, abs=1e-9)
    assert result.chi_square == pytest.approx(ref_stat, rel=1e-9, abs=1e-9)
    assert result.p_value == pytest.approx(ref_p, rel=1e-9, abs=1e-9)
    assert result.degrees_of_freedom == ref_df
    assert result.p_value == pytest.approx(scipy_stats.chi2.sf(result.chi_square, result.degrees_of_freedom), abs=1e-9)


def test_unseen_categories_are_pooled_into_other():
    hist = ds.CategoricalHistogram(["a", "b"])
    for v in ["a", "b", "zzz", "yyy", "zzz"]:
        hist.add(v)
    assert hist.counts == {"a": 1, "b": 1, ds.OTHER_CATEGORY: 3}
    assert hist.unseen == {"zzz": 2, "yyy": 1}
    result = ds.categorical_drift("c", {"a": 0.5, "b": 0.5}, hist)
    assert [b["category"] for b in result.bins] == ["a", "b", ds.OTHER_CATEGORY]
    assert result.bins[-1]["baseline"] == 0.0 and result.degrees_of_freedom == 2
    assert result.psi >= 0.2


def test_baseline_other_bucket_receives_unseen_values():
    cats = {"a": 0.6, ds.OTHER_CATEGORY: 0.4}
    hist = ds.CategoricalHistogram(list(cats))
    for v in ["a"] * 6 + ["q", "r", "s", "t"]:
        hist.add(v)
    result = ds.categorical_drift("c", cats, hist)
    assert result.psi == 0.0 and result.chi_square == pytest.approx(0.0, abs=1e-12)


def test_single_category_has_no_degrees_of_freedom():
    hist = ds.CategoricalHistogram(["only"])
    hist.add("only")
    result = ds.categorical_drift("c", {"only": 1.0}, hist)
    assert (result.psi, result.chi_square, result.degrees_of_freedom, result.p_value) == (0.0, 0.0, 0, 1.0)


def test_unseen_categories_sample_is_bounded():
    hist = ds.CategoricalHistogram(["a"])
    for i in range(1000):
        hist.add(f"v{i}")
    assert len(hist.unseen) == 100 and hist.counts[ds.OTHER_CATEGORY] == 1000


# --------------------------------------------------------------------------- incomplete gamma


GAMMA_A = [0.05, 0.5, 1.0, 1.5, 2.0, 3.5, 7.0, 10.0, 25.5, 50.0, 100.0, 333.5, 1000.0, 2500.0]


@pytest.mark.parametrize("a", GAMMA_A)
def test_gammaincc_matches_scipy(a):
    xs = np.concatenate([np.geomspace(1e-6, 10 * a + 100, 150), [a - 1, a, a + 1, a + 1 + 1e-9, 50 * a]])
    for x in xs[xs >= 0]:
        ours, ref = ds.gammaincc(a, float(x)), scipy_special.gammaincc(a, x)
        assert abs(ours - ref) <= 1e-9 + 1e-9 * ref, (a, x)
        if ref > 1e-300:  # relative accuracy deep into the tail as well
            assert abs(ours - ref) <= 1e-9 * ref or abs(ours - ref) <= 1e-12, (a, x)
        assert ds.gammainc(a, float(x)) == pytest.approx(scipy_special.gammainc(a, x), abs=1e-9)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 9, 10, 29, 100, 999])
def test_chi2_sf_matches_scipy(df):
    for x in np.linspace(0, 4 * df + 40, 60):
        assert ds.chi2_sf(float(x), df) == pytest.approx(scipy_stats.chi2.sf(x, df), rel=1e-9, abs=1e-12)


def test_gamma_domain():
    assert ds.gammaincc(3.0, 0.0) == 1.0 and ds.gammaincc(3.0, math.inf) == 0.0
    assert ds.chi2_sf(0.0, 4) == 1.0
    with pytest.raises(ValueError, match="a must be > 0"):
        ds.gammaincc(0.0, 1.0)
    with pytest.raises(ValueError, match="x must be >= 0"):
        ds.gammaincc(1.0, -1.0)
    with pytest.raises(ValueError, match="df must be > 0"):
        ds.chi2_sf(1.0, 0)


# --------------------------------------------------------------------------- properties


proportion_vectors = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20).filter(lambda v: sum(v) > 0).map(
    lambda v: [x / sum(v) for x in v]
)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_psi_is_non_negative_and_zero_against_itself(data):
    base = data.draw(proportion_vectors)
    counts = data.draw(st.lists(st.integers(0, 1000), min_size=len(base), max_size=len(base)).filter(any))
    current = [c / sum(counts) for c in counts]
    assert ds.psi(base, current) >= 0.0
    assert ds.psi(base, base) == 0.0
    assert ds.psi(current, current) == 0.0


@settings(max_examples=100, deadline=None)
@given(
    edges=st.lists(st.floats(-1e6, 1e6), min_size=0, max_size=12, unique=True).map(sorted),
    values=st.lists(st.floats(allow_nan=False), min_size=1, max_size=200),
)
def test_streamed_histogram_against_itself(edges, values):
    spec = {"bin_edges": [None, *edges, None]}
    hist = streamed(spec, values)
    assert sum(hist.counts) == len(values)
    props = hist.proportions()
    assert ds.psi(props, props) == 0.0
    ref = np.histogram(values, bins=np.array([-np.inf, *edges, np.inf]))[0]
    if not any(v == math.inf for v in values):  # np.histogram drops nothing else
        assert hist.counts == ref.tolist()


@settings(max_examples=100, deadline=None)
@given(
    cats=st.dictionaries(st.text(min_size=1, max_size=3), st.floats(0.01, 1.0), min_size=1, max_size=6),
    values=st.lists(st.text(max_size=3), min_size=1, max_size=100),
)
def test_categorical_psi_and_chi_square_properties(cats, values):
    total = sum(cats.values())
    cats = {k: v / total for k, v in cats.items()}
    hist = ds.CategoricalHistogram(list(cats))
    for v in values:
        hist.add(v)
    result = ds.categorical_drift("c", cats, hist)
    assert result.psi >= 0.0 and result.chi_square >= 0.0 and 0.0 <= result.p_value <= 1.0


# --------------------------------------------------------------------------- baseline format


def good_baseline() -> dict:
    return {
        "version": 1,
        "features": {
            "x": {"type": "numeric", "bin_edges": [None, 0.0, 1.0, None], "proportions": [0.25, 0.5, 0.25]},
            "c": {"type": "categorical", "categories": {"a": 0.4, "b": 0.6}},
        },
        "label": "y",
        "record_count": 100,
    }


def test_load_baseline_accepts_the_documented_format():
    import json

    baseline = load_baseline(json.dumps(good_baseline()))
    assert baseline.features["x"].bin_edges == (None, 0.0, 1.0, None)
    assert baseline.features["c"].categories == {"a": 0.4, "b": 0.6}
    assert (baseline.label, baseline.record_count) == ("y", 100)


def _mutate(path, value):
    doc = good_baseline()
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1]", "must be a JSON object"),
        (_mutate(["record_count"], KeyError), r"missing required key\(s\) \['record_count'\]"),
        (_mutate(["version"], 2), "'version': unsupported value 2"),
        (_mutate(["features"], {}), "'features': must be a non-empty object"),
        (_mutate(["label"], 3), "'label'"),
        (_mutate(["record_count"], -1), "'record_count'"),
        (_mutate(["features", "x", "type"], "text"), "feature 'x': 'type' must be"),
        (_mutate(["features", "x", "bin_edges"], [0.0, 1.0, None]), "start and end with null"),
        (_mutate(["features", "x", "bin_edges"], [None, 1.0, 0.0, None]), "strictly increasing"),
        (_mutate(["features", "x", "bin_edges"], [None, "a", 1.0, None]), r"'bin_edges'\[1\] must be a finite number"),
        (_mutate(["features", "x", "bin_edges"], [None]), "k \\+ 1 >= 2 edges"),
        (_mutate(["features", "x", "proportions"], [0.5, 0.5]), "list of 3 values"),
        (_mutate(["features", "x", "proportions"], [0.5, 0.5, 0.5]), "must sum to 1"),
        (_mutate(["features", "x", "proportions"], [1.5, -0.25, -0.25]), r"'proportions'\[1\] must be a finite number >= 0"),
        (_mutate(["features", "c", "categories"], {}), "feature 'c': 'categories' must be a non-empty object"),
        (_mutate(["features", "c", "categories"], {"a": "x", "b": 1.0}), r"'categories'\['a'\]"),
    ],
)
def test_load_baseline_rejects_bad_documents(doc, message):
    with pytest.raises(BaselineError, match=message):
        load_baseline(doc)


def test_single_bin_baseline_is_valid():
    doc = _mutate(["features", "x"], {"type": "numeric", "bin_edges": [None, None], "proportions": [1.0]})
    assert load_baseline(doc).features["x"].proportions == (1.0,)
