"""The monthly HTML/JSON status report."""
