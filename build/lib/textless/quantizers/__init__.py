"""Quantizers: k-means (:mod:`.kmeans`). Import submodules directly; no work at import."""
