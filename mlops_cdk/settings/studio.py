"""The SageMaker Studio domain as configuration: who gets a user profile, when idle apps stop, what teardown keeps.

cdk.json's ``studio`` (e.g. ``{"user_profiles": ["alice", "bob"]}``; every key has a default) adds the
Studio stack (:class:`~mlops_cdk.stacks.studio.StudioStack`). Limits are SageMaker's, as its
CloudFormation schemas state them (cfn-lint 1.58):

* a user profile name matches ``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`` (``AWS::SageMaker::UserProfile``
  ``UserProfileName``): 1-63 letters, digits and inner hyphens;
* an app's idle timeout is 60 to 525,600 minutes (one year) (``AWS::SageMaker::Domain``
  ``IdleSettings.IdleTimeoutInMinutes``).

Studio runs VPC-only, so it needs the platform's ``network``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from .._validation import invalid, require_choice, require_int, require_sagemaker_name
from ._base import Settings

MAX_USER_PROFILE_NAME = 63
MIN_IDLE_MINUTES, MAX_IDLE_MINUTES = 60, 525_600
REMOVAL_CHOICES = ("retain", "destroy")


@dataclasses.dataclass(frozen=True, kw_only=True)
class StudioSettings(Settings):
    """A VPC-only Studio domain of the platform.

    Attributes:
        user_profiles: the user profiles to create (names as users sign in with them). A profile's name is
            fixed at creation: renaming one replaces it (a new, empty profile; its private spaces stay with the
            old one).
        idle_shutdown_minutes: JupyterLab and Code Editor apps idle this long are shut down (60-525600);
            ``None`` turns idle shutdown off.
        removal: what ``cdk destroy`` (or removing ``studio``) does with the domain, its profiles, security
            group and execution role: ``retain`` (the default: nothing of the users' work is lost) or
            ``destroy``. Either way CloudFormation leaves the domain's home EFS volume behind (README, Studio).
    """

    user_profiles: tuple[str, ...] = ()
    idle_shutdown_minutes: int | None = 60
    removal: str = "retain"

    TUPLE_FIELDS = ("user_profiles",)

    @classmethod
    def _check(cls, values: Mapping[str, Any], owner: str, path: str) -> None:
        require_user_profile_names(owner, f"{path}user_profiles", values["user_profiles"])
        minutes = values["idle_shutdown_minutes"]
        if minutes is not None:
            require_idle_minutes(owner, f"{path}idle_shutdown_minutes", minutes)
        require_choice(owner, f"{path}removal", values["removal"], REMOVAL_CHOICES)

    @property
    def retain(self) -> bool:
        return self.removal == "retain"


def require_user_profile_names(owner: str, prop: str, names: Any) -> tuple[str, ...]:
    """Distinct SageMaker user profile names (``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}``)."""
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise invalid(owner, prop, names, "a list of user profile names, e.g. [\"alice\", \"bob\"]")
    for name in names:
        require_sagemaker_name(owner, prop, name, max_length=MAX_USER_PROFILE_NAME)
    duplicates = sorted({n for n in names if list(names).count(n) > 1})
    if duplicates:
        raise invalid(owner, prop, duplicates, "distinct user profile names")
    return tuple(names)


def require_idle_minutes(owner: str, prop: str, minutes: Any) -> int:
    return require_int(owner, prop, minutes, minimum=MIN_IDLE_MINUTES, maximum=MAX_IDLE_MINUTES)


__all__ = ["MAX_IDLE_MINUTES", "MIN_IDLE_MINUTES", "REMOVAL_CHOICES", "StudioSettings",
           "require_idle_minutes", "require_user_profile_names"]
