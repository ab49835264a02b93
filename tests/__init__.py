"""posejax's tests: ``unit/`` mirrors the package, ``integration/`` runs whole pipelines."""
