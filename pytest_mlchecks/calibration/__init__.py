"""Calibration: the generated and real cases every default threshold was measured on.

``python -m pytest_mlchecks.calibration`` prints the tables (``run``); ``synth`` builds split
datasets with injected failures (also behind ``strategies``), ``grad_cases`` and
``arch_cases`` hold the gradient and stock-architecture cases, ``real_tables`` loads the
bundled real tables.
"""
