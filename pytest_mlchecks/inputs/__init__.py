"""The input layer: tables and vectors (``tables``), models (``models``), metrics (``metrics``)."""
