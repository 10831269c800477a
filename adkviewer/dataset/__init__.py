"""The dataset view: a pairs folder scored pair by pair, stepped through in every tab."""
