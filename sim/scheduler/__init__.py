"""The scheduler: queue, framework, plugins and the scheduling loop."""
