"""Package data of adk_model, installed as `adk_model.resources`: the shipped weights and model card, the
least-squares fit and the demo image with its licence (found with importlib.resources)."""
