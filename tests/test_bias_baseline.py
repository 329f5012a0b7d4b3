"""scripts/bias_baseline.py: post-training bias (DPPL, DI, RD, AD) against the Clarify definitions.

The reference below is written from the SageMaker Clarify documentation
(clarify-post-training-bias-metric-{dppl,di,rd,ad}), not from the script: groups
with pandas, proportions as pandas means, recall and accuracy with scikit-learn,
per group. Real data: scikit-learn's breast cancer set and a fitted model's
scores; then hand-made edge cases whose expected values are worked out by hand.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import types

import numpy as np
import pytest

import mlops_cdk.pipeline_defs
from tests.harness import ROOT, load_handler

SCRIPT = mlops_cdk.pipeline_defs.__path__[0] + "/scripts/bias_baseline.py"


@pytest.fixture(scope="module")
def bias():
    saved = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no __pycache__ in the shipped scripts directory
    try:
        spec = importlib.util.spec_from_file_location("bias_baseline_under_test", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module


# ------------------------------------------------------------------ the reference
def reference_bias(facet_values, predicted, observed, facet) -> dict:
    """Clarify's post-training metrics, computed per group from the definitions.

    Group d: values above a single numeric threshold, or equal (as numbers when the column is numeric)
    to one of the categories; group a: the other readable values.
    """
    import pandas as pd  # pandas and scikit-learn are imported where used: every xdist worker collects this module
    from sklearn.metrics import accuracy_score, recall_score

    values = pd.Series(list(facet_values), dtype=object)
    spec = facet["values_or_threshold"]
    numbers = pd.to_numeric(values, errors="coerce")
    if len(spec) == 1 and isinstance(spec[0], (int, float)):
        readable = numbers.notna()
        d = readable & (numbers > spec[0])
    elif numbers.notna().sum() == values.notna().sum():  # a numeric column: categories compare as numbers
        readable = numbers.notna()
        d = numbers.isin([float(v) for v in spec])
    else:
        readable = values.map(lambda v: isinstance(v, str) and v != "")
        d = values.isin(spec)
    groups = {"a": (readable & ~d).to_numpy(), "d": d.to_numpy()}
    wanted = facet["label_values_or_threshold"]
    predicted_positive = pd.Series(predicted).isin(wanted).to_numpy()
    q = {g: predicted_positive[m].mean() if m.any() else None for g, m in groups.items()}
    result = {
        "DPPL": q["a"] - q["d"] if None not in q.values() else None,
        "DI": q["d"] / q["a"] if None not in q.values() and q["a"] > 0 else None,
        "RD": None, "AD": None,
        "n_a": int(groups["a"].sum()), "n_d": int(groups["d"].sum()),
    }
    if observed is not None:
        true_positive = pd.Series(observed).isin(wanted).to_numpy()
        recall, accuracy = {}, {}
        for g, m in groups.items():
            recall[g] = recall_score(true_positive[m], predicted_positive[m]) if true_positive[m].any() else None
            accuracy[g] = accuracy_score(true_positive[m], predicted_positive[m]) if m.any() else None
        result["RD"] = recall["a"] - recall["d"] if None not in recall.values() else None
        result["AD"] = accuracy["a"] - accuracy["d"] if None not in accuracy.values() else None
    return result


def assert_same(actual: dict, expected: dict) -> None:
    assert actual.keys() == {"DPPL", "DI", "RD", "AD", "n_a", "n_d"}
    for key, value in expected.items():
        if value is None:
            assert actual[key] is None, key
        else:
            assert actual[key] == pytest.approx(value, abs=1e-12), key


# ------------------------------------------------------------------ real data
@pytest.fixture(scope="module")
def cancer():
    """A fitted model's test predictions on the breast cancer set, with derived categorical columns."""
    import pandas as pd
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer(as_frame=True)
    frame = data.frame
    train, test = train_test_split(frame, test_size=0.4, random_state=0, stratify=frame["target"])
    features = list(data.feature_names)
    model = LogisticRegression(max_iter=10_000).fit(train[features], train["target"])
    test = test.assign(score=model.predict_proba(test[features])[:, 1])
    test["texture_band"] = pd.qcut(test["mean texture"], 4, labels=[1, 2, 3, 4]).astype(int)
    size = np.where(test["mean area"] > 700, "large", "small").astype(object)
    size[::17] = None  # missing values belong to neither group
    test["size"] = size
    return test


FACETS = [
    {"facet": "mean radius", "values_or_threshold": [14], "label_values_or_threshold": [1]},
    {"facet": "mean radius", "values_or_threshold": [14.0], "label_values_or_threshold": [0]},
    {"facet": "texture_band", "values_or_threshold": ["1", "4"], "label_values_or_threshold": [1]},
    {"facet": "size", "values_or_threshold": ["large"], "label_values_or_threshold": [0]},
]


