"""The delivery pipeline as configuration: where the code comes from, which accounts the stages deploy to, and
what the endpoint test after each non-prod stage accepts.

cdk.json's ``delivery`` turns on the delivery stack. Every stage deploys in the pipeline's order
(dev, then staging, then prod); a manual approval before prod is always there and is not configurable: prod
changes only after a person has looked at the staging deployment and its endpoint test.

Facts the checks rely on:

* CodeConnections connection ARNs are ``arn:<partition>:codeconnections:<region>:<account>:connection/<id>``;
  connections created before the 2024 rename keep ``codestar-connections`` and still work.
* A CodePipeline S3 source action reads a ``.zip`` object from a versioned bucket (CodePipeline user guide,
  "Amazon S3 source action").
* CodeCommit repository names are 1-100 letters, digits, ``.``, ``_`` and ``-`` (CodeCommit quotas).
* CDK Pipelines refuses a pipeline stack without an explicit region once a stage names its account
  (``PipelineStackMustHaveExplicitRegion``): ``region`` is required with ``accounts``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._validation import (
    invalid,
    require_account_id,
    require_int,
    require_pattern,
    require_region,
)
from ._base import Settings, check_keys
from .stage_serving import STAGES

CONNECTION_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z]{2}(-[a-z]+)+-\d{1,2}:\d{12}:"
    r"connection/[A-Za-z0-9-]{1,64}$")
CONNECTION_ARN_ALLOWED = ("arn:<partition>:codeconnections:<region>:<12-digit account>:connection/<id> "
                          "(or the older codestar-connections service)")
# GitHub/Bitbucket owner/name, GitLab group/subgroup/name.
REPOSITORY_RE = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")
# A git branch name, simplified: no leading '-' or '/', no '..', no spaces or special characters git refuses.
BRANCH_RE = re.compile(r"^(?![-/])(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]{1,255}(?<![/.])$")
BRANCH_ALLOWED = "a git branch name of letters, digits and . _ / - (e.g. main, release/1.2)"
BUCKET_RE = re.compile(r"^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
ZIP_KEY_RE = re.compile(r"^(?!/)[^*?\x00-\x1f]+\.zip$")
CODECOMMIT_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
# A path in the repository: relative, no '..' segment.
REPO_PATH_RE = re.compile(r"^(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9_./-]{1,255}$")
MAX_LATENCY_MS = 60_000  # SageMaker real-time invocations time out after 60 s
MAX_SAMPLE_RECORDS = 1000
SOURCE_FORMS = ('{"connection_arn", "repository", "branch"} (GitHub, GitLab or Bitbucket through CodeConnections), '
                '{"bucket", "key"} (a .zip object in a versioned S3 bucket) or '
                '{"codecommit_repository"} (optionally "branch")')


@dataclasses.dataclass(frozen=True)
class ConnectionSource(Settings):
    """A repository on GitHub, GitLab or Bitbucket, read through an AWS CodeConnections connection.

    The connection is created once (console or CLI) and starts ``PENDING``: someone completes the handshake
    with the provider in the console before the pipeline's first run.
    """

    connection_arn: str
    repository: str
    branch: str

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        require_pattern(owner, f"{path}connection_arn", values.get("connection_arn"), CONNECTION_ARN_RE,
                        CONNECTION_ARN_ALLOWED)
        require_pattern(owner, f"{path}repository", values.get("repository"), REPOSITORY_RE,
                        "<owner>/<repository> as the provider spells it (GitLab: <group>/<subgroup>/<repository>)")
        require_pattern(owner, f"{path}branch", values.get("branch"), BRANCH_RE, BRANCH_ALLOWED)


@dataclasses.dataclass(frozen=True)
class S3Source(Settings):
    """A ``.zip`` of the repository in a versioned S3 bucket; each new object version starts the pipeline."""

    bucket: str
    key: str

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        require_pattern(owner, f"{path}bucket", values.get("bucket"), BUCKET_RE, "an S3 bucket name")
        require_pattern(owner, f"{path}key", values.get("key"), ZIP_KEY_RE,
                        "the key of a .zip object, not starting with '/' (CodePipeline's S3 source reads a zip)")


@dataclasses.dataclass(frozen=True)
class CodeCommitSource(Settings):
    """A CodeCommit repository of the pipeline's account (CodeCommit is generally available again since
    November 2025)."""

    codecommit_repository: str
    branch: str = "main"

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        require_pattern(owner, f"{path}codecommit_repository", values.get("codecommit_repository"),
                        CODECOMMIT_NAME_RE, "a CodeCommit repository name: 1-100 letters, digits, '.', '_', '-'")
        require_pattern(owner, f"{path}branch", values.get("branch"), BRANCH_RE, BRANCH_ALLOWED)


Source = ConnectionSource | S3Source | CodeCommitSource
# The key that tells each form apart, and its class.
_FORMS: tuple[tuple[str, type[Settings]], ...] = (
    ("connection_arn", ConnectionSource), ("bucket", S3Source), ("codecommit_repository", CodeCommitSource))


def parse_source(raw: Any, *, owner: str = "config", path: str = "source.") -> Source:
    """One of the three source forms from its JSON object; a typed source passes through."""
    if isinstance(raw, (ConnectionSource, S3Source, CodeCommitSource)):
        return raw
    key = path.rstrip(".")
    if not isinstance(raw, Mapping):
        raise invalid(owner, key, raw, f"a JSON object: {SOURCE_FORMS}")
    forms = [(marker, cls) for marker, cls in _FORMS if marker in raw]
    if len(forms) != 1:
        what = "exactly one source" + ("" if forms else " (none given)")
        raise invalid(owner, key, dict(raw), f"{what}: {SOURCE_FORMS}")
    ((marker, cls),) = forms
    check_keys(owner, path, raw, cls.keys())
    missing = [f for f in cls.keys() if f not in raw and _required(cls, f)]
    if missing:
        raise invalid(owner, f"{path}{missing[0]}", None, f"required with {marker!r}: {SOURCE_FORMS}")
    return cls.from_mapping(raw, owner=owner, path=path)


def _required(cls: type, name: str) -> bool:
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING  # type: ignore[misc]


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeliverySettings(Settings):
    """A CDK Pipelines delivery of the platform through ``stages``, with gates between them.

    Attributes:
        source: where the repository comes from: a :class:`ConnectionSource`, :class:`S3Source` or
            :class:`CodeCommitSource` (or its JSON object, see ``SOURCE_FORMS``).
        stages: the stages the pipeline deploys, in the platform's order (default dev, staging, prod);
            a subset is fine, another order is refused (prod never goes before staging).
        accounts: stage -> 12-digit account id of the stage's deployment; a stage without one deploys to
            the pipeline's account.
        pipeline_account: the account the pipeline runs in (the "tooling" account the stage accounts
            trust with ``cdk bootstrap --trust``); required with ``accounts``. Unset without ``accounts``:
            the account the delivery stack is deployed to.
        region: the region of the pipeline and of every stage; required with ``accounts``.
        max_latency_ms: the endpoint test fails when an invocation's round trip takes longer (default 2000,
            at most 60000: SageMaker's own invocation timeout).
        sample_records: how many records of the test split the endpoint test sends (default 20, 1-1000).
        samples_file: a CSV file in the repository (model inputs, no header, no label) to send instead of
            the served version's test split, e.g. for a model package the course pipeline did not register.

    A manual approval always precedes prod (its request goes to the delivery stack's approval topic); it is
    not configurable.
    """

    source: Source
    stages: tuple[str, ...] = STAGES
    accounts: Mapping[str, str] = dataclasses.field(default_factory=dict)
    pipeline_account: str | None = None
    region: str | None = None
    max_latency_ms: int = 2000
    sample_records: int = 20
    samples_file: str | None = None

    TUPLE_FIELDS = ("stages",)

    def __post_init__(self) -> None:
        owner = type(self).__name__
        object.__setattr__(self, "source", parse_source(self.source, owner=owner))
        if isinstance(self.accounts, Mapping):
            object.__setattr__(self, "accounts", dict(self.accounts))
        super().__post_init__()

    @classmethod
    def from_mapping(cls, data: Any, *, owner: str = "config", path: str = "", base: Any = None) -> Any:
        if isinstance(data, cls):
            return data
        values = cls._values_over(data, owner=owner, path=path, base=base)
        if values.get("source") is None:
            raise invalid(owner, f"{path}source", None, f"required: {SOURCE_FORMS}")
        values["source"] = parse_source(values["source"], owner=owner, path=f"{path}source.")
        if isinstance(values.get("stages"), list):
            values["stages"] = tuple(values["stages"])
        cls._check(values, owner, path)
        return cls(**values)

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        parse_source(values.get("source"), owner=owner, path=f"{path}source.")
        stages = _stages(owner, f"{path}stages", values.get("stages"))
        accounts = values.get("accounts")
        if not isinstance(accounts, Mapping):
            raise invalid(owner, f"{path}accounts", accounts, 'a JSON object of stage -> account id, '
                          'e.g. {"dev": "111111111111", "prod": "333333333333"}')
        for stage, account in accounts.items():
            if stage not in stages:
                raise invalid(owner, f"{path}accounts.{stage}", account,
                              "accounts of the delivered stages: " + " | ".join(stages))
            require_account_id(owner, f"{path}accounts.{stage}", account)
        pipeline_account = values.get("pipeline_account")
        if pipeline_account is not None:
            require_account_id(owner, f"{path}pipeline_account", pipeline_account)
        elif accounts:
            raise invalid(owner, f"{path}pipeline_account", None,
                          "the 12-digit id of the account the pipeline runs in: required with accounts (stage "
                          "accounts trust it with cdk bootstrap --trust, their endpoint-test roles name it)")
        region = values.get("region")
        if region is not None:
            require_region(owner, f"{path}region", region)
        elif accounts:
            raise invalid(owner, f"{path}region", None, "an AWS region name like eu-west-1: required with accounts "
                          "(CDK Pipelines needs an explicit region once a stage names its account)")
        require_int(owner, f"{path}max_latency_ms", values.get("max_latency_ms"), minimum=1, maximum=MAX_LATENCY_MS)
        require_int(owner, f"{path}sample_records", values.get("sample_records"), minimum=1,
                    maximum=MAX_SAMPLE_RECORDS)
        samples = values.get("samples_file")
        if samples is not None:
            require_pattern(owner, f"{path}samples_file", samples, REPO_PATH_RE,
                            "a relative path of a CSV file in the repository, without '..'")

    # ------------------------------------------------------------------ derived
    def account_of(self, stage: str) -> str | None:
        """The account ``stage`` deploys to (``None``: the pipeline's)."""
        return self.accounts.get(stage)

    @property
    def cross_account(self) -> bool:
        """Whether a stage deploys outside the pipeline's account (the artifacts then need a KMS key the
        stage accounts may use: CodePipeline's cross-account keys)."""
        return any(account != self.pipeline_account for account in self.accounts.values())

    @property
    def deployment_accounts(self) -> tuple[str, ...]:
        """Every account a stage deploys to, once each, in stage order (for ``cdk bootstrap --trust``)."""
        return tuple(dict.fromkeys(self.accounts[s] for s in self.stages if s in self.accounts))


def _stages(owner: str, key: str, value: Any) -> tuple[str, ...]:
    allowed = "a non-empty list of distinct stages in the order " + ", ".join(STAGES) + \
        " (e.g. [\"dev\", \"prod\"]; prod never deploys before staging)"
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence) or not value:
        raise invalid(owner, key, value, allowed)
    for stage in value:
        if stage not in STAGES:
            raise invalid(owner, key, stage, "known stages: " + " | ".join(STAGES))
    order = [STAGES.index(s) for s in value]
    if order != sorted(set(order)):
        raise invalid(owner, key, list(value), allowed)
    return tuple(value)


__all__ = ["CodeCommitSource", "ConnectionSource", "DeliverySettings", "S3Source", "SOURCE_FORMS", "Source",
           "parse_source"]
