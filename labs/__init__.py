"""The real-cluster side of kubesim: replay scenarios on a cluster and compare with the simulation."""
