"""The platform's private network: a VPC of isolated subnets with the AWS endpoints its compute calls."""
