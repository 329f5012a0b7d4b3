"""Runtime code of ApprovalDeployTrigger, deployed as a Lambda asset (``handler.py:handler``).

Lambda loads ``handler.py`` as a top-level module, never through this package:
this file only makes setuptools ship the folder in the wheel.
"""
