"""A VPC-only SageMaker Studio domain with IAM sign-in, the platform's key, idle shutdown and user profiles (course 10.5).

The domain's name ends in a digest of its create-only properties (``AuthMode``,
``KmsKeyId``; and ``VpcId``, which ``UpdateDomain`` cannot change for a Studio
domain): when one of them changes, CloudFormation replaces the domain, and the new
one gets a new name instead of colliding with the old (retained) one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_cdk import CfnResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ... import locations
from ..._nag import acknowledge_bucket_grant, acknowledge_grant_wildcards
from ..._validation import invalid, is_token, require_duration, require_sagemaker_name
from ...settings.studio import MAX_IDLE_MINUTES, MIN_IDLE_MINUTES, require_user_profile_names
from ..common.content_name import content_name
from ..common.network_placement import NetworkPlacement
from .execution_role import StudioExecutionRole

_OWNER = "StudioDomain"
MAX_DOMAIN_NAME = 63
AUTH_MODE = "IAM"
# UserSettings.SecurityGroups holds at most 5, and SageMaker adds one of its own for NFS (CreateDomain API reference).
MAX_SECURITY_GROUPS = 4
NFS_PORT = 2049
# TCP within the group between Studio's apps (the VPC-only requirements of "Connect Studio notebooks in a VPC").
APP_PORTS = (8192, 65535)
HTTPS_PORT = 443


class StudioDomain(Construct):
    """An ``AWS::SageMaker::Domain`` (``AppNetworkAccessType: VpcOnly``, ``AuthMode: IAM``) and its user profiles.

    Creates:
      * the domain (child ``Resource``) in ``network``'s subnets, its home EFS volume and the spaces' EBS
        volumes encrypted with ``kms_key``; new users land in Studio (not Studio Classic) and tags propagate
        to the apps and spaces they create;
      * unless ``network`` brings security groups: one (``SecurityGroup``) that allows NFS (TCP 2049) and TCP
        8192-65535 within itself, both ways (home directories on EFS, app-to-app traffic), and HTTPS (443)
        out, to the network's endpoints; nothing else in or out;
      * unless ``execution_role`` is given: a :class:`StudioExecutionRole` (``ExecutionRole``), the default
        of every user profile and shared space, granted Studio use of this domain (``grant_studio_use``),
        the key, and, with ``data_bucket``, reading the bucket and writing under ``studio/``;
      * a user profile (``Profiles/<name>``) per name of ``user_profiles``: a profile's name is fixed, so
        renaming one replaces it (a new, empty profile);
      * idle shutdown of JupyterLab and Code Editor apps after ``idle_shutdown`` (60 minutes to 365 days;
        ``None``: off), for private and shared spaces alike.

    Every resource created here gets ``removal_policy`` (default ``RETAIN``: ``cdk destroy`` keeps the users'
    work). Whatever it is, CloudFormation never deletes the domain's home EFS volume (``home_efs_file_system_id``):
    see the README on deleting it. Gate the stack on ``regions.STUDIO``: the domain and profile types are missing
    in some regions.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        network: NetworkPlacement,
        kms_key: kms.IKey,
        name_prefix: str,
        data_bucket: s3.IBucket | None = None,
        execution_role: iam.IRole | None = None,
        user_profiles: Iterable[str] = (),
        idle_shutdown: Duration | None = Duration.minutes(60),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        profiles = self._check(network, kms_key, name_prefix, data_bucket, execution_role, user_profiles,
                               idle_shutdown, removal_policy)
        super().__init__(scope, id)
        self.network = network
        self.kms_key = kms_key
        self.security_group: ec2.SecurityGroup | None = None
        self.security_groups: tuple[ec2.ISecurityGroup, ...] = network.security_groups or (self._security_group(),)
        self.execution_role: iam.IRole = execution_role or StudioExecutionRole(
            self, "ExecutionRole", description=f"SageMaker Studio apps of {self.node.path}")
        self.domain = self._domain(name_prefix, idle_shutdown)
        self.domain_name: str = self.domain.domain_name
        self.domain_id: str = self.domain.attr_domain_id
        self.domain_arn: str = self.domain.attr_domain_arn
        self.home_efs_file_system_id: str = self.domain.attr_home_efs_file_system_id
        self.url: str = self.domain.attr_url
        self.user_profiles: dict[str, sagemaker.CfnUserProfile] = {}
        profile_scope = Construct(self, "Profiles") if profiles else None
        for name in profiles:
            self.user_profiles[name] = sagemaker.CfnUserProfile(
                profile_scope, name, domain_id=self.domain_id, user_profile_name=name)
        if execution_role is None:
            self._grant_default_role(data_bucket)
        for node in self.node.find_all():
            if isinstance(node, CfnResource):
                node.apply_removal_policy(removal_policy)

    # ------------------------------------------------------------------ grants
    def grant_studio_use(self, grantee: iam.IGrantable) -> iam.Grant:
        """What Studio's web app and its apps do as ``grantee`` (an execution role), in this domain only.

        Create, update, describe and delete the domain's spaces and apps (tagging them on creation), describe the
        domain and its user profiles, and list domains, profiles, spaces and apps (the List actions take no
        resource: they show what exists, the Describe and Create actions stay scoped to this domain).
        """
        spaces, apps = self._arn("space", f"{self.domain_id}/*"), self._arn("app", f"{self.domain_id}/*")
        profiles = self._arn("user-profile", f"{self.domain_id}/*")
        grant = iam.Grant.add_to_principal(grantee=grantee, resource_arns=[spaces], actions=[
            "sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace", "sagemaker:DescribeSpace"])
        for resources, actions, conditions in (
            ([apps], ["sagemaker:CreateApp", "sagemaker:DeleteApp", "sagemaker:DescribeApp"], None),
            ([self.domain_arn], ["sagemaker:DescribeDomain"], None),
            ([profiles], ["sagemaker:DescribeUserProfile"], None),
            ([spaces, apps], ["sagemaker:AddTags"], {"Null": {"sagemaker:TaggingAction": "false"}}),
            (["*"], ["sagemaker:ListApps", "sagemaker:ListSpaces", "sagemaker:ListUserProfiles",
                     "sagemaker:ListDomains"], None),
        ):
            grant = grant.combine(iam.Grant.add_to_principal(
                grantee=grantee, resource_arns=resources, actions=actions, conditions=conditions))
        why = "are named by Studio users at run time; the grant stays inside this one domain."
        acknowledge_grant_wildcards(grantee, [
            (spaces, f"Spaces {why}"), (apps, f"Apps {why}"), (profiles, f"User profiles {why}"),
            ("*", "The sagemaker List actions Studio's web app calls support no resource-level permissions; "
                  "they only list names, every other action is scoped to this domain."),
        ])
        return grant

    def grant_sign_in(self, grantee: iam.IGrantable, user_profile: str) -> iam.Grant:
        """``sagemaker:CreatePresignedDomainUrl`` for one user profile: what a person's IAM identity needs to open Studio."""
        require_sagemaker_name(_OWNER, "user_profile", user_profile, max_length=63)
        return iam.Grant.add_to_principal(grantee=grantee, actions=["sagemaker:CreatePresignedDomainUrl"],
                                          resource_arns=[self._arn("user-profile", f"{self.domain_id}/{user_profile}")])

    # ------------------------------------------------------------------ parts
    def _security_group(self) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=self.network.vpc, allow_all_outbound=False,
            description=f"Studio apps of {self.node.path}: NFS and app traffic within the group, HTTPS out")
        for port, what in ((ec2.Port.tcp(NFS_PORT), "NFS to the domain's home EFS volume"),
                           (ec2.Port.tcp_range(*APP_PORTS), "Studio apps to each other")):
            group.add_ingress_rule(group, port, f"{what}, within the group")
            group.add_egress_rule(group, port, f"{what}, within the group")
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS_PORT),
                              "HTTPS to AWS service endpoints (the network decides which are reachable)")
        self.security_group = group
        return group

    def _domain(self, name_prefix: str, idle_shutdown: Duration | None) -> sagemaker.CfnDomain:
        create_only = {"AuthMode": AUTH_MODE, "KmsKeyId": self.kms_key.key_arn, "VpcId": self.network.vpc.vpc_id}
        groups = [g.security_group_id for g in self.security_groups]
        lifecycle = _idle_settings(idle_shutdown)
        role_arn = self.execution_role.role_arn
        return sagemaker.CfnDomain(
            self, "Resource",
            domain_name=content_name(self, name_prefix, create_only, max_length=MAX_DOMAIN_NAME),
            auth_mode=create_only["AuthMode"],
            kms_key_id=create_only["KmsKeyId"],
            vpc_id=create_only["VpcId"],
            subnet_ids=self.network.subnet_ids(),
            app_network_access_type="VpcOnly",
            tag_propagation="ENABLED",
            default_user_settings=sagemaker.CfnDomain.UserSettingsProperty(
                execution_role=role_arn,
                security_groups=groups,
                studio_web_portal="ENABLED",
                default_landing_uri="studio::",
                jupyter_lab_app_settings=sagemaker.CfnDomain.JupyterLabAppSettingsProperty(
                    app_lifecycle_management=lifecycle),
                code_editor_app_settings=sagemaker.CfnDomain.CodeEditorAppSettingsProperty(
                    app_lifecycle_management=lifecycle),
            ),
            # Shared spaces take none of the user settings: the same role, groups and idle shutdown, again.
            default_space_settings=sagemaker.CfnDomain.DefaultSpaceSettingsProperty(
                execution_role=role_arn,
                security_groups=groups,
                jupyter_lab_app_settings=sagemaker.CfnDomain.JupyterLabAppSettingsProperty(
                    app_lifecycle_management=lifecycle),
            ),
        )

    def _grant_default_role(self, data_bucket: s3.IBucket | None) -> None:
        role = self.execution_role
        self.grant_studio_use(role)
        # The home EFS and the spaces' EBS volumes use the key; AWS services attach it to them through grants.
        self.kms_key.grant_encrypt_decrypt(role)
        self.kms_key.grant(role, "kms:DescribeKey")
        iam.Grant.add_to_principal(grantee=role, actions=["kms:CreateGrant"], resource_arns=[self.kms_key.key_arn],
                                   conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}})
        if data_bucket is not None:
            data_bucket.grant_read(role)
            data_bucket.grant_put(role, f"{locations.STUDIO}*")
            acknowledge_bucket_grant(role, data_bucket, "*",
                                     "Studio users explore the platform's data: training data, artifacts, reports.")
            acknowledge_bucket_grant(role, data_bucket, f"{locations.STUDIO}*",
                                     "Studio users write their own work under the studio/ prefix only.")

    def _arn(self, resource: str, name: str) -> str:
        return Stack.of(self).format_arn(service="sagemaker", resource=resource, resource_name=name)

    @staticmethod
    def _check(network: Any, kms_key: Any, name_prefix: Any, data_bucket: Any, execution_role: Any,
               user_profiles: Any, idle_shutdown: Any, removal_policy: Any) -> tuple[str, ...]:
        """Every prop, before any resource exists; returns the profile names."""
        if not isinstance(network, NetworkPlacement):
            raise invalid(_OWNER, "network", network, "a NetworkPlacement (Studio runs VPC-only: it needs a network)")
        if len(network.security_groups) > MAX_SECURITY_GROUPS:
            raise invalid(_OWNER, "network", f"{len(network.security_groups)} security groups",
                          f"at most {MAX_SECURITY_GROUPS} security groups (SageMaker adds one of its own for NFS)")
        for prop, value, attribute, kind in (("kms_key", kms_key, "key_arn", "a kms.IKey"),
                                             ("data_bucket", data_bucket, "bucket_arn", "an s3.IBucket or None"),
                                             ("execution_role", execution_role, "role_arn", "an iam.IRole or None")):
            if (value is not None or prop == "kms_key") and not hasattr(value, attribute):
                raise invalid(_OWNER, prop, value, kind)
        if is_token(name_prefix):
            raise invalid(_OWNER, "name_prefix", name_prefix, "a literal name: the domain's name is derived from it")
        require_sagemaker_name(_OWNER, "name_prefix", name_prefix, max_length=MAX_DOMAIN_NAME)
        if isinstance(user_profiles, (str, bytes)) or not isinstance(user_profiles, Iterable):
            raise invalid(_OWNER, "user_profiles", user_profiles, "an iterable of user profile names")
        profiles = require_user_profile_names(_OWNER, "user_profiles", list(user_profiles))
        if idle_shutdown is not None:
            require_duration(_OWNER, "idle_shutdown", idle_shutdown, minimum=Duration.minutes(MIN_IDLE_MINUTES),
                             maximum=Duration.minutes(MAX_IDLE_MINUTES))
            try:
                idle_shutdown.to_minutes(integral=True)
            except RuntimeError:
                raise invalid(_OWNER, "idle_shutdown", idle_shutdown.to_human_string(), "whole minutes") from None
        if not isinstance(removal_policy, RemovalPolicy):
            raise invalid(_OWNER, "removal_policy", removal_policy, "RemovalPolicy.RETAIN or RemovalPolicy.DESTROY")
        return profiles


def _idle_settings(idle_shutdown: Duration | None) -> sagemaker.CfnDomain.AppLifecycleManagementProperty:
    """Idle shutdown on, with its timeout, or explicitly off (an omitted setting would keep a previous one)."""
    if idle_shutdown is None:
        return sagemaker.CfnDomain.AppLifecycleManagementProperty(
            idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(lifecycle_management="DISABLED"))
    return sagemaker.CfnDomain.AppLifecycleManagementProperty(idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(
        lifecycle_management="ENABLED", idle_timeout_in_minutes=int(idle_shutdown.to_minutes(integral=True))))


__all__ = ["StudioDomain"]
