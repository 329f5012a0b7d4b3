"""What every Lambda function shares: one env loader and cold-start idiom, one contract, standalone imports.

``env`` and ``contract`` are imported as the functions import them: flat modules from
``lambdas/_shared`` (conftest puts that folder on ``sys.path``).
"""

from __future__ import annotations

import ast
import json
import logging
import re
import shutil
import subprocess
import sys

import pytest

import contract
import env
from tests.harness import ROOT, load_handler

LAMBDAS = ROOT / "mlops_cdk" / "lambdas"
SHARED = LAMBDAS / "_shared"
FUNCTIONS = sorted(p.name for p in LAMBDAS.iterdir() if (p / "handler.py").is_file())
FUNCTION_MODULES = sorted(p for name in FUNCTIONS for p in (LAMBDAS / name).glob("*.py") if p.name != "__init__.py")
SHARED_MODULES = {p.stem for p in SHARED.glob("*.py") if p.name != "__init__.py"}

# Every variable each function reads (the constructs set exactly these names).
FUNCTION_ENV = {
    "model_approval": ("METRIC_PATH", "THRESHOLD", "COMPARISON", "TOPIC_ARN", "MODEL_PACKAGE_GROUP"),
    "retraining_gate": ("PIPELINE_NAME", "PIPELINE_PARAMETERS", "COOLDOWN_MINUTES", "ALARM_REASONS",
                        "DEFAULT_ALARM_REASON", "DRIFT_EVENT_SOURCE", "METRIC_NAMESPACE", "START_PARAMETERS",
                        "NEW_DATA_BUCKET", "NEW_DATA_PREFIX", "NEW_DATA_SUFFIX"),
    "drift_checker": ("CAPTURE_BUCKET", "CAPTURE_PREFIX", "ENDPOINT_NAME", "BASELINE_S3_URI", "FEATURE_NAMES",
                      "REPORT_BUCKET", "REPORT_PREFIX", "MODEL_NAME", "WINDOW_HOURS", "THRESHOLD",
                      "WARNING_THRESHOLD", "METRIC_NAMESPACE", "EVENT_BUS_NAME", "EVENT_SOURCE"),
    "pipeline_notifier": ("TOPIC_ARN", "PIPELINE_ARN"),
    "baseline_publisher": ("MODEL_PACKAGE_GROUP", "DATA_BUCKET", "SOURCE_PREFIX", "STATISTICS_KEY", "CONSTRAINTS_KEY",
                           "HISTOGRAM_KEY", "BIAS_BASELINE_KEY", "MANIFEST_KEY"),
    # PredictionChecker's variables, and BiasDriftChecker's four for the bias_drift check.
    "quality_checker": ("CHECK", "CAPTURE_BUCKET", "CAPTURE_PREFIX", "ENDPOINT_NAME", "MODEL_NAME", "REPORT_BUCKET",
                        "REPORT_PREFIX", "PROBLEM_TYPE", "WINDOW_HOURS", "LABEL_DELAY_HOURS", "PROBABILITY_THRESHOLD",
                        "METRIC_NAMESPACE", "INFERENCE_ATTRIBUTE", "PROBABILITY_ATTRIBUTE", "GROUND_TRUTH_BUCKET",
                        "GROUND_TRUTH_PREFIX", "FEATURE_NAMES", "BIAS_FACETS", "BIAS_DRIFT_THRESHOLD",
                        "BIAS_BASELINE_S3_URI"),
    "approved_package_recorder": ("MODEL_PACKAGE_GROUP_ARN", "STAGE_PARAMETERS", "STATE_PARAMETER", "PIPELINE_NAME",
                                  "TOPIC_ARN"),
}
REQUIRED = {
    "model_approval": FUNCTION_ENV["model_approval"],
    "retraining_gate": ("PIPELINE_NAME", "PIPELINE_PARAMETERS", "COOLDOWN_MINUTES"),
    "drift_checker": ("CAPTURE_BUCKET", "CAPTURE_PREFIX", "ENDPOINT_NAME", "BASELINE_S3_URI", "FEATURE_NAMES",
                      "REPORT_BUCKET", "REPORT_PREFIX", "MODEL_NAME"),
    "pipeline_notifier": ("TOPIC_ARN",),
    "baseline_publisher": FUNCTION_ENV["baseline_publisher"],
    "quality_checker": ("CHECK", "CAPTURE_BUCKET", "CAPTURE_PREFIX", "ENDPOINT_NAME", "MODEL_NAME", "REPORT_BUCKET",
                        "REPORT_PREFIX", "PROBLEM_TYPE"),
    "approved_package_recorder": ("MODEL_PACKAGE_GROUP_ARN", "STAGE_PARAMETERS", "STATE_PARAMETER", "PIPELINE_NAME"),
}


