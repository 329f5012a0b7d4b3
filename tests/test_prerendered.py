"""Pre-rendered course pipeline: a hit is byte for byte the SDK's render, anything else misses, synth skips the SDK.

The cache is keyed by content (arguments, SDK release, builder source), so it is correct for every
configuration if (1) each shipped entry is what the SDK renders now for its configuration, (2) every
input of the render changes the key, and (3) the JSON file round-trips a definition exactly. Each is
checked here against a fresh SDK render (``render_definition`` of the SDK pipeline object, which never
reads the cache).
"""

from __future__ import annotations

import json

import pytest

from mlops_cdk.config import PlatformConfig
from mlops_cdk.pipeline_defs import prerendered
from mlops_cdk.pipeline_defs.training_pipeline import build_training_pipeline
from mlops_cdk.stacks.model_build import course_pipeline, course_pipeline_arguments
from tests.harness import reference_context
from tools import generate_pipeline

FEATURES = list(PlatformConfig().monitoring_features)
SHIPPED = json.loads(prerendered.DATA_FILE.read_text())


@pytest.fixture(scope="module")
def reference():
    """Cache key -> (labels, arguments, fresh SDK definition) of the reference configurations."""
    from mlops_cdk.pipeline_defs.offline_session import pipeline_definition

    found = {}
    for label, config in generate_pipeline.reference_configurations().items():
        built = build_training_pipeline(**course_pipeline_arguments(config))
        key = prerendered.cache_key(built.arguments)
        if key not in found:
            found[key] = ([], built.arguments, pipeline_definition(built.pipeline))
        found[key][0].append(label)
    return found


# ------------------------------------------------------------- the shipped file
def test_the_shipped_file_is_a_fresh_render_of_the_installed_sdk_and_builder(reference):
    assert SHIPPED["sdk"] == prerendered.sdk_releases(), "run `make pipeline`"
    assert SHIPPED["builder"] == prerendered.builder_digest(), "the builder changed: run `make pipeline`"
    assert set(SHIPPED["definitions"]) == set(reference), "run `make pipeline`"
    for key, (labels, arguments, definition) in reference.items():
        entry = SHIPPED["definitions"][key]
        assert entry["definition"] == definition, f"{labels}: run `make pipeline`"
        assert entry["configurations"] == labels and entry["arguments"] == json.loads(json.dumps(dict(arguments)))


def test_every_reference_configuration_hits_and_equals_the_fresh_render(reference):
    from mlops_cdk.pipeline_defs.placeholders import prepare_for_sub

    configs = generate_pipeline.reference_configurations()
    for labels, arguments, definition in reference.values():
        fresh = prepare_for_sub(json.dumps(definition, sort_keys=True, separators=(",", ":")))
        assert prerendered.lookup(arguments) == fresh, labels
        for label in labels:
            rendered = course_pipeline(configs[label])
            assert (rendered.body, rendered.placeholders) == fresh, label


def test_stages_of_the_reference_app_are_shipped(reference):
    """The cdk.json context with -c stage=... and -c stages=all builds these: each is a hit."""
    context = reference_context()
    for stage in ("dev", "staging", "prod"):
        args = course_pipeline_arguments(PlatformConfig.from_context({**context, "stage": stage}))
        assert prerendered.cache_key(build_training_pipeline(**args).arguments) in SHIPPED["definitions"], stage


# --------------------------------------------------------------- every input is in the key
BASE = {"pipeline_name": "mlops-fraud-detection-dev-training",
        "model_package_group_name": "mlops-fraud-detection-dev-models"}
ONE_CHANGE = [
    {"pipeline_name": "mlops-fraud-detection-dev-trainin"},
    {"model_package_group_name": "mlops-fraud-detection-dev-model"},
    {"accuracy_threshold": 0.850001},
    {"processing_instance_type": "ml.m5.2xlarge"},
    {"training_instance_type": "ml.c5.xlarge"},
    {"training_rounds": 101},
    {"learning_rate": 0.25},
    {"approval_status": "Approved"},
    {"input_data_uri": "s3://${DataBucket}/training-data/v2/"},
    {"label_column": "label"},
    {"inference_instance_types": ["ml.m5.large"]},
    {"inference_instance_types": ["ml.m5.xlarge", "ml.m5.large"]},
    {"experiment_name": "mlops-fraud-detection-dev-training"},
    {"bias_facets": [{"facet": FEATURES[0], "label_values_or_threshold": [1], "values_or_threshold": [40]}],
     "feature_names": FEATURES},
]


def test_the_key_covers_every_argument():
    base = prerendered.cache_key(build_training_pipeline(**BASE).arguments)
    keys = {prerendered.cache_key(build_training_pipeline(**{**BASE, **change}).arguments) for change in ONE_CHANGE}
    assert base is not None and None not in keys
    assert len(keys | {base}) == len(ONE_CHANGE) + 1
    # Each argument of build_training_pipeline is in TrainingPipeline.arguments (facets by what they render to).
    import inspect

    names = set(inspect.signature(build_training_pipeline).parameters) - {"bias_facets", "feature_names"}
    assert names | {"bias_arguments"} == set(build_training_pipeline(**BASE).arguments)


