"""Helpers the teaching notebooks call, so that their cells stay one or two lines long.

One module per lab topic: ``common`` (scenario paths, runs, figures), ``widgets`` (what-if
sliders), ``startup`` (lab 01), ``serving`` (lab 02), ``autoscaling`` (lab 03), ``rollout`` (lab 04),
``training`` (lab 05), ``failures`` (lab 06), ``sharing`` (lab 07).
"""
