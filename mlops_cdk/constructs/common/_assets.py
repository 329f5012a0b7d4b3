"""Files the library writes at synth time (pipeline definitions, Clarify analysis configs), shipped as CDK assets."""

from __future__ import annotations

import pathlib
import tempfile

from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct


def generated_file_asset(scope: Construct, id: str, *, filename: str, text: str) -> s3_assets.Asset:
    """An asset holding ``text`` as ``filename``.

    The file lives in a fresh temporary folder: CDK copies it into the cloud
    assembly when the asset is staged, and its hash (so its S3 key) depends
    on the content only.
    """
    path = pathlib.Path(tempfile.mkdtemp(prefix="mlops-cdk-generated-")) / filename
    path.write_text(text)
    return s3_assets.Asset(scope, id, path=str(path))
