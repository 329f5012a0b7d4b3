"""The own bias-drift checker end to end in moto: Clarify's post-training bias per facet, its drift, metrics, report.

The reference is written from the SageMaker Clarify documentation, not from the checker:
clarify-post-training-bias-metric-dppl (DPPL = q'a - q'd, q' = n'(1) / n),
clarify-post-training-bias-metric-di (DI = q'd / q'a), clarify-post-training-bias-metric-rd
(RD = TPa / (TPa + FNa) - TPd / (TPd + FNd)) and clarify-post-training-bias-metric-ad
(AD = ACCa - ACCd, ACC = (TP + TN) / (TP + TN + FP + FN)), with numpy boolean masks over the
records. Real data: the diabetes study's patients (real age and sex) scored by models fitted on
the other half; then hand-made windows whose expected values are worked out by hand.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta

import numpy as np
import pytest
from botocore.exceptions import ClientError

import env
from tests.quality_checker_data import (
    CAPTURE_BUCKET, CAPTURE_PREFIX, ENDPOINT, GROUND_TRUTH_PREFIX, MODEL, NOW, REPORT_BUCKET, capture_line,
    diabetes_patients, h, label_line, moto_account_fixture, put_capture, put_labels, spread,
)

moto_clients, aws = moto_account_fixture()

FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
FACETS = [{"facet": "sex", "values_or_threshold": ["2"], "label_values_or_threshold": [1]},
          {"facet": "age", "values_or_threshold": [50], "label_values_or_threshold": [1]}]
BASELINE_KEY = "baselines/bias/bias_baseline.json"
ENV = {
    "CHECK": "bias_drift", "CAPTURE_BUCKET": CAPTURE_BUCKET, "CAPTURE_PREFIX": CAPTURE_PREFIX,
    "ENDPOINT_NAME": ENDPOINT, "MODEL_NAME": MODEL, "REPORT_BUCKET": REPORT_BUCKET, "REPORT_PREFIX": "bias-reports",
    "PROBLEM_TYPE": "BinaryClassification", "GROUND_TRUTH_BUCKET": CAPTURE_BUCKET,
    "GROUND_TRUTH_PREFIX": GROUND_TRUTH_PREFIX, "FEATURE_NAMES": ",".join(FEATURES), "BIAS_FACETS": json.dumps(FACETS),
    "BIAS_BASELINE_S3_URI": f"s3://{REPORT_BUCKET}/{BASELINE_KEY}", "BIAS_DRIFT_THRESHOLD": "0.1",
}
NO_LABELS = {"GROUND_TRUTH_BUCKET": "", "GROUND_TRUTH_PREFIX": ""}
ON_MODEL = {"ModelName": MODEL, "EndpointName": ENDPOINT}
METRICS = ("DPPL", "DI", "RD", "AD")


# --------------------------------------------------------------------------- the reference (Clarify's definitions)


def clarify(in_d: np.ndarray, predicted: np.ndarray, actual: np.ndarray | None) -> dict[str, float | None]:
    """DPPL, DI (and RD, AD with labels) of boolean arrays: group d, predicted positive, actually positive."""
    groups = {"a": ~in_d, "d": in_d}
    n = {g: int(m.sum()) for g, m in groups.items()}
    q = {g: (predicted & m).sum() / n[g] if n[g] else None for g, m in groups.items()}
    out: dict[str, float | None] = {
        "DPPL": None if None in q.values() else q["a"] - q["d"],
        "DI": None if None in q.values() or q["a"] == 0 else q["d"] / q["a"],
    }
    if actual is not None:
        tp = {g: int((predicted & actual & m).sum()) for g, m in groups.items()}
        fn = {g: int((~predicted & actual & m).sum()) for g, m in groups.items()}
        tn = {g: int((~predicted & ~actual & m).sum()) for g, m in groups.items()}
        fp = {g: int((predicted & ~actual & m).sum()) for g, m in groups.items()}
        recall = {g: tp[g] / (tp[g] + fn[g]) if tp[g] + fn[g] else None for g in groups}
        acc = {g: (tp[g] + tn[g]) / (tp[g] + tn[g] + fp[g] + fn[g]) if n[g] else None for g in groups}
        out["RD"] = None if None in recall.values() else recall["a"] - recall["d"]
        out["AD"] = None if None in acc.values() else acc["a"] - acc["d"]
    return out


def parity_distance(metric: str, value: float) -> float:
    return abs(1 - value) if metric == "DI" else abs(value)


def facet_groups(x: np.ndarray) -> dict[str, np.ndarray]:
    return {"sex": x[:, 1] == 2, "age": x[:, 0] > 50}


# --------------------------------------------------------------------------- real traffic


def traffic(s3, rows: np.ndarray, outputs: list[float], labels: list[str] | None) -> None:
    """Requests of 1, 3 or 2 records in turn, CSV and JSON (objects by feature name) alternately."""
    sizes, start, requests = (1, 3, 2), 0, []
    while start < len(rows):
        size = sizes[len(requests) % 3]
        requests.append(range(start, min(start + size, len(rows))))
        start += size
    times = spread(len(requests), NOW - timedelta(hours=20), 18)
    lines, label_lines = [], []
    for k, (records, when) in enumerate(zip(requests, times)):
        event = f"req-{k}"
        if k % 2:
            objects = [dict(zip(FEATURES, map(float, rows[i]))) for i in records]
            lines.append(capture_line(inputs=[], input_encoding="JSON", input_json={"instances": objects},
                                      output=json.dumps({"predictions": [{"score": outputs[i]} for i in records]}),
                                      output_encoding="JSON", when=when, event_id=event))
        else:
            lines.append(capture_line(inputs=[list(rows[i]) for i in records], when=when, event_id=event,
                                      output="\n".join(repr(outputs[i]) for i in records)))
        if labels is not None:
            label_lines.append(label_line(event, "\n".join(labels[i] for i in records)))
    put_capture(s3, NOW - timedelta(hours=3), lines)
    if labels is not None:
        put_labels(s3, NOW - timedelta(minutes=30), label_lines)


def put_baseline(s3, document) -> None:
    body = document if isinstance(document, (str, bytes)) else json.dumps(document)
    s3.put_object(Bucket=REPORT_BUCKET, Key=BASELINE_KEY, Body=body)


@pytest.mark.parametrize("problem", ["BinaryClassification", "Regression"])
def test_bias_and_drift_equal_the_clarify_definitions_on_diabetes(aws, problem):
    x, y, scores, regression = diabetes_patients()
    if problem == "Regression":
        facets = [{**f, "label_values_or_threshold": [140]} for f in FACETS]
        outputs, predicted = [float(v) for v in regression], regression > 140
    else:
        facets, outputs, predicted = FACETS, [float(v) for v in scores], scores >= 0.5
    actual = y > 140
    train, live = np.arange(0, len(y), 2), np.arange(1, len(y), 2)
    # The baseline: the same definitions on the training half (as the training pipeline would write it).
    baseline = {name: clarify(mask[train], predicted[train], actual[train]) for name, mask in facet_groups(x).items()}
    put_baseline(aws.s3, {"report_version": 1, "source": "training half", "facets": {
        name: {**values, "n_a": int((~facet_groups(x)[name][train]).sum()),
               "n_d": int(facet_groups(x)[name][train].sum())} for name, values in baseline.items()}})
    labels = [repr(float(v)) if problem == "Regression" else str(int(v > 140)) for v in y]
    traffic(aws.s3, x[live], [outputs[i] for i in live], [labels[i] for i in live])

    result = aws.run(ENV, {"PROBLEM_TYPE": problem, "BIAS_FACETS": json.dumps(facets)})

    assert result["counts"]["predictions"] == result["counts"]["labelled_records"] == len(live)
    assert result["counts"]["malformed_lines"] == 0
    expected_violations = []
    for name, mask in facet_groups(x).items():
        expected = clarify(mask[live], predicted[live], actual[live])
        facet = result["facets"][name]
        assert set(facet["values"]) == set(METRICS)
        drifts = {}
        for metric in METRICS:
            drift = parity_distance(metric, expected[metric]) - parity_distance(metric, baseline[name][metric])
            drifts[metric] = drift
            assert facet["values"][metric] == pytest.approx(expected[metric], abs=1e-12), (name, metric)
            assert facet["drift"][metric] == pytest.approx(drift, abs=1e-12), (name, metric)
            on = {**ON_MODEL, "Facet": name, "BiasMetric": metric}
            assert aws.metric("BiasValue", **on) == pytest.approx(expected[metric], abs=1e-12)
            assert aws.metric("BiasDrift", **on) == pytest.approx(drift, abs=1e-12)
            if drift >= 0.1:
                expected_violations.append((name, metric))
        assert aws.metric("MaxBiasDrift", **ON_MODEL, Facet=name) == pytest.approx(max(drifts.values()), abs=1e-12)
    # The model drifted further from parity on age than on its training half (worked out above, not assumed).
    assert 0 < len(expected_violations) < 8
    assert [(v["facet"], v["metric"]) for v in result["violations"]] == expected_violations
    assert result["status"] == "drift"
    report = aws.report(result["report_uri"])
    assert result["report_uri"].startswith(f"s3://{REPORT_BUCKET}/bias-reports/{ENDPOINT}/")
    assert report["baseline"] == {"uri": ENV["BIAS_BASELINE_S3_URI"], "state": "found"}
    age = report["facets"]["age"]
    assert (age["values_or_threshold"], age["facet_is_threshold"]) == ([50], True)
    assert age["groups"]["d"]["records"] == int(facet_groups(x)["age"][live].sum())
    assert age["groups"]["a"]["records"] == int((~facet_groups(x)["age"][live]).sum())
    assert report["facets"]["sex"]["facet_is_threshold"] is False


def test_without_labels_only_dppl_and_di(aws):
    x, _, scores, _ = diabetes_patients()
    live = np.arange(1, 60, 2)
    traffic(aws.s3, x[live], [float(scores[i]) for i in live], None)
    result = aws.run(ENV, {**NO_LABELS, "BIAS_BASELINE_S3_URI": ""})
    for name, mask in facet_groups(x).items():
        expected = clarify(mask[live], scores[live] >= 0.5, None)
        assert result["facets"][name]["values"] == pytest.approx(expected, abs=1e-12)
    assert result["status"] == "no_baseline" and result["violations"] == []
    names = {name for name, _ in aws.metric_names()}
    assert "BiasDrift" not in names and "MaxBiasDrift" not in names
    assert not any(kw["Prefix"].startswith(GROUND_TRUTH_PREFIX) for kw in aws.s3_spy.calls_to("list_objects_v2"))
    assert aws.report(result["report_uri"])["baseline"] == {"uri": None, "state": "not_configured"}


# --------------------------------------------------------------------------- groups, outcomes, undefined values


def _requests(s3, rows: list[tuple[str, str, float]], labels: dict[str, str] | None = None):
    """One capture line per (event id, CSV input, score); labels by event id."""
    when = NOW - timedelta(hours=2)
    put_capture(s3, when, [capture_line(inputs=[csv.split(",")], output=repr(score), when=when,
                                        event_id=event) for event, csv, score in rows])
    if labels:
        put_labels(s3, NOW - timedelta(hours=1), [label_line(e, v) for e, v in labels.items()])

SMALL_FACETS = json.dumps([{"facet": "kind", "values_or_threshold": ["x"]}])
SMALL = {**ENV, "FEATURE_NAMES": "age,kind,flag", "BIAS_FACETS": SMALL_FACETS, "BIAS_BASELINE_S3_URI": ""}


def test_groups_by_category_and_threshold_with_canonical_values(aws):
    facets = [{"facet": "age", "values_or_threshold": [40], "label_values_or_threshold": [1]},
              {"facet": "kind", "values_or_threshold": [40, "x"], "label_values_or_threshold": [1]}]
    rows = [("e1", "41,40.0,0", 0.9), ("e2", "40,40,0", 0.8), ("e3", "39.5,x,0", 0.1), ("e4", "80, y ,0", 0.2),
            ("e5", "n/a,,0", 0.9), ("e6", "50,41,0", 0.7)]
    _requests(aws.s3, rows, {"e1": "1", "e2": "0", "e3": "1", "e4": "0", "e5": "1", "e6": "1"})
    result = aws.run(SMALL, {"BIAS_FACETS": json.dumps(facets)})
    report = aws.report(result["report_uri"])
    # age > 40: d = e1, e4, e6 (predicted 1, 0, 1); a = e2, e3 (1, 0); e5 unreadable.
    age = report["facets"]["age"]
    assert (age["groups"]["d"]["records"], age["groups"]["a"]["records"], age["unreadable_records"]) == (3, 2, 1)
    assert age["metrics"]["DPPL"]["value"] == pytest.approx(1 / 2 - 2 / 3)
    assert age["metrics"]["DI"]["value"] == pytest.approx((2 / 3) / (1 / 2))
    # recall: d has positives e1 (hit), e6 (hit): 1; a has e3 (missed): 0. accuracy: d 3/3, a 0/2.
    assert (age["metrics"]["RD"]["value"], age["metrics"]["AD"]["value"]) == (-1.0, -1.0)
    # kind in {40, "x"}: "40.0" and "40" are 40; " y " and "41" are a; "" is unreadable.
    kind = report["facets"]["kind"]
    assert (kind["groups"]["d"]["records"], kind["groups"]["a"]["records"], kind["unreadable_records"]) == (3, 2, 1)


def test_undefined_metrics_are_null_and_not_published(aws):
    # No record in group d (nobody over 90) and nobody in group a predicted positive for the second facet.
    facets = [{"facet": "age", "values_or_threshold": [90], "label_values_or_threshold": [1]},
              {"facet": "kind", "values_or_threshold": ["x"], "label_values_or_threshold": [1]}]
    _requests(aws.s3, [("e1", "30,x,0", 0.9), ("e2", "40,y,0", 0.1), ("e3", "50,y,0", 0.2)],
              {"e1": "1", "e2": "0", "e3": "0"})
    result = aws.run(SMALL, {"BIAS_FACETS": json.dumps(facets)})
    assert result["facets"]["age"]["values"] == dict.fromkeys(METRICS)
    kind = result["facets"]["kind"]["values"]
    # q_a = 0: DI undefined; group a has no positive label: RD undefined.
    assert (kind["DPPL"], kind["DI"], kind["RD"], kind["AD"]) == (-1.0, None, None, 0.0)
    published = {(name, dict(dims).get("Facet"), dict(dims).get("BiasMetric")) for name, dims in aws.metric_names()}
    assert ("BiasValue", "kind", "DPPL") in published and ("BiasValue", "kind", "AD") in published
    assert not any(facet == "age" for _, facet, _ in published)
    assert ("BiasValue", "kind", "DI") not in published
    assert aws.report(result["report_uri"])["facets"]["age"]["metrics"]["DPPL"] == {
        "value": None, "baseline": None, "drift": None, "violation": False}


def test_multiclass_and_labels_in_the_positive_set(aws):
    facets = [{"facet": "kind", "values_or_threshold": ["x"], "label_values_or_threshold": ["gold", "silver"]}]
    when = NOW - timedelta(hours=2)
    put_capture(aws.s3, when, [
        capture_line(inputs=[[1, "x", 0]], output=out, when=when, event_id=e)
        for e, out in (("e1", "gold"), ("e2", "bronze"), ("e3", "silver"), ("e4", "silver"))])
    put_capture(aws.s3, when, [capture_line(inputs=[[1, "y", 0]], output="bronze", when=when, event_id="e5")],
                variant="Canary")
    result = aws.run(SMALL, {**NO_LABELS, "PROBLEM_TYPE": "MulticlassClassification",
                             "BIAS_FACETS": json.dumps(facets)})
    values = result["facets"]["kind"]["values"]
    assert (values["DPPL"], values["DI"]) == (0 - 3 / 4, None)


def test_malformed_bias_inputs_are_counted(aws):
    when = NOW - timedelta(hours=2)
    put_capture(aws.s3, when, [
        capture_line(inputs=[[30, "x", 0]], output="0.9", when=when, event_id="ok"),
        capture_line(inputs=[[30, "x"]], output="0.9", when=when, event_id="short-row"),
        capture_line(inputs=[[30, "x", 0], [31, "y", 0]], output="0.9", when=when, event_id="one-output"),
        json.dumps({"captureData": {"endpointOutput": {"data": "0.5", "encoding": "CSV"}},
                    "eventMetadata": {"eventId": "no-input"}}),
        capture_line(inputs=[], input_encoding="JSON", input_json={"other": [1]}, output="0.9", when=when,
                     event_id="unknown-json"),
    ])
    result = aws.run(SMALL, NO_LABELS)
    assert result["counts"]["malformed_by_reason"]["capture"] == {
        "column_count": 1, "record_count": 1, "no_input": 1, "unsupported_payload": 1}
    assert result["counts"]["predictions"] == 1 and aws.metric("MalformedLines", **ON_MODEL, Check="bias_drift") == 4


# --------------------------------------------------------------------------- the baseline


def _small_window(s3):
    _requests(s3, [("e1", "30,x,0", 0.9), ("e2", "40,x,0", 0.2), ("e3", "50,y,0", 0.9), ("e4", "60,y,0", 0.8)])



def test_missing_baseline_publishes_values_without_drift(aws, capsys):
    _small_window(aws.s3)
    result = aws.run({**SMALL, **NO_LABELS,
                      "BIAS_BASELINE_S3_URI": f"s3://{REPORT_BUCKET}/{BASELINE_KEY}"})
    assert result["status"] == "no_baseline" and result["facets"]["kind"]["values"] == {"DPPL": 0.5, "DI": 0.5}
    assert aws.metric("BiasValue", **ON_MODEL, Facet="kind", BiasMetric="DI") == 0.5
    assert {name for name, _ in aws.metric_names()} == {"BiasValue", "LabelledRecords", "UnlabelledPredictions",
                                                        "UnmatchedLabels", "MalformedLines"}
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    warning = next(line for line in logged if line["level"] == "WARNING")
    assert "no bias baseline" in warning["message"] and warning["baseline_uri"].endswith(BASELINE_KEY)
    assert aws.report(result["report_uri"])["baseline"]["state"] == "missing"


@pytest.mark.parametrize(("body", "error"), [
    ("{not json", "not JSON"),
    (json.dumps({"report_version": 2, "facets": {}}), "'report_version' must be 1"),
    (json.dumps({"report_version": 1, "facets": {"kind": {"DI": "high"}}}), "facets.kind.DI must be a finite number"),
    (json.dumps({"report_version": 1, "facets": {"kind": {"DI": 1, "n_d": -1}}}), "facets.kind.n_d must be a count"),
    (json.dumps({"report_version": 1, "facets": []}), "'facets' must be an object"),
    ("x" * (1024 * 1024 + 1), "larger than 1048576 bytes"),
])
def test_an_unusable_baseline_is_reported_not_fatal(aws, capsys, body, error):
    _small_window(aws.s3)
    put_baseline(aws.s3, body)
    result = aws.run({**SMALL, **NO_LABELS,
                      "BIAS_BASELINE_S3_URI": f"s3://{REPORT_BUCKET}/{BASELINE_KEY}"})
    assert result["status"] == "no_baseline" and result["facets"]["kind"]["values"]["DI"] == 0.5
    baseline = aws.report(result["report_uri"])["baseline"]
    assert baseline["state"] == "invalid" and error in baseline["error"]
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(line["level"] == "ERROR" and error in line["error"] for line in logged)


def test_a_baseline_bucket_that_cannot_be_read_fails_the_run(aws):
    _small_window(aws.s3)
    with pytest.raises(ClientError):
        aws.run({**SMALL, **NO_LABELS, "BIAS_BASELINE_S3_URI": "s3://no-such-bucket/b.json"})


def test_drift_against_a_partial_baseline(aws):
    facets = [{"facet": "kind", "values_or_threshold": ["x"]}, {"facet": "age", "values_or_threshold": [45]}]
    _small_window(aws.s3)  # kind: q_d = 1/2, q_a = 1 (DPPL 0.5, DI 0.5); age > 45: q_d = 1, q_a = 1/2 (-0.5, 2)
    put_baseline(aws.s3, {"report_version": 1, "source": "test split", "facets": {
        "kind": {"DPPL": 0.3, "DI": 0.8, "RD": None, "AD": 0.1, "n_a": 50, "n_d": 40}, "other": {"DI": 1.0}}})
    result = aws.run({**SMALL, **NO_LABELS, "BIAS_FACETS": json.dumps(facets),
                      "BIAS_BASELINE_S3_URI": f"s3://{REPORT_BUCKET}/{BASELINE_KEY}", "BIAS_DRIFT_THRESHOLD": "0.25"})
    kind = result["facets"]["kind"]
    assert kind["drift"] == pytest.approx({"DPPL": 0.5 - 0.3, "DI": 0.5 - 0.2})
    assert kind["status"] == "drift" and result["facets"]["age"]["status"] == "no_baseline"
    assert result["status"] == "drift"
    assert result["violations"] == [{"facet": "kind", "metric": "DI", "value": 0.5, "baseline": 0.8,
                                     "drift": pytest.approx(0.3)}]
    assert aws.metric("MaxBiasDrift", **ON_MODEL, Facet="kind") == pytest.approx(0.3)
    assert aws.metric("BiasDrift", **ON_MODEL, Facet="kind", BiasMetric="DPPL") == pytest.approx(0.2)
    assert not any(name == "MaxBiasDrift" and ("Facet", "age") in dims for name, dims in aws.metric_names())
    # Closer to parity than the baseline is a negative drift, never a violation.
    put_baseline(aws.s3, {"report_version": 1, "facets": {"kind": {"DPPL": 0.9, "DI": 0.1}}})
    again = aws.run({**SMALL, **NO_LABELS,
                     "BIAS_BASELINE_S3_URI": f"s3://{REPORT_BUCKET}/{BASELINE_KEY}"}, now=NOW + timedelta(minutes=1))
    assert again["facets"]["kind"]["drift"] == pytest.approx({"DPPL": -0.4, "DI": -0.4})
    assert again["status"] == "ok" and again["violations"] == []


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(("override", "message"), [
    ({"FEATURE_NAMES": None}, "FEATURE_NAMES is not set"),
    ({"FEATURE_NAMES": "age,,sex"}, "FEATURE_NAMES: invalid value"),
    ({"BIAS_FACETS": None}, "BIAS_FACETS is not set"),
    ({"BIAS_FACETS": "[{"}, "BIAS_FACETS: invalid value"),
    ({"BIAS_FACETS": "[]"}, r"allowed: a JSON list of 1 to 10 facets"),
    ({"BIAS_FACETS": json.dumps([{"facet": "height", "values_or_threshold": [1]}])},
     r"BIAS_FACETS\[0\].facet: invalid value 'height'; allowed: one of FEATURE_NAMES"),
    ({"BIAS_FACETS": json.dumps([FACETS[0], FACETS[0]])}, r"BIAS_FACETS\[1\].facet: invalid value 'sex'"),
    ({"BIAS_FACETS": json.dumps([{"facet": "sex", "values_or_threshold": []}])},
     r"BIAS_FACETS\[0\].values_or_threshold: invalid value \[\]"),
    ({"BIAS_FACETS": json.dumps([{"facet": "sex", "values_or_threshold": [True]}])},
     r"BIAS_FACETS\[0\].values_or_threshold"),
    ({"BIAS_FACETS": json.dumps(["sex"])}, r"BIAS_FACETS\[0\]: invalid value 'sex'"),
    ({"PROBLEM_TYPE": "Regression", "BIAS_FACETS": json.dumps([{"facet": "sex", "values_or_threshold": [2],
                                                                "label_values_or_threshold": [1, 2]}])},
     r"label_values_or_threshold: invalid value \[1, 2\]; allowed: one number"),
    ({"BIAS_BASELINE_S3_URI": "baseline.json"}, "BIAS_BASELINE_S3_URI: invalid value 'baseline.json'"),
    ({"BIAS_DRIFT_THRESHOLD": "0"}, "BIAS_DRIFT_THRESHOLD: invalid value '0'"),
    ({"BIAS_DRIFT_THRESHOLD": "1.5"}, "BIAS_DRIFT_THRESHOLD: invalid value '1.5'"),
    ({"GROUND_TRUTH_BUCKET": None}, "GROUND_TRUTH_PREFIX is set without GROUND_TRUTH_BUCKET"),
])
def test_invalid_bias_config_raises(override, message):
    environ = {k: v for k, v in {**ENV, **override}.items() if v is not None}
    with pytest.raises(env.ConfigError, match=message):
        h.load_config(environ)


def test_bias_config_resolves_facets_against_feature_names():
    config = h.load_config({**ENV, **NO_LABELS})
    assert [(f.facet, f.index) for f in config.facets] == [("sex", 1), ("age", 0)]
    assert config.ground_truth_bucket is None and not config.has_labels
    assert (config.baseline_bucket, config.baseline_key, config.drift_threshold) == (REPORT_BUCKET, BASELINE_KEY, 0.1)
    assert math.isclose(h.load_config(ENV).probability_threshold, 0.5)
