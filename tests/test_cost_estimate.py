"""The offline cost estimate (``mlops_cdk.cost``, ``make cost``) and the price book (``make prices``).

Expected numbers are computed here from the fixture's prices (read as plain JSON) and the
documented rules: a month is 730 hours, endpoints run all month at their minimum / maximum
capacity, jobs at their maximum runtime, Lambda runs at their timeout, pipeline steps for the
assumed hours. Nothing reaches AWS: the Price List client is a stub over a fixture.
"""

from __future__ import annotations

import datetime
import json

import pytest

from mlops_cdk.config import PlatformConfig
from mlops_cdk.constructs.monitoring import drift_checker, prediction_checker
from mlops_cdk.cost import Assumptions, PriceBook, estimate, pipeline_instances, runs_per_month
from mlops_cdk.cost.price_list import fetch_region, instance_prices, lambda_prices
from mlops_cdk.regions import MODEL_MONITOR, regions_without
from tests.harness import ROOT
from tools import cost_report, fetch_prices

DATA = ROOT / "tests" / "data"
BOOK_PATH = DATA / "prices_fixture.json"
RAW = json.loads(BOOK_PATH.read_text())["regions"]["eu-west-1"]
HOSTING, TRAINING, PROCESSING = (RAW["instance_hour"][u] for u in ("hosting", "training", "processing"))
GB_S, REQUEST = RAW["lambda"]["arm64"]["gb_second"], RAW["lambda"]["arm64"]["request"]
MONTH = 730.0
REGION = "eu-west-1"
# A small own pipeline: a parameterised processing step, a training step on 2 instances, a condition whose
# branches hold a free step and a quality check, and a step the estimate cannot price.
PIPELINE = {
    "Parameters": [{"Name": "ProcessingInstanceType", "Type": "String", "DefaultValue": "ml.m5.xlarge"}],
    "Steps": [
        {"Name": "Prep", "Type": "Processing", "Arguments": {"ProcessingResources": {"ClusterConfig": {
            "InstanceCount": 1, "InstanceType": {"Get": "Parameters.ProcessingInstanceType"}}}}},
        {"Name": "Train", "Type": "Training", "Arguments": {"ResourceConfig": {
            "InstanceCount": 2, "InstanceType": "ml.m5.xlarge"}}},
        {"Name": "Check", "Type": "Condition", "Arguments": {
            "IfSteps": [{"Name": "Register", "Type": "RegisterModel", "Arguments": {}}],
            "ElseSteps": [{"Name": "Baseline", "Type": "QualityCheck", "Arguments": {"ProcessingResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": {"Get": "Parameters.ProcessingInstanceType"}}}}}]}},
        {"Name": "Score", "Type": "Transform", "Arguments": {}},
    ],
}


@pytest.fixture(scope="module")
def book():
    return PriceBook.from_file(BOOK_PATH)


def by_resource(report, stage=None):
    return {line.resource: line for line in report.lines if stage is None or line.stage == stage}


