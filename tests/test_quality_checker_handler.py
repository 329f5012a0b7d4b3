"""The own model-quality checker end to end in moto: real capture and ground-truth lines, metrics, report.

Quality values are compared with scikit-learn on scikit-learn's bundled data sets; the join rules
(matched, unmatched both ways, late, duplicated, multi-record, malformed, empty) on small hand-made
windows whose expected counts are written out.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from tests.harness import lazy_module
from tests.quality_checker_data import (
    CAPTURE_BUCKET, CAPTURE_PREFIX, ENDPOINT, GROUND_TRUTH_PREFIX, MODEL, NOW, REPORT_BUCKET,
    QUALITY_ENV, breast_cancer_scores, capture_line, diabetes_predictions, label_line, moto_account_fixture,
    multiclass_predictions, put_capture, put_labels, spread,
)

moto_clients, aws = moto_account_fixture()
skm = lazy_module("sklearn.metrics")

ENV = QUALITY_ENV
ON_MODEL = {"ModelName": MODEL, "EndpointName": ENDPOINT}
RUN = {**ON_MODEL, "Check": "model_quality"}


def scored_window(s3, scores, labels, features, *, hours_back: int = 23, variants=("AllTraffic", "Canary")):
    """One request per record spread over the window and two variants; each label collected an hour later."""
    times = spread(len(scores), NOW - timedelta(hours=hours_back), hours_back)
    by_hour: dict = {}
    for i, (score, label, when) in enumerate(zip(scores, labels, times)):
        event = str(uuid.uuid4())
        line = capture_line(inputs=[list(features[i][:5])], output=repr(float(score)), when=when, event_id=event)
        by_hour.setdefault((when.replace(minute=0, second=0, microsecond=0), variants[i % len(variants)]),
                           ([], []))[0].append(line)
        by_hour[(when.replace(minute=0, second=0, microsecond=0), variants[i % len(variants)])][1].append(
            label_line(event, str(int(label))))
    for (hour, variant), (lines, label_lines) in by_hour.items():
        put_capture(s3, hour + timedelta(minutes=1), lines, variant=variant)
        put_labels(s3, min(hour + timedelta(hours=1, minutes=2), NOW), label_lines)  # collected by now


# --------------------------------------------------------------------------- quality equals scikit-learn


def test_binary_quality_equals_scikit_learn_on_breast_cancer(aws):
    x, y, scores = breast_cancer_scores()
    scored_window(aws.s3, scores, y, x)
    result = aws.run(ENV)
    predicted = (scores >= 0.5).astype(int)
    expected = {
        "ModelAccuracy": skm.accuracy_score(y, predicted),
        "ModelPrecision": skm.precision_score(y, predicted, zero_division=0),
        "ModelRecall": skm.recall_score(y, predicted, zero_division=0),
        "ModelF1": skm.f1_score(y, predicted, zero_division=0),
        "ModelAUC": skm.roc_auc_score(y, scores),
    }
    assert result["status"] == "ok"
    for name, value in expected.items():
        assert result["metrics"][name] == pytest.approx(value, abs=1e-9), name
        assert aws.metric(name, **ON_MODEL) == pytest.approx(value, abs=1e-9), name
    counts = result["counts"]
    assert (counts["predictions"], counts["labelled_records"], counts["unlabelled_predictions"],
            counts["unmatched_labels"], counts["malformed_lines"]) == (569, 569, 0, 0, 0)
    assert aws.metric("LabelledRecords", **RUN) == 569 and aws.metric("MalformedLines", **RUN) == 0
    report = aws.report(result["report_uri"])
    tn, fp, fn, tp = skm.confusion_matrix(y, predicted).ravel()
    assert report["confusion_matrix"] == {"true_negative": tn, "false_positive": fp, "false_negative": fn,
                                          "true_positive": tp}
    # Listing: variants by delimiter, then one listing per hour prefix; labels per hour from the window's start.
    listings = aws.s3_spy.calls_to("list_objects_v2")
    assert listings[0] == {"Bucket": CAPTURE_BUCKET, "Prefix": f"{CAPTURE_PREFIX}/{ENDPOINT}/", "Delimiter": "/"}
    capture_hours = sorted(kw["Prefix"] for kw in listings[1:] if kw["Prefix"].startswith(CAPTURE_PREFIX))
    assert capture_hours == sorted(f"{CAPTURE_PREFIX}/{ENDPOINT}/{variant}/{NOW - timedelta(hours=k):%Y/%m/%d/%H}/"
                                   for variant in ("AllTraffic", "Canary") for k in range(25))
    label_hours = [kw["Prefix"] for kw in listings if kw["Prefix"].startswith(GROUND_TRUTH_PREFIX)]
    assert label_hours == [f"{GROUND_TRUTH_PREFIX}/{NOW - timedelta(hours=k):%Y/%m/%d/%H}/" for k in range(24, -1, -1)]


@pytest.mark.parametrize("name", ["iris", "wine"])
def test_multiclass_quality_equals_scikit_learn_weighted(aws, name):
    x, y, predicted = multiclass_predictions(name)
    labels = [["setosa", "versicolor", "virginica"][c] if name == "iris" else int(c) for c in y]
    preds = [["setosa", "versicolor", "virginica"][c] if name == "iris" else f"{float(c)}" for c in predicted]
    times = spread(len(y), NOW - timedelta(hours=20), 19)
    lines, gt = [], []
    for i, when in enumerate(times):
        event = f"req-{i}"
        lines.append(capture_line(inputs=[list(x[i])], output=json.dumps({"predicted_label": preds[i]}),
                                  when=when, event_id=event, output_encoding="JSON"))
        gt.append(label_line(event, str(labels[i])))
    put_capture(aws.s3, NOW - timedelta(hours=2), lines)
    put_labels(aws.s3, NOW - timedelta(hours=1), gt)
    result = aws.run(ENV, {"PROBLEM_TYPE": "MulticlassClassification", "INFERENCE_ATTRIBUTE": "predicted_label"})
    expected = {
        "ModelAccuracy": skm.accuracy_score(y, predicted),
        "ModelPrecision": skm.precision_score(y, predicted, average="weighted", zero_division=0),
        "ModelRecall": skm.recall_score(y, predicted, average="weighted", zero_division=0),
        "ModelF1": skm.f1_score(y, predicted, average="weighted", zero_division=0),
    }
    assert result["status"] == "ok" and result["counts"]["labelled_records"] == len(y)
    assert set(result["metrics"]) == set(expected)
    for metric, value in expected.items():
        assert aws.metric(metric, **ON_MODEL) == pytest.approx(value, abs=1e-9), metric
    report = aws.report(result["report_uri"])
    matrix = skm.confusion_matrix(y, predicted)
    assert report["confusion_matrix"]["matrix"] == matrix.tolist()
    assert report["confusion_matrix"]["labels"] == (["setosa", "versicolor", "virginica"] if name == "iris"
                                                    else ["0", "1", "2"])


def test_regression_quality_equals_scikit_learn_on_diabetes(aws):
    x, y, predicted = diabetes_predictions()
    times = spread(len(y), NOW - timedelta(hours=10), 9)
    lines = [capture_line(inputs=[list(x[i])], output=json.dumps([float(predicted[i])]), when=t, event_id=f"d{i}",
                          output_encoding="JSON") for i, t in enumerate(times)]
    put_capture(aws.s3, NOW - timedelta(hours=3), lines)
    put_labels(aws.s3, NOW - timedelta(minutes=20), [label_line(f"d{i}", repr(float(v))) for i, v in enumerate(y)])
    result = aws.run(ENV, {"PROBLEM_TYPE": "Regression"})
    mse = skm.mean_squared_error(y, predicted)
    expected = {"ModelMAE": skm.mean_absolute_error(y, predicted), "ModelMSE": mse, "ModelRMSE": mse ** 0.5,
                "ModelR2": skm.r2_score(y, predicted)}
    for metric, value in expected.items():
        assert result["metrics"][metric] == pytest.approx(value, abs=1e-9), metric
        assert aws.metric(metric, **ON_MODEL) == pytest.approx(value, abs=1e-9), metric
    assert not any(name.startswith("ModelAccuracy") for name, _ in aws.metric_names())


# --------------------------------------------------------------------------- the join


def _window(s3, records: dict[str, float], *, when=NOW - timedelta(hours=5), **line_args) -> None:
    put_capture(s3, when, [capture_line(inputs=[[1, 2]], output=repr(s), when=when, event_id=e, **line_args)
                           for e, s in records.items()])


def test_unmatched_both_ways_are_counted_not_fatal(aws):
    _window(aws.s3, {"a": 0.9, "b": 0.2, "c": 0.7, "d": 0.4})
    put_labels(aws.s3, NOW - timedelta(hours=1), [label_line("a", "1"), label_line("b", "1"),
                                                  label_line("x", "0"), label_line("y", "1")])
    result = aws.run(ENV)
    counts = result["counts"]
    assert (counts["labelled_records"], counts["unlabelled_predictions"], counts["unmatched_labels"]) == (2, 2, 2)
    assert result["metrics"]["ModelAccuracy"] == 0.5 and result["metrics"]["ModelAUC"] is None  # one class only
    assert aws.metric("UnlabelledPredictions", **RUN) == 2 and aws.metric("UnmatchedLabels", **RUN) == 2
    assert ("ModelAUC", tuple(sorted(ON_MODEL.items()))) not in aws.metric_names()  # undefined: not published


def test_late_labels_are_read_with_a_label_delay(aws):
    inferred = NOW - timedelta(hours=30)  # yesterday's traffic, labelled this morning
    _window(aws.s3, {"a": 0.9, "b": 0.2, "c": 0.8}, when=inferred)
    put_labels(aws.s3, NOW - timedelta(hours=3), [label_line("a", "1"), label_line("b", "0"), label_line("c", "0")])
    assert aws.run(ENV)["status"] == "empty"  # without a delay, the traffic is out of the window
    result = aws.run(ENV, {"LABEL_DELAY_HOURS": "24"})
    assert result["window"] == {"start": "2024-04-30T12:30:00Z", "end": "2024-05-01T12:30:00Z", "hours": 24,
                                "label_delay_hours": 24}
    assert result["status"] == "ok" and result["counts"]["labelled_records"] == 3
    assert result["metrics"]["ModelAccuracy"] == pytest.approx(2 / 3)
    label_hours = [kw["Prefix"] for kw in aws.s3_spy.calls_to("list_objects_v2")
                   if kw["Prefix"].startswith(GROUND_TRUTH_PREFIX)]
    assert len(label_hours) == 49 and label_hours[0].endswith("2024/04/30/12/") and label_hours[-1].endswith("2024/05/02/12/")


def test_no_labels_publishes_the_run_counters_and_a_report(aws):
    _window(aws.s3, {"a": 0.9, "b": 0.2})
    put_labels(aws.s3, NOW - timedelta(hours=1), [label_line("zzz", "1")])
    result = aws.run(ENV)
    assert result["status"] == "no_labels" and result["metrics"] == {}
    assert {name for name, _ in aws.metric_names()} == {"LabelledRecords", "UnlabelledPredictions",
                                                        "UnmatchedLabels", "MalformedLines"}
    assert aws.metric("UnlabelledPredictions", **RUN) == 2 and aws.metric("LabelledRecords", **RUN) == 0
    assert aws.report(result["report_uri"])["status"] == "no_labels"


def test_inference_id_is_matched_when_the_caller_sent_one(aws):
    when = NOW - timedelta(hours=2)
    put_capture(aws.s3, when, [
        capture_line(inputs=[[1]], output="0.9", when=when, event_id="ev-1", inference_id="order-1"),
        capture_line(inputs=[[1]], output="0.1", when=when, event_id="ev-2", inference_id="order-2"),
        capture_line(inputs=[[1]], output="0.8", when=when, event_id="ev-3"),
    ])
    put_labels(aws.s3, NOW - timedelta(hours=1), [
        label_line("order-1", "1"),  # matched by inferenceId
        label_line("ev-2", "0"),  # eventId of a capture that has an inferenceId: Model Monitor does not match it
        label_line("order-2", "0", id_key="inferenceId"),  # inferenceId spelled in the label's metadata
        label_line("ev-3", "1"),  # no inferenceId in the capture: matched by eventId
    ])
    result = aws.run(ENV)
    counts = result["counts"]
    assert (counts["labelled_records"], counts["unmatched_labels"]) == (3, 1)
    assert result["metrics"]["ModelAccuracy"] == 1.0


def test_a_label_given_twice_counts_once_and_the_last_read_wins(aws):
    _window(aws.s3, {"a": 0.9, "b": 0.2})
    put_labels(aws.s3, NOW - timedelta(hours=3), [label_line("a", "0"), label_line("b", "0")])
    put_labels(aws.s3, NOW - timedelta(hours=1), [label_line("a", "1"), label_line("a", "0"), label_line("a", "1")])
    result = aws.run(ENV)
    counts = result["counts"]
    assert (counts["label_lines"], counts["duplicate_label_ids"], counts["labelled_records"]) == (5, 3, 2)
    assert result["metrics"]["ModelAccuracy"] == 1.0  # a: 1 (the last, newest hour), b: 0


def test_multi_record_requests_pair_labels_by_position(aws):
    when = NOW - timedelta(hours=4)
    put_capture(aws.s3, when, [
        capture_line(inputs=[[1], [2], [3]], output="0.9\n0.2\n0.7", when=when, event_id="lines"),
        capture_line(inputs=[[1], [2]], output="0.9,0.1", when=when, event_id="one-line"),  # k values on one line
        capture_line(inputs=[[1], [2]], output=json.dumps({"predictions": [{"score": 0.6}, {"score": 0.3}]}),
                     when=when, event_id="json", output_encoding="JSON"),
        capture_line(inputs=[[1], [2]], output="0.8\n0.4", when=when, event_id="short"),
    ])
    put_labels(aws.s3, NOW - timedelta(hours=1), [
        label_line("lines", "1\n0\n0"), label_line("one-line", "1,0"), label_line("json", "[1, 1]", encoding="JSON"),
        label_line("short", "1"),  # one label for a request of two records: malformed
    ])
    result = aws.run(ENV)
    counts = result["counts"]
    assert (counts["predictions"], counts["labelled_records"], counts["unlabelled_predictions"]) == (9, 7, 2)
    assert counts["malformed_by_reason"] == {"capture": {}, "ground_truth": {"label_count": 1}}
    assert counts["malformed_lines"] == 1
    # pairs (score, label): (.9,1) (.2,0) (.7,0) (.9,1) (.1,0) (.6,1) (.3,1): 5 of 7 right at 0.5
    assert result["metrics"]["ModelAccuracy"] == pytest.approx(5 / 7)
    assert result["metrics"]["ModelAUC"] == pytest.approx(skm.roc_auc_score([1, 0, 0, 1, 0, 1, 1],
                                                                             [.9, .2, .7, .9, .1, .6, .3]))


@pytest.mark.parametrize(("output", "encoding", "extra"), [
    (json.dumps({"predictions": [{"score": 0.8, "predicted_label": 1}]}), "JSON",
     {"INFERENCE_ATTRIBUTE": "predicted_label", "PROBABILITY_ATTRIBUTE": "score"}),
    (json.dumps({"predictions": [{"score": 0.8, "predicted_label": 1}]}), "JSON",
     {"PROBABILITY_ATTRIBUTE": "$.predictions[0].score"}),
    (json.dumps({"predictions": [{"score": 0.8}]}), "JSON", {"PROBABILITY_ATTRIBUTE": "$.predictions[*].score"}),
    (json.dumps([[0.8]]), "JSON", {}),
    ("1,0.8", "CSV", {"INFERENCE_ATTRIBUTE": "0", "PROBABILITY_ATTRIBUTE": "1"}),
    ("0.8", "BASE64", {}),
    (json.dumps({"outputs": [0.8]}), "BASE64", {}),
])
def test_json_csv_and_base64_outputs(aws, output, encoding, extra):
    when = NOW - timedelta(hours=2)
    low = output.replace("0.8", "0.3").replace('"predicted_label": 1', '"predicted_label": 0').replace("1,0.3", "0,0.3")
    content = "application/json" if output.lstrip().startswith(("{", "[")) else "text/csv"
    put_capture(aws.s3, when, [
        capture_line(inputs=[[5, 1]], output=output, when=when, event_id="hi", output_encoding=encoding,
                     output_type=content),
        capture_line(inputs=[[5, 1]], output=low, when=when, event_id="lo", output_encoding=encoding,
                     output_type=content),
    ])
    put_labels(aws.s3, NOW - timedelta(hours=1), [label_line("hi", "1"), label_line("lo", "1")])
    result = aws.run(ENV, extra)
    assert result["counts"]["malformed_lines"] == 0 and result["counts"]["labelled_records"] == 2
    assert (result["metrics"]["ModelAccuracy"], result["metrics"]["ModelRecall"]) == (0.5, 0.5)


def test_malformed_capture_and_label_lines_are_counted_by_reason(aws):
    when = NOW - timedelta(hours=2)
    good = {f"g{i}": 0.1 * i for i in range(10)}
    bad_captures = [
        "{not json", json.dumps([1, 2]),
        json.dumps({"captureData": {"endpointOutput": {"data": "0.5", "encoding": "CSV"}}, "eventMetadata": {}}),
        json.dumps({"captureData": {"endpointInput": {"data": "1"}}, "eventMetadata": {"eventId": "n"}}),
        capture_line(inputs=[[1]], output="0.5", when=when, output_encoding="XML"),
        capture_line(inputs=[[1]], output="0.5", when=when).replace('"data": "0.5", "encoding": "CSV"',
                                                                    '"data": "!!", "encoding": "BASE64"'),
        capture_line(inputs=[[1]], output="{oops", when=when, output_encoding="JSON"),
        capture_line(inputs=[[1]], output="yes", when=when),
        capture_line(inputs=[[1]], output="nan", when=when),
        capture_line(inputs=[[1], [2], [3]], output="0.1,0.2", when=when),
        capture_line(inputs=[[1]], output=json.dumps({"other": 1}), when=when, output_encoding="JSON"),
    ]
    put_capture(aws.s3, when, [capture_line(inputs=[[1]], output=repr(s), when=when, event_id=e)
                               for e, s in good.items()] + bad_captures + ["", "  "])
    bad_labels = [
        "[]", "{bad", json.dumps({"groundTruthData": {"data": "1"}}),
        json.dumps({"groundTruthData": {}, "eventMetadata": {"eventId": "g1"}}),
        label_line("g2", "1", encoding="PARQUET"), label_line("g3", "[1", encoding="JSON"),
        label_line("g4", "2"), label_line("g5", "one"),
    ]
    put_labels(aws.s3, NOW - timedelta(hours=1), [label_line(e, "1") for e in good] + bad_labels)
    result = aws.run(ENV, {"PROBABILITY_ATTRIBUTE": "0"})
    assert result["counts"]["malformed_by_reason"] == {
        "capture": {"invalid_json": 2, "no_event_id": 1, "no_output": 1, "unsupported_encoding": 1,
                    "undecodable_payload": 2, "prediction_value": 2, "record_count": 1, "attribute_not_found": 1},
        "ground_truth": {"invalid_json": 2, "no_event_id": 1, "no_label": 1, "unsupported_encoding": 1,
                         "undecodable_label": 1, "label_value": 2},
    }
    assert result["counts"]["malformed_lines"] == 11 + 8
    assert aws.metric("MalformedLines", **RUN) == 19
    assert result["counts"]["labelled_records"] == 10 and result["metrics"]["ModelRecall"] == 0.5  # 0.5 .. 0.9


def test_edge_hours_are_filtered_by_inference_time(aws):
    first_hour = NOW - timedelta(hours=24, minutes=30)  # 2024-05-01T12:00, the window starts at 12:30
    put_capture(aws.s3, first_hour, [
        capture_line(inputs=[[1]], output="0.9", when=first_hour + timedelta(minutes=10), event_id="early"),
        capture_line(inputs=[[1]], output="0.9", when=first_hour + timedelta(minutes=40), event_id="in"),
    ])
    put_capture(aws.s3, NOW, [capture_line(inputs=[[1]], output="0.9", when=NOW + timedelta(minutes=5),
                                           event_id="future")])
    put_labels(aws.s3, NOW, [label_line(e, "1") for e in ("early", "in", "future")])
    result = aws.run(ENV)
    counts = result["counts"]
    assert (counts["events_outside_window"], counts["predictions"], counts["unmatched_labels"]) == (2, 1, 2)


def test_an_empty_window_publishes_nothing_and_reads_no_labels(aws):
    old = NOW - timedelta(hours=40)
    _window(aws.s3, {"a": 0.9}, when=old)
    put_capture(aws.s3, NOW - timedelta(hours=1), ["{broken"])
    put_labels(aws.s3, NOW - timedelta(hours=1), [label_line("a", "1")])
    result = aws.run(ENV)
    assert result["status"] == "empty" and result["report_uri"] is None and result["metrics_published"] == 0
    assert result["counts"]["malformed_lines"] == 1
    assert aws.cw_spy.calls_to("put_metric_data") == [] and aws.s3.list_objects_v2(Bucket=REPORT_BUCKET)["KeyCount"] == 0
    assert not any(kw["Prefix"].startswith(GROUND_TRUTH_PREFIX) for kw in aws.s3_spy.calls_to("list_objects_v2"))


def test_too_many_classes_are_counted_not_fatal(aws, monkeypatch):
    import contract

    monkeypatch.setattr(contract, "MAX_CLASSES", 3)
    when = NOW - timedelta(hours=1)
    put_capture(aws.s3, when, [capture_line(inputs=[[1]], output=str(c), when=when, event_id=f"e{c}") for c in range(5)])
    put_labels(aws.s3, NOW, [label_line(f"e{c}", str(c)) for c in range(5)])
    result = aws.run(ENV, {"PROBLEM_TYPE": "MulticlassClassification"})
    assert result["status"] == "ok" and result["counts"]["labelled_records"] == 5
    assert all(v is None for v in result["metrics"].values())
    assert aws.report(result["report_uri"])["classes"] == 5
    assert {name for name, _ in aws.metric_names()} == {"LabelledRecords", "UnlabelledPredictions",
                                                        "UnmatchedLabels", "MalformedLines"}


# --------------------------------------------------------------------------- report


def test_report_is_written_under_the_endpoint(aws):
    _window(aws.s3, {"a": 0.9, "b": 0.2})
    put_labels(aws.s3, NOW, [label_line("a", "1"), label_line("b", "0")])
    result = aws.run(ENV)
    assert result["report_uri"] == f"s3://{REPORT_BUCKET}/quality-reports/{ENDPOINT}/2024-05-02T12-30-00Z.json"
    report = aws.report(result["report_uri"])
    assert (report["report_version"], report["check"], report["status"], report["model"]) == (1, "model_quality", "ok", MODEL)
    assert report["window"] == {"start": "2024-05-01T12:30:00Z", "end": "2024-05-02T12:30:00Z", "hours": 24,
                                "label_delay_hours": 0}
    assert report["sources"]["capture"] == f"s3://{CAPTURE_BUCKET}/{CAPTURE_PREFIX}/{ENDPOINT}/"
    assert report["sources"]["ground_truth"] == f"s3://{CAPTURE_BUCKET}/{GROUND_TRUTH_PREFIX}/"
    assert report["metrics"] == result["metrics"] and report["counts"]["labelled_records"] == 2
