"""Reusable Qt widgets (image views on one camera, the metrics table, log, colour maps); they know no tab."""
