"""Helpers shared by the tests: hand-built tracks and the MediaPipe reference-fixture loaders."""
