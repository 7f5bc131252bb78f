"""The model: coverage state, backhaul, siting, finance and the operators' build pipelines."""
