"""kubesim: a discrete-event model of the Kubernetes control plane.

The public API::

    from sim import load_scenario, run
    result = run(load_scenario("scenarios/serving-basic.yaml"), seed=1)
    result.summary["pod_startup_p99_s"]
    result.pods()          # one row per pod, lifecycle times
    result.to_frame()      # every event
"""

from sim.engine import Result, Simulation, run
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.trace import Trace

__all__ = ["Result", "Scenario", "ScenarioError", "Simulation", "Trace", "load_scenario", "run"]
__version__ = "0.1.0"
