"""Where files the service keeps (evidence) are stored."""
