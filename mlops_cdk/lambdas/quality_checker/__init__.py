"""The library's own model-quality and bias-drift checker, deployed as a Lambda function (see ``handler``).

Lambda loads ``handler.py`` as a top-level module with this folder (plus the shared modules
``PlatformFunction`` copies in) as the deployment root, so the modules import each other as
top-level modules, never through this package: this file only makes setuptools ship the folder.
"""
