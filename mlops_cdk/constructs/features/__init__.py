"""Feature Store: the FeatureGroup construct (feature_group) and SageMaker's rules for its props (feature_schema)."""
