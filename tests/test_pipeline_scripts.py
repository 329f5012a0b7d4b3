"""The step scripts, run as SageMaker runs them, on a synthetic fraud dataset in temp dirs.

Metrics and histograms are checked against independent computations
(scikit-learn's metrics, pandas' binning). The bias baseline's tests are in
test_bias_baseline.py.
"""

from __future__ import annotations

import importlib
import json
import pathlib
import sys
import tarfile
import types

import numpy as np
import pandas as pd
import pytest

import mlops_cdk.pipeline_defs
from tests.harness import lazy_module

skm = lazy_module("sklearn.metrics")
# Not training_pipeline.SCRIPTS_DIR: that import loads the sagemaker SDK (~2 s), which
# these tests do not need. test_pipeline_defs checks the two agree.
SCRIPTS_DIR = pathlib.Path(mlops_cdk.pipeline_defs.__file__).parent / "scripts"

LABEL = "is_fraud"
NUMERIC = ["amount", "account_age_days", "transaction_count", "customer_age", "account_balance"]
CATEGORIES = ["electronics", "grocery", "online", "travel"]
ROWS, DUPLICATES, UNLABELED = 2000, 20, 5


@pytest.fixture(scope="module")
def scripts():
    """The scripts imported as top-level modules from their own directory, like in the container."""
    saved_path, saved_bytecode = list(sys.path), sys.dont_write_bytecode
    sys.path.insert(0, str(SCRIPTS_DIR))
    sys.dont_write_bytecode = True  # keep __pycache__ out of the directory the construct ships
    try:
        yield types.SimpleNamespace(
            preprocess=importlib.import_module("preprocess"),
            evaluate=importlib.import_module("evaluate"),
            histogram=importlib.import_module("baseline_histogram"),
            bias=importlib.import_module("bias_baseline"),
        )
    finally:
        sys.path[:], sys.dont_write_bytecode = saved_path, saved_bytecode
        for name in ("preprocess", "evaluate", "baseline_histogram", "bias_baseline"):
            sys.modules.pop(name, None)


