"""The measuring instrument of issue 9: a workspace at scale (seed) and the bench that times
the project's hot paths against hand-written SQL floors (run, floor, http)."""