# ------------------------------------------------------------------ the estimate, by hand
def test_a_prod_stage_with_every_monitor_matches_the_hand_computation(book):
    config = PlatformConfig(
        stage="prod", monitoring_mode="both", ground_truth_s3_uri="s3://labels/fraud/",
        bias_facets=({"facet": "customer_age", "values_or_threshold": [40]},),
        explainability={"shap_baseline": [[0] * 9]}, drift_window_hours=6, quality_window_hours=12,
        retraining_schedule="cron(0 3 ? * MON *)", retraining_cooldown_minutes=720,
        serving={"prod": {"model_package_arn": "mlops-fraud-detection-prod/3"}})
    report = estimate(config, book, REGION, pipeline=PIPELINE,
                      assumptions=Assumptions(pipeline_step_hours=0.5, pipeline_step_hours_by_name={"Train": 2.0}))
    daily, weekly = MONTH / 24, MONTH / 24 / 7
    triggered = MONTH * 60 / 720  # at most one triggered run per 720-minute cooldown
    drift_runs, quality_runs = MONTH / 6, MONTH / 12
    drift_gbs = drift_runs * drift_checker.DEFAULT_MEMORY_MB / 1024 * drift_checker.DEFAULT_TIMEOUT.to_seconds()
    check_gbs = quality_runs * prediction_checker.DEFAULT_MEMORY_MB / 1024 * prediction_checker.DEFAULT_TIMEOUT.to_seconds()
    def flat(quantity, usd):  # the same at both ends
        return quantity, quantity, usd, usd

    xlarge_processing, xlarge_hosting = PROCESSING["ml.m5.xlarge"], HOSTING["ml.m5.xlarge"]
    expected = {  # resource: (quantity min, quantity max, USD min, USD max)
        "endpoint": (2 * MONTH, 6 * MONTH, 2 * MONTH * xlarge_hosting, 6 * MONTH * xlarge_hosting),
        "Model Monitor: data quality": flat(MONTH, MONTH * xlarge_processing),  # hourly, 1 h each
        "Model Monitor: model quality": flat(2 * daily, 2 * daily * xlarge_processing),  # merge + analysis job
        "Clarify: bias (customer_age)": flat(2 * daily, 2 * daily * xlarge_processing),
        "Clarify: feature attribution": flat(daily, daily * xlarge_processing),
        "Clarify: shadow endpoint": flat(daily, daily * xlarge_hosting),
        "drift checker (Lambda)": flat(drift_gbs, drift_gbs * GB_S + drift_runs * REQUEST),
        "quality checker (Lambda)": flat(check_gbs, check_gbs * GB_S + quality_runs * REQUEST),
        "bias checker (Lambda)": flat(check_gbs, check_gbs * GB_S + quality_runs * REQUEST),
        "pipeline: Prep": (weekly * 0.5, (weekly + triggered) * 0.5,
                           weekly * 0.5 * xlarge_processing, (weekly + triggered) * 0.5 * xlarge_processing),
        "pipeline: Train": (weekly * 2 * 2, (weekly + triggered) * 2 * 2,  # 2 instances x 2 h
                            weekly * 4 * TRAINING["ml.m5.xlarge"], (weekly + triggered) * 4 * TRAINING["ml.m5.xlarge"]),
        "pipeline: Baseline": (weekly * 0.5, (weekly + triggered) * 0.5,
                               weekly * 0.5 * xlarge_processing, (weekly + triggered) * 0.5 * xlarge_processing),
    }
    got = {r: (li.quantity_min, li.quantity_max, li.usd_min, li.usd_max) for r, li in by_resource(report).items()}
    assert set(got) == set(expected)
    for resource, values in expected.items():
        assert got[resource] == pytest.approx(values), resource
    assert report.total() == pytest.approx((sum(v[2] for v in expected.values()), sum(v[3] for v in expected.values())))
    assert any("Score (Transform step): not estimated" in note for note in report.notes)
    assert (report.region, report.source, report.as_of) == (REGION, RAW["source"], datetime.date(2000, 1, 1))


@pytest.mark.parametrize("mode, model_monitor, checkers", [
    ("own", False, True), ("model_monitor", True, False), ("both", True, True)])
def test_model_monitor_lines_appear_only_in_its_modes(book, mode, model_monitor, checkers):
    report = estimate(PlatformConfig(stage="staging", monitoring_mode=mode), book, REGION, pipeline=PIPELINE)
    resources = set(by_resource(report))
    assert ("Model Monitor: data quality" in resources) is model_monitor
    assert ("drift checker (Lambda)" in resources) is checkers
    assert not any(r.startswith("Clarify") or "bias" in r for r in resources)  # none configured


def test_a_region_without_model_monitor_runs_what_the_monitoring_stack_runs_there():
    region = regions_without(MODEL_MONITOR)[0]
    book = PriceBook.from_mapping({"regions": {region: book_with()["regions"][REGION]}})
    both = estimate(PlatformConfig(stage="prod", monitoring_mode="both"), book, region, pipeline=PIPELINE)
    assert "Model Monitor: data quality" not in by_resource(both) and "drift checker (Lambda)" in by_resource(both)
    assert any(f"'both' runs as 'own' in {region}" in note for note in both.notes)
    only = estimate(PlatformConfig(stage="prod", monitoring_mode="model_monitor"), book, region, pipeline=PIPELINE)
    assert not any("Model Monitor" in r or "checker" in r for r in by_resource(only))
    assert any(f"'model_monitor' cannot synthesize in {region}" in note for note in only.notes)


