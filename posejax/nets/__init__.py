"""Flax modules of the BlazePose networks."""
