"""The web app for reporting units."""
