"""Deployment controller, split by reconcile phase as upstream splits it."""

from sim.controllers.deployment.controller import DeploymentController

__all__ = ["DeploymentController"]
