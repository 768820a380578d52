"""Tests mirroring pytest_mlchecks/checks/."""
