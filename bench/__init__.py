"""`make bench`: the pipeline's speed against raw RQ, the ideal the LLM allows, and the targets of issue 13."""
