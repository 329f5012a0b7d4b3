"""What a ``SageMakerPipeline`` deploys: a pipeline definition, from the sagemaker SDK or from JSON."""

from __future__ import annotations

import dataclasses
import json
import pathlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ... import locations
from ..._validation import invalid
from ...pipeline_defs.definition_checks import validate_definition
from ...pipeline_defs.placeholders import prepare_for_sub

if TYPE_CHECKING:  # the SDK loads only when a definition is rendered with it
    from ...pipeline_defs.training_pipeline import TrainingPipeline

_OWNER = "PipelineDefinition"


@dataclasses.dataclass(frozen=True)
class _Rendered:
    body: str
    placeholders: frozenset[str]
    scripts_dir: pathlib.Path | None
    artifact_prefix: str | None


class PipelineDefinition:
    """A SageMaker pipeline definition, ready for ``Fn::Sub``; create one with a static factory.

    * :meth:`from_sdk`: a ``sagemaker.workflow.pipeline.Pipeline`` built on
      ``pipeline_defs.offline_session.OfflinePipelineSession``;
    * :meth:`from_training_pipeline`: what ``build_training_pipeline`` returns (pre-rendered for the
      reference configurations, see ``pipeline_defs.prerendered``: no SDK import);
    * :meth:`from_json`: definition JSON from elsewhere;
    * :meth:`lazy`: a function returning one of those, called the first time
      the definition is read (an app that never builds it never imports the SDK).

    The JSON may use the ``${...}`` placeholders of ``pipeline_defs.PLACEHOLDERS``
    (role, data bucket, scripts archive, first-party images), which the
    construct resolves per stack and region; any other ``${`` stays literal.
    """

    def __init__(self, render: Callable[[], _Rendered]) -> None:
        self._render = render
        self._rendered: _Rendered | None = None

    # ----------------------------------------------------------- factories
    @staticmethod
    def from_sdk(pipeline: Any, *, scripts_dir: pathlib.Path | str | None = None) -> "PipelineDefinition":
        """An SDK pipeline built offline; it writes under ``locations.pipeline_artifacts(pipeline.name)``.

        ``scripts_dir``: the folder shipped as ``${ScriptsBucket}/${ScriptsArchiveKey}``, if the steps use it.
        """
        from ...pipeline_defs.offline_session import render_definition

        body, used = render_definition(pipeline)
        return PipelineDefinition._of(_Rendered(
            body, used, _folder(scripts_dir), locations.pipeline_artifacts(pipeline.name)))

    @staticmethod
    def from_training_pipeline(training_pipeline: "TrainingPipeline") -> "PipelineDefinition":
        """The course pipeline (``build_training_pipeline``) with its scripts and artifact prefix."""
        body, used = training_pipeline.render()
        return PipelineDefinition._of(_Rendered(
            body, used, training_pipeline.scripts_dir, training_pipeline.artifact_prefix))

    @staticmethod
    def from_json(text: str, *, scripts_dir: pathlib.Path | str | None = None) -> "PipelineDefinition":
        """Definition JSON (from another tool, or saved); checked with ``validate_definition``."""
        if not isinstance(text, str):
            raise invalid(_OWNER, "text", type(text).__name__, "pipeline definition JSON as a string")
        validate_definition(text)
        body, used = prepare_for_sub(text)
        return PipelineDefinition._of(_Rendered(body, used, _folder(scripts_dir), None))

    @staticmethod
    def lazy(build: Callable[[], "PipelineDefinition"]) -> "PipelineDefinition":
        """``build()``'s definition, built the first time it is read."""
        if not callable(build):
            raise invalid(_OWNER, "build", build, "a function without arguments returning a PipelineDefinition")

        def render() -> _Rendered:
            built = build()
            if not isinstance(built, PipelineDefinition):
                raise invalid(_OWNER, "build", type(built).__name__, "a function returning a PipelineDefinition")
            return built._resolved()

        return PipelineDefinition(render)

    @staticmethod
    def _of(rendered: _Rendered) -> "PipelineDefinition":
        return PipelineDefinition(lambda: rendered)

    # ----------------------------------------------------------- contents
    def _resolved(self) -> _Rendered:
        if self._rendered is None:
            self._rendered = self._render()
        return self._rendered

    @property
    def body(self) -> str:
        """The definition JSON: documented placeholders as ``${Name}``, any other ``${`` escaped as ``${!``."""
        return self._resolved().body

    @property
    def placeholders(self) -> frozenset[str]:
        """The documented placeholders the definition uses."""
        return self._resolved().placeholders

    @property
    def scripts_dir(self) -> pathlib.Path | None:
        """The folder of step code shipped as the scripts archive, if any."""
        return self._resolved().scripts_dir

    @property
    def artifact_prefix(self) -> str | None:
        """Where the steps write in the data bucket, if the definition says (``<pipeline name>/``)."""
        return self._resolved().artifact_prefix

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """The parameters a run may be started with, in declaration order."""
        return tuple(p["Name"] for p in json.loads(self.body).get("Parameters") or [])

    @property
    def size_bytes(self) -> int:
        return len(self.body.encode())


def _folder(scripts_dir: pathlib.Path | str | None) -> pathlib.Path | None:
    if scripts_dir is None:
        return None
    if not isinstance(scripts_dir, (str, pathlib.Path)) or not pathlib.Path(scripts_dir).is_dir():
        raise invalid(_OWNER, "scripts_dir", scripts_dir, "an existing folder of the step scripts")
    return pathlib.Path(scripts_dir)
