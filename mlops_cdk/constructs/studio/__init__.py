"""SageMaker Studio: a VPC-only domain with user profiles (studio_domain) and the role its apps run as (execution_role)."""