def test_a_serverless_dev_stage_is_usage_based_and_runs_no_model_monitor(book):
    config = PlatformConfig(stage="dev", monitoring_mode="model_monitor",
                            serving={"dev": {"serverless": {"memory_size_in_mb": 2048, "max_concurrency": 5}}})
    report = estimate(config, book, REGION, pipeline=PIPELINE)
    endpoint = by_resource(report)["endpoint (serverless)"]
    busy = 2 * 5 * MONTH * 3600  # 2 GB x 5 workers, all month
    assert (endpoint.quantity_min, endpoint.usd_min) == (0, 0)
    assert (endpoint.quantity_max, endpoint.usd_max) == pytest.approx((busy, busy * RAW["serverless_inference"]["gb_second"]))
    assert "Model Monitor: data quality" not in by_resource(report) and "drift checker (Lambda)" in by_resource(report)
    assert any("runs as 'own' while the endpoint captures no data" in note for note in report.notes)


def test_off_hours_scaling_holds_the_fleet_at_its_off_hours_capacity(book):
    config = PlatformConfig(stage="staging", serving={"staging": {"instance_count": 2, "autoscaling": {
        "min_capacity": 2, "max_capacity": 4, "off_hours": {"capacity": 1}}}})  # weekdays 19:00 to 07:00
    endpoint = by_resource(estimate(config, book, REGION, pipeline=PIPELINE))["endpoint"]
    off = (4 * 12 + 60) / 168  # four weeknights of 12 h, and Friday 19:00 to Monday 07:00, of a week's 168 h
    low, high = MONTH * (2 * (1 - off) + off), MONTH * (4 * (1 - off) + off)
    assert (endpoint.quantity_min, endpoint.quantity_max) == pytest.approx((low, high))
    assert (endpoint.usd_min, endpoint.usd_max) == pytest.approx((low * HOSTING["ml.m5.xlarge"],
                                                                  high * HOSTING["ml.m5.xlarge"]))
    assert "1 off hours (cron(0 19 ? * MON-FRI *) to cron(0 7 ? * MON-FRI *): 64.3% of the time)" in endpoint.note
    month_end = PlatformConfig(stage="staging", serving={"staging": {"instance_count": 2, "autoscaling": {
        "min_capacity": 2, "max_capacity": 4, "off_hours": {"scale_in": "cron(0 19 L * ? *)"}}}})
    endpoint = by_resource(estimate(month_end, book, REGION, pipeline=PIPELINE))["endpoint"]
    assert (endpoint.quantity_min, endpoint.quantity_max) == (2 * MONTH, 4 * MONTH)
    assert "off-hours scaling not reflected" in endpoint.note


# ------------------------------------------------------------------ the reference configuration
@pytest.fixture(scope="module")
def reference(book):
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    configs = cost_report.configurations(context, {})
    return configs, estimate(configs, book, REGION)  # the course pipeline, rendered once


def test_every_stage_of_the_reference_configuration_is_priced(reference):
    configs, report = reference
    assert report.stages == ("dev", "staging", "prod") == tuple(c.stage for c in configs)
    capacity = {"dev": ("ml.m5.large", 1, 1), "staging": ("ml.m5.xlarge", 1, 2), "prod": ("ml.m5.xlarge", 2, 6)}  # README
    steps = {"PreprocessData": "processing", "TrainModel": "training", "EvaluateModel": "processing",
             "DataQualityBaseline": "processing"}
    weekly, cooldown_runs = MONTH / (7 * 24), MONTH * 60 / 360  # rate(7 days), 360-minute cooldown
    for stage, (instance_type, low, high) in capacity.items():
        lines = by_resource(report, stage)
        endpoint = lines["endpoint"]
        assert (endpoint.instance_type, endpoint.quantity_min, endpoint.quantity_max) == (instance_type, low * MONTH,
                                                                                          high * MONTH)
        assert (endpoint.usd_min, endpoint.usd_max) == pytest.approx(
            (low * MONTH * HOSTING[instance_type], high * MONTH * HOSTING[instance_type]))
        assert {"drift checker (Lambda)", "quality checker (Lambda)"} <= set(lines)  # monitoring_mode own
        assert not any(r.startswith(("Model Monitor", "Clarify")) for r in lines)
        for name, usage in steps.items():
            step = lines[f"pipeline: {name}"]
            price = (TRAINING if usage == "training" else PROCESSING)["ml.m5.xlarge"]
            assert (step.usage, step.instance_type) == (usage, "ml.m5.xlarge")
            assert (step.usd_min, step.usd_max) == pytest.approx((weekly * 0.25 * price,
                                                                  (weekly + cooldown_runs) * 0.25 * price))
        assert "planned: no model package yet" in endpoint.note  # cdk.json sets none
    assert report.total() == pytest.approx(tuple(map(sum, zip(*(report.total(s) for s in report.stages)))))