def test_the_key_covers_the_sdk_release_and_the_builder_source(monkeypatch, tmp_path):
    arguments = build_training_pipeline(**BASE).arguments
    key = prerendered.cache_key(arguments)
    other = {**prerendered.sdk_releases(), "sagemaker": "2.999.0"}
    with monkeypatch.context() as m:
        m.setattr(prerendered, "sdk_releases", lambda: other)
        assert prerendered.cache_key(arguments) not in (key, None)
    with monkeypatch.context() as m:
        m.setattr(prerendered, "sdk_releases", lambda: None)  # SDK metadata not found: never a hit
        assert prerendered.cache_key(arguments) is None
    # An edit of any one builder source changes the digest (computed uncached over copies of the sources).
    digests = set()
    for edited in prerendered.BUILDER_SOURCES:
        folder = tmp_path / edited
        folder.mkdir()
        for name in prerendered.BUILDER_SOURCES:
            text = (prerendered._HERE / name).read_text()
            (folder / name).write_text(text + "# edited\n" if name == edited else text)
        monkeypatch.setattr(prerendered, "_HERE", folder)
        digests.add(prerendered.builder_digest.__wrapped__())
    monkeypatch.setattr(prerendered, "_HERE", tmp_path / "none")
    assert prerendered.builder_digest.__wrapped__() is None  # sources unreadable: never a hit
    monkeypatch.undo()
    assert len(digests) == len(prerendered.BUILDER_SOURCES) and prerendered.builder_digest() not in digests
    monkeypatch.setattr(prerendered, "builder_digest", lambda: "0" * 64)
    assert prerendered.cache_key(arguments) not in (key, None)


def test_values_that_are_not_plain_json_are_never_keyed():
    class Name(str):
        pass

    assert prerendered.cache_key({**build_training_pipeline(**BASE).arguments, "pipeline_name": Name("x")}) is None
    assert prerendered.cache_key({**build_training_pipeline(**BASE).arguments, "training_rounds": True}) != \
        prerendered.cache_key({**build_training_pipeline(**BASE).arguments, "training_rounds": 1})


# ---------------------------------------------------- the file round-trips definitions exactly
FACETS = [
    {"facet": FEATURES[0], "label_values_or_threshold": [1], "values_or_threshold": ["a$b", "${X}", "é"]},
    {"facet": FEATURES[1], "label_values_or_threshold": [0, 1], "values_or_threshold": [30.5]},
]
# Every argument away from its default; a label column with a foreign ${...} (escaped to ${!...} for Fn::Sub) and
# facets whose values hold '$', '${X}' and non-ASCII text.
OTHER = {"pipeline_name": "p" * 100, "model_package_group_name": "g", "accuracy_threshold": 0.9, "training_rounds": 7,
         "learning_rate": 0.05, "approval_status": "Approved", "label_column": "label${Y}",
         "processing_instance_type": "ml.c5.2xlarge", "training_instance_type": "ml.g5.xlarge",
         "input_data_uri": "s3://my-bucket/x/", "inference_instance_types": ["ml.c5.large"], "experiment_name": "e-1",
         "bias_facets": FACETS, "feature_names": FEATURES}


def test_another_configuration_misses_and_an_entry_written_for_it_reads_back_identically(tmp_path, monkeypatch):
    from mlops_cdk.pipeline_defs.offline_session import pipeline_definition, render_definition

    arguments = OTHER
    built = build_training_pipeline(**arguments)
    assert prerendered.lookup(built.arguments) is None  # not shipped: rendered with the SDK
    fresh = render_definition(built.pipeline)
    assert "label${!Y}" in fresh[0]
    # An entry written the way `make pipeline` writes them, then read back by a new TrainingPipeline:
    entry = {"configurations": ["test"], "arguments": prerendered._plain(dict(built.arguments)),
             "definition": pipeline_definition(built.pipeline)}
    path = tmp_path / "generated.json"
    path.write_text(generate_pipeline.render_file({prerendered.cache_key(built.arguments): entry}))
    monkeypatch.setattr(prerendered, "DATA_FILE", path)
    prerendered.entries.cache_clear()
    try:
        again = build_training_pipeline(**arguments)
        assert again.render() == fresh
        assert "pipeline" not in again.__dict__  # read from the file: no SDK object was built
    finally:
        prerendered.entries.cache_clear()


def test_the_sdk_object_once_built_is_what_renders(monkeypatch):
    """Whoever asked for the SDK pipeline may have changed it: render() then renders it, not the cache."""
    args = course_pipeline_arguments(PlatformConfig())
    built = build_training_pipeline(**args)
    built.pipeline.steps.pop()  # drop CheckAccuracy
    body, _ = built.render()
    assert "CheckAccuracy" not in body and "CheckAccuracy" in build_training_pipeline(**args).render()[0]


def test_a_missing_or_broken_file_means_misses(tmp_path, monkeypatch):
    arguments = build_training_pipeline(**BASE).arguments
    for content in (None, "{not json", '{"definitions": {}}'):
        path = tmp_path / "generated.json"
        if content is not None:
            path.write_text(content)
        monkeypatch.setattr(prerendered, "DATA_FILE", path if content is not None else tmp_path / "absent.json")
        prerendered.entries.cache_clear()
        assert prerendered.lookup(arguments) is None
    prerendered.entries.cache_clear()


# The default synth importing no SDK and deploying the shipped definition: tests/test_app.py (its app.py run).
