"""Inputs other than the brief: RSS/Atom feeds and operating data files."""
