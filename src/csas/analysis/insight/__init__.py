"""Insight: coding, themes, group comparison, weighting, representation."""