def test_every_function_is_covered():
    assert set(FUNCTIONS) == set(FUNCTION_ENV)


# ================================================================== env.Settings
def read_all(settings: env.Settings) -> dict:
    return {
        "name": settings.required("NAME"),
        "prefix": settings.required("PREFIX", allow_empty=True),
        "label": settings.optional("LABEL", "none"),
        "count": settings.integer("COUNT", default=3, minimum=1, maximum=10),
        "ratio": settings.number("RATIO", default=0.5, above=0, maximum=1),
        "mode": settings.choice("MODE", ("fast", "slow"), default="fast"),
        "columns": settings.names("COLUMNS"),
        "pairs": settings.json_value("PAIRS", lambda v: isinstance(v, list), "a JSON list", default=[]),
        "uri": settings.match("URI", contract.S3_URI_RE, "s3://bucket/key"),
    }


GOOD = {"NAME": " n ", "PREFIX": "", "COLUMNS": "a, b,c", "URI": "s3://b/k/x.json"}


def test_a_good_environment_is_read_with_defaults():
    got = env.load(GOOD, read_all)
    assert (got["name"], got["prefix"], got["label"], got["count"], got["ratio"], got["mode"], got["pairs"]) == (
        "n", "", "none", 3, 0.5, "fast", [])
    assert got["columns"] == ("a", "b", "c")
    assert (got["uri"].group("bucket"), got["uri"].group("key")) == ("b", "k/x.json")
    set_all = {**GOOD, "LABEL": "x", "COUNT": "10", "RATIO": "1", "MODE": "slow", "PAIRS": "[[1, 2]]"}
    got = env.load(set_all, read_all)
    assert (got["label"], got["count"], got["ratio"], got["mode"], got["pairs"]) == ("x", 10, 1.0, "slow", [[1, 2]])


def test_every_problem_is_listed_in_one_config_error():
    broken = {"NAME": "  ", "COUNT": "11", "RATIO": "nan", "MODE": "medium", "COLUMNS": "a,,b", "PAIRS": "{",
              "URI": "bucket/key"}  # PREFIX unset
    with pytest.raises(env.ConfigError) as caught:
        env.load(broken, read_all)
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    for expected in ("NAME is empty", "PREFIX is not set", "COUNT: invalid value '11'; allowed: an integer in [1, 10]",
                     "RATIO: invalid value 'nan'; allowed: a finite number > 0 and <= 1",
                     "MODE: invalid value 'medium'; allowed: fast | slow",
                     "COLUMNS: invalid value 'a,,b'", "PAIRS: invalid value '{'; allowed: a JSON list",
                     "URI: invalid value 'bucket/key'; allowed: s3://bucket/key"):
        assert expected in message
    assert message.count(";") >= 8  # one message, every problem


@pytest.mark.parametrize(("variable", "value", "named"), [
    ("COUNT", "1.5", "an integer"), ("COUNT", "0", "an integer in [1, 10]"), ("COUNT", "x", "an integer"),
    ("RATIO", "0", "> 0"), ("RATIO", "1.01", "<= 1"), ("RATIO", "inf", "finite"), ("RATIO", "abc", "finite"),
    ("COLUMNS", "a,b,a", "distinct"), ("PAIRS", '{"a": 1}', "a JSON list"), ("URI", "s3://bucket", "s3://"),
])
def test_each_unusable_value_is_named(variable, value, named):
    with pytest.raises(env.ConfigError, match=rf"{variable}: invalid value {re.escape(repr(value))}; allowed: .*"
                                              rf"{re.escape(named)}"):
        env.load({**GOOD, variable: value}, read_all)


def test_callers_add_problems_between_settings():
    def read(settings):
        low, high = settings.integer("LOW"), settings.integer("HIGH")
        if low is not None and high is not None and not low < high:
            settings.problem("LOW must be below HIGH")
        return low, high

    assert env.load({"LOW": "1", "HIGH": "2"}, read) == (1, 2)
    with pytest.raises(env.ConfigError, match="LOW must be below HIGH"):
        env.load({"LOW": "2", "HIGH": "1"}, read)
    with pytest.raises(env.ConfigError) as caught:  # an unusable value is one problem, not two
        env.load({"LOW": "x", "HIGH": "1"}, read)
    assert "below" not in str(caught.value)