@pytest.mark.parametrize("facet", FACETS, ids=["threshold", "threshold-label-0", "numeric-categories", "strings"])
@pytest.mark.parametrize("threshold", [0.5, 0.8])
def test_metrics_equal_the_reference_on_real_data(bias, cancer, facet, threshold):
    predicted = (cancer["score"] >= threshold).astype(int).to_numpy()
    observed = cancer["target"].to_numpy()
    values = cancer[facet["facet"]].tolist()
    actual = bias.post_training_bias(values, predicted, observed, facet)
    expected = reference_bias(values, predicted, observed, facet)
    assert_same(actual, expected)
    assert 0 < actual["n_a"] and 0 < actual["n_d"]  # both groups really exist on this data
    assert all(actual[m] is not None for m in ("DPPL", "DI", "RD", "AD"))
    readable = sum(1 for v in values if v is not None and v == v)  # pandas' notna: neither None nor NaN
    assert actual["n_a"] + actual["n_d"] == readable
    assert readable < len(values) if facet["facet"] == "size" else readable == len(values)


def test_threshold_and_categorical_facets_split_differently(bias, cancer):
    """[14] is a threshold (radius > 14); ["14"] is a category (radius exactly 14), which no tumour has."""
    predicted = (cancer["score"] >= 0.5).astype(int)
    values = cancer["mean radius"].tolist()
    threshold = bias.post_training_bias(values, predicted, None, FACETS[0])
    category = bias.post_training_bias(values, predicted, None, {**FACETS[0], "values_or_threshold": ["14"]})
    assert threshold["n_d"] == int((cancer["mean radius"] > 14).sum()) > 0
    assert category["n_d"] == 0 and category["n_a"] == len(values)
    assert category["DPPL"] is None and category["DI"] is None
    assert bias.is_threshold(FACETS[0]) and not bias.is_threshold({"values_or_threshold": ["14"]})
    assert not bias.is_threshold({"values_or_threshold": [14, 15]})  # two numbers: two categories


# ------------------------------------------------------------------ hand-made cases
THRESHOLD_40 = {"facet": "age", "values_or_threshold": [40], "label_values_or_threshold": [1]}


def test_the_documentation_examples(bias):
    """RD and AD pages' confusion matrices: RD = 65/70 - 20/27, AD = 0.7 - 0.5 (facet a: 0, facet d: 1)."""
    def records(group, tn, fn, fp, tp):  # (facet, predicted, observed)
        return [(group, 0, 0)] * tn + [(group, 0, 1)] * fn + [(group, 1, 0)] * fp + [(group, 1, 1)] * tp
    facet = {"facet": "f", "values_or_threshold": ["d"], "label_values_or_threshold": [1]}
    rd = records("a", 20, 5, 10, 65) + records("d", 18, 7, 5, 20)
    result = bias.post_training_bias(*zip(*rd), facet)
    assert result["RD"] == pytest.approx(65 / 70 - 20 / 27)
    assert result["DPPL"] == pytest.approx(75 / 100 - 25 / 50) and result["DI"] == pytest.approx(0.5 / 0.75)
    ad = records("a", 10, 20, 10, 60) + records("d", 10, 40, 10, 40)
    assert bias.post_training_bias(*zip(*ad), facet)["AD"] == pytest.approx(0.7 - 0.5)


def test_the_dppl_and_di_pages_example(bias):
    """Loans to 60% of facet a and 50% of facet d: DPPL = 0.1 and DI = .5/.6 (the DI page rounds it to 0.8)."""
    facet = {"facet": "age_group", "values_or_threshold": ["other"], "label_values_or_threshold": [1]}
    groups = ["middle-aged"] * 10 + ["other"] * 10
    predicted = [1] * 6 + [0] * 4 + [1] * 5 + [0] * 5
    result = bias.post_training_bias(groups, predicted, None, facet)
    assert result["DPPL"] == pytest.approx(0.6 - 0.5) and result["DI"] == pytest.approx(0.5 / 0.6)
    assert (result["n_a"], result["n_d"]) == (10, 10)


def test_an_empty_group_leaves_every_metric_undefined(bias):
    result = bias.post_training_bias([20, 30, 40], [1, 0, 1], [1, 1, 0], THRESHOLD_40)  # 40 is not > 40
    assert result == {"DPPL": None, "DI": None, "RD": None, "AD": None, "n_a": 3, "n_d": 0}
    empty = bias.post_training_bias([], [], [], THRESHOLD_40)
    assert empty == {"DPPL": None, "DI": None, "RD": None, "AD": None, "n_a": 0, "n_d": 0}


