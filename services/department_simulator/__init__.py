"""A small real HTTP service that plays any department system (INTERFACES.md), for tests and the demo."""
