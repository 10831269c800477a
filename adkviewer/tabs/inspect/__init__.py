"""The Inspect tab."""