def test_q_a_zero_leaves_di_undefined_but_not_dppl(bias):
    # a: ages 20, 30 predicted 0; d: 50 predicted 1, 60 predicted 0.
    result = bias.post_training_bias([20, 30, 50, 60], [0, 0, 1, 0], None, THRESHOLD_40)
    assert result == {"DPPL": -0.5, "DI": None, "RD": None, "AD": None, "n_a": 2, "n_d": 2}
    flipped = bias.post_training_bias([20, 30, 50, 60], [1, 0, 0, 0], None, THRESHOLD_40)
    assert flipped["DI"] == 0.0 and flipped["DPPL"] == 0.5  # q_d = 0 is fine: DI is 0


def test_a_group_without_true_positives_leaves_rd_undefined(bias):
    # d (50, 60) has no true positive: recall_d undefined; accuracy_d = 1/2.
    result = bias.post_training_bias([20, 30, 50, 60], [1, 0, 1, 0], [1, 1, 0, 0], THRESHOLD_40)
    assert result["RD"] is None
    assert result["AD"] == pytest.approx(0.5 - 0.5) and result["DPPL"] == 0.0 and result["DI"] == 1.0
    nobody = bias.post_training_bias([20, 30, 50, 60], [0, 0, 0, 0], [0, 0, 0, 0], THRESHOLD_40)
    assert nobody == {"DPPL": 0.0, "DI": None, "RD": None, "AD": 0.0, "n_a": 2, "n_d": 2}


def test_values_compare_canonically_and_unreadable_ones_are_in_no_group(bias):
    assert bias.canonical("40.0") == bias.canonical(40) == bias.canonical(" 40 ") == bias.canonical(np.float64(40))
    assert bias.canonical("1e1") == "10" and bias.canonical("female") == "female"
    assert [bias.canonical(v) for v in (None, "", "  ", float("nan"), np.nan, [1])] == [None] * 6
    ages = ["41", 40.5, "39.0", None, "", "n/a", float("nan"), 40]
    result = bias.post_training_bias(ages, [1] * 8, None, THRESHOLD_40)
    assert (result["n_d"], result["n_a"]) == (2, 2)  # 41 and 40.5 | 39 and 40; four unreadable
    category = {"facet": "age", "values_or_threshold": ["40", "n/a"], "label_values_or_threshold": ["1"]}
    result = bias.post_training_bias(ages, [1, 0, 1, 0, 1, 0, 1, "1.0"], None, category)
    assert (result["n_d"], result["n_a"]) == (2, 3)  # "n/a" and 40 | 41, 40.5, 39
    assert result["DPPL"] == pytest.approx(2 / 3 - 1 / 2)  # a: 1, 0, 1; d: 0 ("n/a"), 1 ("1.0")


def test_mismatched_lengths_are_refused(bias):
    with pytest.raises(ValueError, match="one entry per record"):
        bias.post_training_bias([1, 2], [1], None, THRESHOLD_40)


def test_the_document_is_strict_json_with_nulls(bias):
    document = bias.baseline_document({"age": [20, 50]}, [0, 1], [0, 1], [THRESHOLD_40], "two records")
    text = json.dumps(document, allow_nan=False)
    assert json.loads(text) == {"report_version": 1, "source": "two records", "facets": {"age": {
        "DPPL": -1.0, "DI": None, "RD": None, "AD": 0.0, "n_a": 1, "n_d": 1}}}


# ------------------------------------------------------------------ arguments
def _args(bias, argv):
    parser = argparse.ArgumentParser()
    bias.add_arguments(parser)
    return parser.parse_args(argv)


def test_facets_split_over_several_arguments_are_joined_in_order(bias):
    facets = [THRESHOLD_40, {"facet": "band", "values_or_threshold": ["-1", "x"], "label_values_or_threshold": [0]}]
    text = json.dumps(facets)
    parts = [f"--bias-facets={text[i:i + 7]}" for i in range(0, len(text), 7)]
    assert bias.facets_of(_args(bias, parts)) == facets
    assert bias.facets_of(_args(bias, [])) == []
    # A part may start with '-' (a negative number cut in two): the '=' form keeps it a value.
    assert _args(bias, ["--bias-facets=-1", "--bias-facets=--x"]).bias_facets == ["-1", "--x"]


@pytest.mark.parametrize("value", ['{"facet": "age"}', '[{"facet": "age"}]', "[1]", "not json"])
def test_malformed_facet_arguments_are_refused(bias, value):
    with pytest.raises(ValueError):
        bias.facets_of(_args(bias, [f"--bias-facets={value}"]))


