"""pypa installer's RECORD validation (names, sizes and hashes) of one wheel."""
import sys

from installer.sources import WheelFile

with WheelFile.open(sys.argv[1]) as wheel:
    wheel.validate_record(validate_contents=True)
