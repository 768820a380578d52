"""``python -m pytest_mlchecks.calibration``: print the calibration tables."""

from pytest_mlchecks.calibration.run import main

main()