def test_facet_columns_are_found_by_name_and_checked_against_the_configured_positions(bias):
    names = ["amount", "customer_age", "merchant_category_online"]
    facets = [{"facet": "customer_age"}, {"facet": "merchant_category_online"}]
    assert bias.facet_columns(names, facets, None) == [1, 2]
    assert bias.facet_columns(names, facets, "1,2") == [1, 2]
    with pytest.raises(ValueError, match="'customer_age' is model input column 1, but the configured feature "
                                         "names put it at 0.*monitoring_features"):
        bias.facet_columns(names, facets, "0,2")
    with pytest.raises(ValueError, match="'age' is not a model input column"):
        bias.facet_columns(names, [{"facet": "age"}], None)
    with pytest.raises(ValueError, match="2 positions for 1 facets"):
        bias.facet_columns(names, facets[:1], "1,2")


def test_feature_names_come_from_the_one_histogram(bias, tmp_path):
    (tmp_path / "baseline_histogram.json").write_text(json.dumps({"features": {"b": {}, "a": {}, "c": {}}}))
    assert bias.feature_names(tmp_path) == ["b", "a", "c"]  # the payload order, not sorted
    (tmp_path / "other.json").write_text("{}")
    with pytest.raises(ValueError, match="expected one baseline histogram"):
        bias.feature_names(tmp_path)


# ------------------------------------------------------------------ the bias checker reads what this writes
CHECKER = ROOT / "mlops_cdk" / "lambdas" / "quality_checker"
VALUES = ["40", 40, 40.0, " 40 ", "40.0", "4e1", 41, "41.5", 39.999, True, False, "1", 1, 0, "0.0", "-0",
          0.1 + 0.2, "0.30000000000000004", 0.3, 2 ** 53 + 2, float(2 ** 60), "n/a", " n/a ", "female",
          None, "", " ", float("nan"), "nan", float("inf"), "-inf", "1e400", np.float64(40), np.float64(0.5)]


@pytest.fixture(scope="module")
def checker():
    """The own bias-drift checker's modules (another package), loaded as its Lambda loads them."""
    return types.SimpleNamespace(values=load_handler(CHECKER / "record_values.py"),
                                 stats=load_handler(CHECKER / "bias_stats.py"))


@pytest.mark.parametrize("groups", [[40], [0.3], ["40", "n/a", 0.30000000000000004], [1], ["1", "female"]],
                         ids=["threshold", "float-threshold", "categories", "threshold-1", "strings"])
def test_the_checker_sorts_every_value_into_the_same_group(bias, checker, groups):
    """Same group a / d / unreadable for every spelling, so live and baseline compare like with like."""
    facet = {"facet": "f", "values_or_threshold": groups, "label_values_or_threshold": [1]}
    in_a, in_d = bias.facet_groups(VALUES, facet)
    ours = [1 if d else 0 if a else None for a, d in zip(in_a, in_d)]
    group = checker.values.FacetGroup(groups)
    assert ours == [group.group(v) for v in VALUES]
    assert 0 in ours and 1 in ours and None in ours  # the values exercise every outcome


@pytest.mark.parametrize("labels", [[1], [0], ["1", "yes"], [0.5]])
def test_the_checker_counts_the_same_outcomes_positive(bias, checker, labels):
    outcome = checker.values.Outcome(labels, regression=False)
    readable = [v for v in VALUES if checker.values.canonical(v) is not None]
    assert bias.positive(readable, labels).astype(int).tolist() == [outcome.positive(v) for v in readable]
    assert [bias.canonical(v) for v in VALUES] == [checker.values.canonical(v) for v in VALUES]


def test_the_checker_loads_the_document_as_written(bias, checker, cancer):
    """The real-data document, nulls included, is accepted and read value for value."""
    predicted = (cancer["score"] >= 0.5).astype(int).to_numpy()
    columns = {f["facet"]: cancer[f["facet"]].tolist() for f in FACETS}
    facets = [FACETS[0], FACETS[2], FACETS[3], {**THRESHOLD_40, "facet": "texture_band", "values_or_threshold": [9]}]
    document = bias.baseline_document({**columns, "texture_band": cancer["texture_band"].tolist()}, predicted,
                                      cancer["target"].to_numpy(), facets, "test split")
    assert document["facets"]["texture_band"]["DPPL"] is None  # no band above 9: an empty group d
    text = json.dumps(document, indent=2, allow_nan=False)
    loaded = checker.stats.load_baseline(text.encode())
    assert loaded == {name: {m: entry[m] for m in ("DPPL", "DI", "RD", "AD")}
                      for name, entry in document["facets"].items()}
    drift = checker.stats.FacetBias("mean radius", {}, 0, loaded["mean radius"], loaded["mean radius"], 0.1).drift
    assert drift == dict.fromkeys(("DPPL", "DI", "RD", "AD"), 0.0)  # the model itself: no drift
