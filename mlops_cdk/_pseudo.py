"""aws-cdk-lib's pseudo-parameter tokens (``AWS::Partition``, ``AWS::Region`` ...), read once per process.

Every read of ``aws_cdk.Aws.REGION`` is a jsii round trip to the same token (a static of aws-cdk-lib's
``Aws`` class), and the library reads them about a hundred times per stage. ``Aws`` here is a drop-in for
the ones the library uses.
"""

from __future__ import annotations

import aws_cdk


class Aws:
    ACCOUNT_ID: str = aws_cdk.Aws.ACCOUNT_ID
    PARTITION: str = aws_cdk.Aws.PARTITION
    REGION: str = aws_cdk.Aws.REGION
    URL_SUFFIX: str = aws_cdk.Aws.URL_SUFFIX
