"""What the cluster's VMs cost: each node is billed at its pool's hourly price from the moment
it is ordered (at time 0 for the scenario's own nodes; when the cluster autoscaler asks the
cloud for one, so its boot is paid for) until the cloud deletes it or the run ends."""

from __future__ import annotations

__all__ = ["Billing"]


class Billing:
    """Running VM bills, per node name."""

    def __init__(self) -> None:
        self._open: dict[str, tuple[float, float]] = {}  # name -> (price per hour, since)
        self._closed = 0.0  # dollars of VMs already deleted

    def start(self, name: str, price_per_hour: float, now: float) -> None:
        """A VM is ordered."""
        self._open.setdefault(name, (price_per_hour, now))

    def stop(self, name: str, now: float) -> None:
        """A VM is deleted."""
        price_since = self._open.pop(name, None)
        if price_since is not None:
            price, since = price_since
            self._closed += price * (now - since) / 3600

    def total(self, now: float) -> float:
        """Dollars spent on VMs up to ``now``."""
        return self._closed + sum(price * (now - since) / 3600 for price, since in self._open.values())

    def per_hour(self) -> float:
        """The hourly price of the VMs running now."""
        return sum(price for price, _ in self._open.values())
