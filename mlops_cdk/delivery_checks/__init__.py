"""Scripts the delivery pipeline runs in CodeBuild, from the repository checkout (standard library and boto3 only).

They never import the rest of the library: the pipeline's CodeBuild containers install nothing but boto3.
"""
