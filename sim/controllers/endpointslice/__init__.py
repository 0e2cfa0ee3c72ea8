"""EndpointSlice controller (pkg/controller/endpointslice) and its reconciler (staging endpointslice)."""

from sim.controllers.endpointslice.controller import EndpointSliceController

__all__ = ["EndpointSliceController"]
