"""HorizontalPodAutoscaler controller: models pkg/controller/podautoscaler.

``horizontal.py`` is the loop (reconcile every sync period), ``compute.py`` asks each metric
for a proposal, ``replica_calculator.py`` and ``normalize.py`` hold the pure decision logic,
``metrics.py`` reads the metrics APIs.
"""

from sim.controllers.hpa.horizontal import HorizontalController

__all__ = ["HorizontalController"]
