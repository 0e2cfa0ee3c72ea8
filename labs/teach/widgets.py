"""What-if sliders: each change re-runs a (sub-second) simulation and redraws one figure.

Headless execution (the tests, nbclient) simply renders the default values once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["slider", "what_if"]


def slider(description: str, value: float, low: float, high: float, step: float) -> Any:
    """A float slider that re-runs only on release (one simulation per change, not per pixel)."""
    import ipywidgets as w

    return w.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                         continuous_update=False, style={"description_width": "initial"},
                         layout=w.Layout(width="420px"))


def what_if(render: Callable[..., Any], **controls: Any) -> Any:
    """Show the sliders above the output of ``render(**values)``, redrawn on each change."""
    import ipywidgets as w
    from IPython.display import display

    def draw(**values: Any) -> None:
        display(render(**values))

    out = w.interactive_output(draw, controls)
    box = w.VBox([w.HBox(list(controls.values())), out])
    display(box)
    return None
