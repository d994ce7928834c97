"""Who hears about a status change, and how the message gets there."""