def fraud_frame(rows: int = ROWS, seed: int = 7) -> pd.DataFrame:
    """Transactions whose fraud odds grow with amount and shrink with account age."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({
        "amount": rng.lognormal(4, 1, rows).round(2),
        "account_age_days": rng.integers(1, 3650, rows),
        "transaction_count": rng.poisson(5, rows),
        "merchant_category": rng.choice(CATEGORIES, rows),
        "customer_age": rng.integers(18, 90, rows),
        "account_balance": rng.normal(5000, 2000, rows).round(2),
    })
    logit = -4 + 0.01 * data["amount"] - 0.0005 * data["account_age_days"] + (data["merchant_category"] == "online")
    data.insert(0, LABEL, (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int))
    return data


@pytest.fixture(scope="module")
def raw_input(tmp_path_factory):
    """Two CSV parts with gaps, duplicates and unlabeled rows to clean."""
    data = fraud_frame()
    rng = np.random.default_rng(1)
    data.loc[rng.choice(ROWS, 15, replace=False), "amount"] = np.nan
    data.loc[rng.choice(ROWS, 10, replace=False), "merchant_category"] = np.nan
    data[LABEL] = data[LABEL].astype(float)
    data.loc[rng.choice(ROWS, UNLABELED, replace=False), LABEL] = np.nan
    data = pd.concat([data, data.iloc[:DUPLICATES]], ignore_index=True)
    input_dir = tmp_path_factory.mktemp("input")
    data.iloc[:1000].to_csv(input_dir / "part-0.csv", index=False)
    data.iloc[1000:].to_csv(input_dir / "part-1.csv", index=False)
    return input_dir


@pytest.fixture(scope="module")
def outputs(scripts, raw_input, tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("output")
    counts = scripts.preprocess.main(["--input-dir", str(raw_input), "--output-dir", str(output_dir)])
    return output_dir, counts


def read_split(output_dir, name) -> pd.DataFrame:
    return pd.read_csv(output_dir / name / f"{name}.csv", header=None)


# ----------------------------------------------------------------- preprocess
def test_split_sizes_are_70_15_15_of_the_clean_rows(outputs):
    output_dir, counts = outputs
    clean = ROWS - UNLABELED  # the duplicates are gone too
    assert sum(counts.values()) == clean
    for name, share in (("train", 0.70), ("validation", 0.15), ("test", 0.15)):
        assert abs(counts[name] - share * clean) <= 2, name  # two ceil()-rounded splits
        assert len(read_split(output_dir, name)) == counts[name]


def test_splits_are_label_first_headerless_numeric_and_complete(outputs):
    output_dir, _ = outputs
    for name in ("train", "validation", "test"):
        frame = read_split(output_dir, name)
        assert all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes), f"{name} has a header or text"
        assert set(frame[0]) == {0, 1}
        assert frame.shape[1] == 1 + len(NUMERIC) + len(CATEGORIES)
        assert not frame.isna().any().any()


def test_splits_are_disjoint_and_stratified(outputs):
    output_dir, _ = outputs
    frames = {name: read_split(output_dir, name) for name in ("train", "validation", "test")}
    rows = {name: set(map(tuple, frame.to_numpy())) for name, frame in frames.items()}
    assert not rows["train"] & rows["test"] and not rows["train"] & rows["validation"]
    rates = [frame[0].mean() for frame in frames.values()]
    assert max(rates) - min(rates) < 0.01


def test_baseline_csv_is_the_training_inputs_with_a_header(outputs):
    output_dir, _ = outputs
    baseline = pd.read_csv(output_dir / "baseline" / "baseline.csv")
    train = read_split(output_dir, "train")
    expected_columns = [
        "amount", "account_age_days", "transaction_count",
        *(f"merchant_category_{c}" for c in CATEGORIES), "customer_age", "account_balance",
    ]
    assert list(baseline.columns) == expected_columns
    np.testing.assert_array_equal(baseline.to_numpy(), train.iloc[:, 1:].to_numpy())


def test_histogram_matches_an_independent_binning(outputs):
    output_dir, _ = outputs
    document = json.loads((output_dir / "baseline" / "baseline_histogram.json").read_text())
    baseline = pd.read_csv(output_dir / "baseline" / "baseline.csv")
    assert document["version"] == 1 and document["label"] == LABEL
    assert document["record_count"] == len(baseline)
    assert list(document["features"]) == list(baseline.columns)
    for column, histogram in document["features"].items():
        values = baseline[column]
        if histogram["type"] == "numeric":
            edges = histogram["bin_edges"]
            assert edges[0] is None and edges[-1] is None
            interior = edges[1:-1]
            assert interior and all(a < b for a, b in zip(interior, interior[1:]))
            bins = pd.cut(values, [-np.inf, *interior, np.inf], right=False)
            reference = bins.value_counts(normalize=True, sort=False)
            np.testing.assert_allclose(histogram["proportions"], reference.to_numpy(), atol=1e-12)
        else:
            reference = values.map(lambda v: format(float(v), ".15g")).value_counts(normalize=True)
            assert histogram["categories"] == pytest.approx(reference.to_dict(), abs=1e-12)
        shares = histogram.get("proportions") or list(histogram["categories"].values())
        assert sum(shares) == pytest.approx(1.0, abs=1e-12)
    kinds = {c: h["type"] for c, h in document["features"].items()}
    assert kinds["amount"] == "numeric" and kinds["merchant_category_online"] == "categorical"
    assert document["features"]["merchant_category_online"]["categories"].keys() == {"0", "1"}


def test_numeric_histogram_has_deciles_of_continuous_data(scripts):
    histogram = scripts.histogram.numeric_histogram(np.arange(1000.0))
    assert len(histogram["bin_edges"]) == 11
    assert histogram["proportions"] == pytest.approx([0.1] * 10)


def test_histograms_of_strings_and_gaps(scripts):
    frame = pd.DataFrame({"channel": ["web", "app", "web", "web"], "count": [1, 2, 2, 3]})
    document = scripts.histogram.build_histograms(frame, LABEL)
    assert document["features"] == {
        "channel": {"type": "categorical", "categories": {"app": 0.25, "web": 0.75}},
        "count": {"type": "categorical", "categories": {"1": 0.25, "2": 0.5, "3": 0.25}},
    }
    with pytest.raises(ValueError, match=r"impute missing values first; columns with NaN: \['count'\]"):
        scripts.histogram.build_histograms(frame.assign(count=[1, None, 2, 3]), LABEL)


def test_preprocess_is_deterministic(scripts, raw_input, outputs, tmp_path):
    output_dir, _ = outputs
    scripts.preprocess.main(["--input-dir", str(raw_input), "--output-dir", str(tmp_path)])
    for path in output_dir.rglob("*.*"):
        assert (tmp_path / path.relative_to(output_dir)).read_bytes() == path.read_bytes(), path.name


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.drop(columns=[LABEL]), "label column 'is_fraud' not found"),
        (lambda d: d.assign(is_fraud=d[LABEL].replace(1, 2)), "must hold 0 or 1"),
        (lambda d: d[[LABEL]], "no feature columns"),
    ],
    ids=["missing-label", "non-binary-label", "no-features"],
)
def test_malformed_input_is_rejected_clearly(scripts, tmp_path, mutate, message):
    (tmp_path / "in").mkdir()
    mutate(fraud_frame(200)).to_csv(tmp_path / "in" / "data.csv", index=False)
    with pytest.raises(ValueError, match=message):
        scripts.preprocess.main(["--input-dir", str(tmp_path / "in"), "--output-dir", str(tmp_path / "out")])


def test_empty_input_directory_is_rejected(scripts, tmp_path):
    with pytest.raises(ValueError, match="no \\*.csv file"):
        scripts.preprocess.main(["--input-dir", str(tmp_path), "--output-dir", str(tmp_path / "out")])


# ------------------------------------------------------------------- evaluate
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8])
def test_compute_metrics_matches_scikit_learn(scripts, threshold):
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, 500)
    y_score = np.clip(0.3 * y_true + rng.random(500) * 0.7, 0, 1).round(1)  # rounding creates ties
    y_pred = (y_score >= threshold).astype(int)
    expected = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "precision": skm.precision_score(y_true, y_pred, zero_division=0),
        "recall": skm.recall_score(y_true, y_pred),
        "f1": skm.f1_score(y_true, y_pred, zero_division=0),
        "auc": skm.roc_auc_score(y_true, y_score),
    }
    report = scripts.evaluate.compute_metrics(y_true, y_score, threshold)["binary_classification_metrics"]
    assert report.keys() == expected.keys()
    for name, value in expected.items():
        assert report[name] == {"value": pytest.approx(value, abs=1e-12), "standard_deviation": "NaN"}, name


def test_compute_metrics_with_no_positive_prediction(scripts):
    report = scripts.evaluate.compute_metrics([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4])["binary_classification_metrics"]
    assert report["precision"]["value"] == 0.0 and report["f1"]["value"] == 0.0
    assert report["auc"]["value"] == skm.roc_auc_score([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4])


@pytest.mark.parametrize(
    ("y_true", "y_score", "message"),
    [
        ([0, 0, 0], [0.1, 0.2, 0.3], "both classes"),
        ([0, 1], [0.1], "as many scores as labels"),
        ([0, 2], [0.1, 0.2], "must be 0 or 1"),
        ([0, 1], [0.1, float("nan")], "finite"),
    ],
)
def test_compute_metrics_rejects_bad_input(scripts, y_true, y_score, message):
    with pytest.raises(ValueError, match=message):
        scripts.evaluate.compute_metrics(y_true, y_score)


def test_evaluate_main_writes_the_report_format(scripts, outputs, tmp_path, monkeypatch):
    output_dir, _ = outputs
    score_by_amount = lambda x: 1 / (1 + np.exp(-(x[:, 0] - 100) / 50))  # noqa: E731
    monkeypatch.setattr(scripts.evaluate, "load_model", lambda model_dir: score_by_amount)
    scripts.evaluate.main([
        "--model-dir", str(tmp_path), "--test-dir", str(output_dir / "test"), "--output-dir", str(tmp_path / "eval"),
    ])
    report = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert list(report) == ["binary_classification_metrics"]
    metrics = report["binary_classification_metrics"]
    assert list(metrics) == ["accuracy", "precision", "recall", "f1", "auc"]
    for entry in metrics.values():
        assert entry.keys() == {"value", "standard_deviation"} and entry["standard_deviation"] == "NaN"
        assert 0 <= entry["value"] <= 1


def test_load_model_reads_the_booster_from_model_tar_gz(scripts, tmp_path, monkeypatch):
    """xgboost is not installed here: a stand-in module records what evaluate.py does with it."""
    loaded = []

    class Booster:
        def load_model(self, path):
            loaded.append(open(path, "rb").read())

        def predict(self, matrix):
            return matrix.sum(axis=1)

    monkeypatch.setitem(sys.modules, "xgboost", types.SimpleNamespace(Booster=Booster, DMatrix=np.asarray))
    (tmp_path / "xgboost-model").write_bytes(b"booster bytes")
    with tarfile.open(tmp_path / "model.tar.gz", "w:gz") as archive:
        archive.add(tmp_path / "xgboost-model", arcname="xgboost-model")
    predict = scripts.evaluate.load_model(tmp_path)
    assert loaded == [b"booster bytes"]
    np.testing.assert_array_equal(predict(np.array([[1.0, 2.0]])), [3.0])

    with tarfile.open(tmp_path / "model.tar.gz", "w:gz") as archive:
        archive.add(tmp_path / "xgboost-model", arcname="other-file")
    with pytest.raises(ValueError, match="'xgboost-model' not found"):
        scripts.evaluate.load_model(tmp_path)


# -------------------------------------------------------------- bias baseline
BIAS_FACETS = [
    {"facet": "customer_age", "values_or_threshold": [40], "label_values_or_threshold": [1]},
    {"facet": "merchant_category_online", "values_or_threshold": ["1"], "label_values_or_threshold": [0]},
]


def _evaluate_with_facets(scripts, outputs, tmp_path, monkeypatch, *extra):
    output_dir, _ = outputs
    score_by_amount = lambda x: 1 / (1 + np.exp(-(x[:, 0] - 100) / 50))  # noqa: E731
    monkeypatch.setattr(scripts.evaluate, "load_model", lambda model_dir: score_by_amount)
    text = json.dumps(BIAS_FACETS, separators=(",", ":"))
    parts = [f"--bias-facets={text[i:i + 50]}" for i in range(0, len(text), 50)]  # split, as the definition does
    scripts.evaluate.main([
        "--model-dir", str(tmp_path), "--test-dir", str(output_dir / "test"), "--output-dir", str(tmp_path / "eval"),
        "--features-dir", str(output_dir / "baseline"), *parts, *extra,
    ])
    return score_by_amount


def test_evaluate_writes_the_bias_baseline_of_its_own_predictions(scripts, outputs, tmp_path, monkeypatch):
    """Facet columns found by the names preprocess gave them; metrics equal the per-group reference."""
    from tests.test_bias_baseline import assert_same, reference_bias

    score = _evaluate_with_facets(scripts, outputs, tmp_path, monkeypatch, "--facet-columns=7,5")
    document = json.loads((tmp_path / "eval" / "bias_baseline.json").read_text())
    assert document["report_version"] == 1 and "test split" in document["source"]
    assert list(document["facets"]) == ["customer_age", "merchant_category_online"]

    output_dir, _ = outputs
    names = list(pd.read_csv(output_dir / "baseline" / "baseline.csv", nrows=0).columns)  # not the histogram
    test = read_split(output_dir, "test")
    features = test.iloc[:, 1:].set_axis(names, axis=1)
    predicted = (score(features.to_numpy(dtype=float)) >= 0.5).astype(int)
    for facet in BIAS_FACETS:
        expected = reference_bias(features[facet["facet"]].tolist(), predicted, test[0].to_numpy(), facet)
        assert_same(document["facets"][facet["facet"]], expected)
        assert document["facets"][facet["facet"]]["n_a"] > 0 and document["facets"][facet["facet"]]["n_d"] > 0
    assert json.loads((tmp_path / "eval" / "evaluation.json").read_text())["binary_classification_metrics"]


def test_evaluate_without_facets_writes_no_bias_baseline(scripts, outputs, tmp_path, monkeypatch):
    output_dir, _ = outputs
    monkeypatch.setattr(scripts.evaluate, "load_model", lambda model_dir: lambda x: x[:, 0] / x[:, 0].max())
    scripts.evaluate.main(["--model-dir", str(tmp_path), "--test-dir", str(output_dir / "test"),
                           "--output-dir", str(tmp_path / "eval"), "--features-dir", str(tmp_path / "nowhere")])
    assert sorted(p.name for p in (tmp_path / "eval").iterdir()) == ["evaluation.json"]


def test_evaluate_fails_when_the_configured_columns_disagree_with_the_model(scripts, outputs, tmp_path, monkeypatch):
    """customer_age is the model's 8th input; monitoring_features saying otherwise would mislead the checker."""
    with pytest.raises(ValueError, match="'customer_age' is model input column 7, but the configured feature names "
                                         "put it at 0"):
        _evaluate_with_facets(scripts, outputs, tmp_path, monkeypatch, "--facet-columns=0,5")
    assert not (tmp_path / "eval" / "bias_baseline.json").exists()
