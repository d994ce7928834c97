"""The plan's vocabulary: the targets model, periods, numbers, units, regions. Pure: imports nothing above it."""
