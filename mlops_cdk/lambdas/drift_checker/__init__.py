"""The library's own feature-drift checker, deployed as a Lambda function (see ``handler``).

The modules are pure Python (standard library; ``handler`` adds boto3) and
import each other relatively when used as this package, or as top-level
modules when this folder is the Lambda deployment root.
"""