# ==================================================================== cold start
class Lines:
    def __init__(self):
        self.entries = []

    def __call__(self, level, message, **fields):
        self.entries.append((level, message, fields))


def test_cold_start_keeps_a_good_configuration():
    log = Lines()
    loaded = env.cold_start(lambda environ: env.load(environ, read_all), log, environ=GOOD)
    assert loaded.error is None and loaded.get()["columns"] == ("a", "b", "c")
    assert log.entries == []


def test_cold_start_never_raises_and_every_invocation_raises_the_error():
    log = Lines()
    loaded = env.cold_start(lambda environ: env.load(environ, read_all), log, environ={})
    assert isinstance(loaded.error, env.ConfigError)
    ((level, message, fields),) = log.entries  # logged once, at cold start
    assert level == logging.ERROR and "dead-letter queue" in message and "NAME is not set" in fields["error"]
    raised = []
    for _ in range(3):
        with pytest.raises(env.ConfigError, match="NAME is not set; PREFIX is not set") as caught:
            loaded.get()
        raised.append(caught.value)
    assert len({id(e) for e in raised}) == 3  # a fresh exception per invocation (no growing traceback)


def test_a_bug_in_a_loader_is_not_swallowed():
    with pytest.raises(ZeroDivisionError):
        env.cold_start(lambda environ: 1 / 0, Lines(), environ={})


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_fails_every_invocation_while_misconfigured(name, monkeypatch, capsys):
    """Nothing set: the cold start logs every missing variable; each event raises (retry, then the DLQ)."""
    monkeypatch.syspath_prepend(str(LAMBDAS / name))

    def no_client(service):
        raise AssertionError(f"no AWS client may be created while misconfigured ({service})")

    monkeypatch.setattr(env, "client", no_client)
    module = load_handler(LAMBDAS / name / "handler.py", monkeypatch, {}, keys=FUNCTION_ENV[name])
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line["level"] == "ERROR"
    assert all(f"{variable} is not set" in line["error"] for variable in REQUIRED[name])
    assert isinstance(module.CONFIG.error, env.ConfigError)
    for _ in range(2):
        with pytest.raises(env.ConfigError, match=REQUIRED[name][-1]):
            module.handler({"id": "e", "source": "aws.sagemaker", "detail-type": "x", "detail": {}}, None)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_reads_only_the_variables_its_construct_sets(name):
    source = "\n".join(p.read_text() for p in (LAMBDAS / name).glob("*.py"))
    read = set(re.findall(r"settings\.\w+\(\s*\"([A-Z0-9_]+)\"", source))
    assert read == set(FUNCTION_ENV[name])


def test_clients_are_made_once_per_container(monkeypatch):
    made = []
    monkeypatch.setattr(env, "_CLIENTS", {})
    monkeypatch.setattr(env.boto3, "client", lambda service, config: made.append((service, config)) or object())
    first = env.client("s3")
    assert env.client("s3") is first and env.client("sns") is not first
    assert [s for s, _ in made] == ["s3", "sns"]
    assert made[0][1].retries == {"mode": "standard", "max_attempts": 5}


# ============================================================ one copy: contract
def _contract_strings() -> set[str]:
    """The contract's names that a function could copy: public strings and the members of its vocabularies."""
    values = {v for k, v in vars(contract).items() if k.isupper() and isinstance(v, str) and not k.endswith("ALLOWED")}
    values |= {*contract.REASONS, *contract.APPROVAL_STATUSES, *contract.COMPARISONS}
    return {v for v in values if len(v) >= 6}  # shorter words ("drift", "ok") are too common to mean a copy