def test_only_deployed_leaves_out_endpoints_without_a_model_package(reference, book):
    configs, _ = reference
    report = estimate(configs, book, REGION, only_deployed=True)
    for stage in ("dev", "staging", "prod"):
        endpoint = by_resource(report, stage)["endpoint"]
        assert (endpoint.quantity_max, endpoint.usd_max) == (0, 0)
        assert f"serving.{stage}.model_package_arn is unset" in endpoint.note


def test_make_cost_prints_a_table_per_stage_and_resource(reference, capsys):
    assert cost_report.main(["--prices", str(BOOK_PATH), "-c", "stages=all"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Monthly cost estimate, {REGION}: USD, a month is 730 hours; prices: {RAW['source']}")
    rows = [line.split() for line in out.splitlines()]
    prod = next(r for r in rows if r[:2] == ["prod", "endpoint"])
    assert prod[2:8] == ["ml.m5.xlarge", "inst-h", "1,460.0", f"{2 * MONTH * 0.2:,.2f}", "4,380.0",
                         f"{6 * MONTH * 0.2:,.2f}"]
    low, high = reference[1].total()
    assert ["all", "total", f"{low:,.2f}", f"{high:,.2f}"] in rows
    assert [r[0] for r in rows if r[1:2] == ["total"]] == ["dev", "staging", "prod", "all"]
    assert "[1] 1 instance(s), no autoscaling all month" in out and "- Left out:" in out
    assert cost_report.main(["--prices", str(BOOK_PATH), "-c", "stage=prod", "--markdown"]) == 0
    markdown = capsys.readouterr().out
    assert "| prod | endpoint | ml.m5.xlarge | inst-h | 1,460.0 |" in markdown and "| dev |" not in markdown


def test_make_cost_without_a_price_book_says_how_to_get_one(tmp_path, capsys):
    assert cost_report.main(["--prices", str(tmp_path / "prices.json")]) == 2
    assert "make prices REGION=<region>" in capsys.readouterr().err
    assert cost_report.main(["--prices", str(BOOK_PATH), "--region", "ap-south-1", "-c", "stage=dev"]) == 2
    assert "'region': invalid value 'ap-south-1'; allowed: a region the book prices: eu-west-1" in capsys.readouterr().err


# ------------------------------------------------------------------ bad input
def book_with(**changes):
    data = json.loads(BOOK_PATH.read_text())
    region = data["regions"][REGION]
    for path, value in changes.items():
        *parents, key = path.split("__")
        target = region
        for parent in parents:
            target = target[parent]
        if value is None:
            del target[key]
        else:
            target[key] = value
    return data


@pytest.mark.parametrize("changes, names", [
    ({"instance_hour__hosting__ml.m5.large": -0.1}, "regions.eu-west-1.instance_hour.hosting.ml.m5.large': invalid value -0.1"),
    ({"instance_hour__processing__ml.m5.xlarge": "0.3"}, "instance_hour.processing.ml.m5.xlarge': invalid value '0.3'"),
    ({"lambda__arm64__request": True}, "lambda.arm64.request': invalid value True"),
    ({"instance_hour__hosting__m5.large": 0.1}, "instance_hour.hosting.m5.large': invalid value 'm5.large'"),
    ({"instance_hours": {}}, "regions.eu-west-1.instance_hours': invalid value {}; allowed: one of the keys source"),
    ({"as_of": "14/12/2026"}, "regions.eu-west-1.as_of': invalid value '14/12/2026'; allowed: the date"),
    ({"source": None}, "regions.eu-west-1.source': invalid value None"),
])
def test_a_bad_price_book_is_refused_naming_the_key(changes, names):
    with pytest.raises(ValueError, match="PriceBook\\(test\\) ") as error:
        PriceBook.from_mapping(book_with(**changes), origin="test")
    assert names in str(error.value)


def test_malformed_json_is_refused_naming_the_file_and_place(tmp_path):
    path = tmp_path / "prices.json"
    text = '{"regions": {"eu-west-1": {"source": "x",, }}}'
    path.write_text(text)
    column = text.index(",,") + 2  # 1-based column of the second comma
    with pytest.raises(ValueError, match=f"PriceBook\\({path}\\) '\\(file\\)': invalid value 'line 1 column {column}'"):
        PriceBook.from_file(path)


def test_an_instance_type_missing_from_the_book_names_the_type_and_region(book):
    missing = PriceBook.from_mapping(book_with(instance_hour__processing={"ml.m5.large": 0.1}), origin="book.json")
    config = PlatformConfig(stage="prod", monitoring_mode="model_monitor")
    with pytest.raises(ValueError) as error:
        estimate(config, missing, REGION, pipeline=PIPELINE)
    message = str(error.value)
    assert "'regions.eu-west-1.instance_hour.processing': invalid value 'ml.m5.xlarge'" in message
    assert "(ml.m5.large)" in message and "make prices REGION=eu-west-1" in message
    assert "needed by prod: Model Monitor: data quality" in message
    with pytest.raises(ValueError, match="'region': invalid value 'us-west-2'; allowed: a region the book prices"):
        estimate(config, book, "us-west-2", pipeline=PIPELINE)


def test_allow_unpriced_shows_the_line_and_says_the_totals_are_lower_bounds():
    missing = PriceBook.from_mapping(book_with(instance_hour__training=None))
    report = estimate(PlatformConfig(stage="dev"), missing, REGION, pipeline=PIPELINE, allow_unpriced=True)
    train = by_resource(report)["pipeline: Train"]
    assert (train.usd_min, train.usd_max) == (None, None) and report.unpriced == (train,)
    assert report.total() == pytest.approx(tuple(sum(getattr(li, f) for li in report.lines if li is not train)
                                                 for f in ("usd_min", "usd_max")))
    table = report.table()
    assert "unpriced" in table and "Totals leave out 1 unpriced line(s): they are lower bounds." in table


@pytest.mark.parametrize("call, names", [
    (lambda b: estimate("dev", b, REGION), "estimate 'config_or_configs': invalid value 'dev'"),
    (lambda b: estimate(PlatformConfig(), {"regions": {}}, REGION), "estimate 'price_book'"),
    (lambda b: estimate(PlatformConfig(), b, REGION, pipeline=42), "estimate 'pipeline': invalid value 42"),
    (lambda b: Assumptions(pipeline_step_hours=-1), "Assumptions 'pipeline_step_hours': invalid value -1"),
    (lambda b: Assumptions(pipeline_step_hours_by_name={"Train": "1h"}), "'pipeline_step_hours_by_name.Train'"),
    (lambda b: Assumptions(monitor_instance_type="m5.xlarge"), "Assumptions 'monitor_instance_type'"),
    (lambda b: runs_per_month("every day"), "runs_per_month 'expression': invalid value 'every day'"),
    (lambda b: runs_per_month("cron(0 25 ? * * *)"), "cron field values in \\[0, 23\\]"),
])
def test_bad_arguments_are_refused_naming_them(book, call, names):
    with pytest.raises(ValueError, match=names):
        call(book)


# ------------------------------------------------------------------ schedules and pipelines
@pytest.mark.parametrize("expression, runs", [
    ("rate(7 days)", MONTH / 168), ("rate(1 hour)", MONTH), ("rate(30 minutes)", 2 * MONTH),
    ("cron(0 * ? * * *)", MONTH), ("cron(0 0 ? * * *)", MONTH / 24), ("cron(0 3 ? * MON *)", MONTH / 24 / 7),
    ("cron(0 9 ? * MON-FRI *)", 5 * MONTH / 24 / 7), ("cron(0/15 * ? * * *)", 4 * MONTH),
    ("cron(0 2/5 ? * * *)", 5 * MONTH / 24), ("cron(0 3 1 * ? *)", 1), ("cron(0 3 L * ? *)", 1),
    ("cron(0 3 31 * ? *)", 7 / 12), ("cron(0 3 1 JAN,JUL ? *)", 2 / 12), ("at(2027-01-01T00:00:00)", 0),
])
def test_runs_per_month(expression, runs):
    assert runs_per_month(expression) == pytest.approx(runs)


@pytest.mark.parametrize("switches, runs_min, runs_max", [
    ({"retraining_on_drift": False, "retraining_on_new_data": False}, MONTH / 168, MONTH / 168),
    ({"retraining_on_drift": False}, MONTH / 168, MONTH / 168 + MONTH * 60 / 360),  # new data still triggers
    ({"retraining_scheduled": False}, 0, MONTH * 60 / 360),
])
def test_pipeline_runs_follow_the_retraining_switches(book, switches, runs_min, runs_max):
    step = by_resource(estimate(PlatformConfig(**switches), book, REGION, pipeline=PIPELINE))["pipeline: Prep"]
    assert (step.quantity_min, step.quantity_max) == pytest.approx((runs_min * 0.25, runs_max * 0.25))


def test_pipeline_steps_resolve_parameter_defaults_and_both_branches():
    found = pipeline_instances(json.dumps(PIPELINE))
    assert [(s.name, s.usage, s.instance_type, s.instance_count) for s in found.steps] == [
        ("Prep", "processing", "ml.m5.xlarge", 1), ("Train", "training", "ml.m5.xlarge", 2),
        ("Baseline", "processing", "ml.m5.xlarge", 1)]
    assert found.not_estimated == ("Score (Transform step): not estimated",)


# ------------------------------------------------------------------ make prices: the Price List parser
PRODUCTS = json.loads((DATA / "price_list_fixture.json").read_text())["products"]


class StubPricing:
    """``get_products`` over the fixture: TERM_MATCH filters, two items a page, as the API pages with NextToken."""

    def __init__(self):
        self.calls = []

    def get_products(self, *, ServiceCode, Filters, FormatVersion, MaxResults, NextToken=None):
        self.calls.append((ServiceCode, {f["Field"]: f["Value"] for f in Filters}))
        def matches(p):
            fields = {"productFamily": p["product"]["productFamily"], **p["product"]["attributes"]}
            return p["serviceCode"] == ServiceCode and all(fields.get(f["Field"]) == f["Value"] for f in Filters)
        found = [json.dumps(p) for p in PRODUCTS if matches(p)]
        start = int(NextToken or 0)
        page = {"FormatVersion": FormatVersion, "PriceList": found[start:start + 2]}
        return {**page, "NextToken": str(start + 2)} if start + 2 < len(found) else page


def test_the_price_list_parser_reads_on_demand_instance_and_lambda_prices():
    items = [json.dumps(p) for p in PRODUCTS] + ["not json", json.dumps({"no": "product"})]
    hours, warnings = instance_prices(items, REGION)
    assert hours == {"hosting": {"ml.m5.large": 0.1, "ml.m5.xlarge": 0.25}, "training": {"ml.m5.xlarge": 0.4},
                     "processing": {"ml.m5.xlarge": 0.3, "ml.m5.large": 0.15}}  # no spot, zero, other region, notebook
    assert "hosting ml.m5.xlarge: prices 0.2 and 0.25 found; kept 0.25" in warnings
    assert sum("malformed Price List item" in w for w in warnings) == 2
    lambdas, lambda_warnings = lambda_prices(items, REGION)
    assert lambdas == {"arm64": {"gb_second": 0.00001, "request": 0.000001}}  # the first tier; x86 lacks requests
    assert "lambda x86_64: no request price, left out" in lambda_warnings


def test_make_prices_writes_a_valid_book_and_keeps_other_regions(tmp_path, capsys):
    output = tmp_path / "prices.json"
    other = book_with()["regions"][REGION]
    output.write_text(json.dumps({"regions": {"us-west-2": other}}))
    client = StubPricing()
    code = fetch_prices.main(["--region", REGION, "--output", str(output)], client=client,
                             today=datetime.date(2026, 12, 14))
    assert code == 0
    book = PriceBook.from_file(output)
    assert book.regions == ("eu-west-1", "us-west-2")
    fetched = book.region(REGION)
    assert fetched.as_of == datetime.date(2026, 12, 14) and "pricing:GetProducts" in fetched.source
    assert book.instance_hour("processing", "ml.m5.xlarge", REGION) == 0.3
    assert book.lambda_price("arm64", REGION) == (0.00001, 0.000001)
    assert ("AmazonSageMaker", {"productFamily": "ML Instance", "regionCode": REGION, "component": "Hosting"}) \
        in client.calls
    assert len([c for c in client.calls if c[1].get("component") == "Hosting"]) == 2  # 3 products: two pages
    assert "kept 0.25" in capsys.readouterr().err
    prices, _ = fetch_region(StubPricing(), REGION, datetime.date(2026, 12, 14))
    assert prices.instance_hour == instance_prices([json.dumps(p) for p in PRODUCTS], REGION)[0]
