"""The Diff tab."""