def _code_strings(tree: ast.Module) -> list[ast.Constant]:
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def _module_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AnnAssign, ast.AugAssign)) else []
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name):
                    names.add(leaf.id)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def test_the_contract_values_that_alarms_and_rules_depend_on_are_stable():
    assert (contract.MONITORING_NAMESPACE, contract.METRIC_FEATURE_DRIFT, contract.METRIC_MAX_FEATURE_DRIFT,
            contract.METRIC_RECORDS_ANALYZED, contract.METRIC_MALFORMED_RECORDS) == (
        "MLOps/ModelMonitoring", "FeatureDrift", "MaxFeatureDrift", "RecordsAnalyzed", "MalformedRecords")
    assert (contract.DIMENSION_ENDPOINT, contract.DIMENSION_FEATURE) == ("Endpoint", "Feature")
    assert (contract.DRIFT_EVENT_SOURCE, contract.DRIFT_EVENT_DETAIL_TYPE, contract.DRIFT_EVENT_STATUS) == (
        "mlops-cdk.drift-checker", "Feature Drift Detected", "drift")
    assert (contract.RETRAINING_NAMESPACE, contract.METRIC_RETRAINING_DECISIONS, contract.DIMENSION_PIPELINE,
            contract.DIMENSION_DECISION) == ("MLOps/Retraining", "RetrainingDecisions", "Pipeline", "Decision")
    assert contract.DECISIONS == ("started", "skipped", "invalid_event")
    assert contract.REASONS == ("DataDrift", "ModelQualityDrop", "NewData", "Scheduled", "Manual")
    assert contract.REASON_PARAMETER == "Reason"
    assert contract.BASELINE_HISTOGRAM_PROPERTY == "BaselineHistogram"
    # The functions unpack these vocabularies by position: the order is part of the contract.
    assert contract.APPROVAL_STATUSES == ("Approved", "Rejected", "PendingManualApproval")
    assert contract.PIPELINE_STATUSES == ("Executing", "Stopping", "Stopped", "Failed", "Succeeded",
                                          "CompletedWithFailures")
    assert contract.COMPARISONS == ("GreaterThanOrEqualToThreshold", "LessThanOrEqualToThreshold")


@pytest.mark.parametrize("path", FUNCTION_MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_function_keeps_its_own_copy_of_the_contract(path):
    tree = ast.parse(path.read_text())
    contract_names = {k for k in vars(contract) if k.isupper()}
    redefined = _module_names(tree) & contract_names
    assert not redefined, f"{path.name} defines {sorted(redefined)}: use contract.<NAME>"
    copies = sorted({node.value for node in _code_strings(tree)} & _contract_strings())
    assert not copies, f"{path.name} spells {copies} itself: use the contract's name for it"
    patterns = {v.pattern for v in vars(contract).values() if isinstance(v, re.Pattern)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "compile" and node.args \
                and isinstance(node.args[0], ast.Constant):
            assert node.args[0].value not in patterns, f"{path.name} compiles a copy of a contract pattern"


@pytest.mark.parametrize("path", FUNCTION_MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_one_config_error_one_logger_one_cold_start_flat_imports(path):
    tree = ast.parse(path.read_text())
    classes = {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    assert "ConfigError" not in classes, "env.ConfigError is the only one"
    calls = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    assert not calls & {"logging.getLogger", "logging.basicConfig"}, "log through json_log"
    assert not any(isinstance(node, ast.ImportFrom) and node.level for node in ast.walk(tree)), \
        "flat imports, as deployed"
    assert not any(isinstance(node, ast.Try) and any(
        isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError") for h in node.handlers)
        for node in ast.walk(tree)), "no import fallbacks: the folder is the deployment root"
    if path.name == "handler.py":
        (cold_start,) = [node for node in tree.body if isinstance(node, ast.Assign)
                         and ast.unparse(node.targets[0]) == "CONFIG"]
        assert ast.unparse(cold_start.value).startswith("env.cold_start(load_config, ")


@pytest.mark.parametrize("path", FUNCTION_MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_functions_import_only_the_stdlib_boto3_the_shared_modules_and_their_own(path):
    own = {p.stem for p in path.parent.glob("*.py")}
    allowed = set(sys.stdlib_module_names) | {"boto3", "botocore"} | SHARED_MODULES | own
    for node in ast.walk(ast.parse(path.read_text())):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) else []
        for module in modules:
            assert module.split(".")[0] in allowed, f"{path.name} imports {module}"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_imports_standalone_as_packaged(name, tmp_path):
    """The folder plus the shared modules, nothing of this repository on the path: as PlatformFunction ships it."""
    for source in (*(LAMBDAS / name).glob("*.py"), *SHARED.glob("*.py")):
        if source.name != "__init__.py":
            shutil.copy(source, tmp_path / source.name)
    out = subprocess.run(
        [sys.executable, "-I", "-B", "-c", "import sys; sys.path.insert(0, '.'); import handler; "
         "print(callable(handler.handler), type(handler.CONFIG.error).__name__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True, env={"AWS_DEFAULT_REGION": "us-east-1"},
    )
    *logged, last = out.stdout.splitlines()
    assert last.split() == ["True", "ConfigError"]  # no environment: imported, and misconfigured
    assert json.loads(logged[0])["level"] == "ERROR"


def test_handlers_stay_small():
    for path in FUNCTION_MODULES + sorted(SHARED.glob("*.py")):
        assert len(path.read_text().splitlines()) <= 400, path
