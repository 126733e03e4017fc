"""symkkt: exact checks of KKT points, splitting embeddings and trajectories of homogeneous networks."""

__version__ = "0.1.0"
