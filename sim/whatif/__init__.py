"""What-if analysis: sweeps with confidence intervals, and capacity planning.

Questions such as "how many GPU nodes keep every replica scheduled at 3x replicas?" are
answered by running a scenario at many configurations, each several times with independent
seeds::

    from sim.whatif import sweep, plan
    table = sweep("scenarios/capacity-gpu.yaml",
                  {"cluster.nodePools.gpu.count": range(1, 9),
                   "workloads.model-server.spec.replicas": [8, 16, 24]}, replications=3)
    table[["cluster.nodePools.gpu.count", "pods_pending_at_end_mean", "pods_pending_at_end_ci_hi"]]
    answer = plan("scenarios/capacity-gpu.yaml", {"cluster.nodePools.gpu.count": "1..16"},
                  require=["pods_pending_at_end == 0"], minimize="cost_per_hour")
    print(answer.explain())

Figures: ``sim.whatif.plots.metric_figure`` (a metric against a parameter with CI bands) and
``heatmap_figure`` (two parameters), shading the configurations that meet the requirements.

Modules: ``space`` (axes, grids, samples), ``runner`` (processes, seeds), ``cache`` (finished
runs on disk), ``stats`` (t intervals), ``study`` (sweeps), ``requirements``, ``search`` and
``answer`` (capacity plans and their explanation), ``plots`` (kept out of this namespace so
worker processes need not import matplotlib).
"""

from sim.whatif.answer import PlanResult
from sim.whatif.plots import heatmap_figure, metric_figure
from sim.whatif.requirements import Requirement, parse_requirement
from sim.whatif.search import plan
from sim.whatif.space import Axis, parse_vary
from sim.whatif.stats import aggregate, t_quantile
from sim.whatif.study import sweep

__all__ = ["Axis", "PlanResult", "Requirement", "aggregate", "heatmap_figure", "metric_figure", "parse_requirement",
           "parse_vary", "plan", "sweep", "t_quantile"]
