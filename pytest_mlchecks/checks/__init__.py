"""Checks grouped by rung: ``data``, ``pipeline``, ``model``, ``evaluation``, ``production``."""
