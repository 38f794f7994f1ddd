"""Colours that carry a meaning of their own in the report's figures and the app's map."""

# Each evaluation tier's colour (its name is sim.programmes.evaluation.TIER_NAMES) on the app's map
# and the report's maps: a category, so it is shown with a legend, never on a continuous colour scale.
TIER_COLOURS = {1: "#2b8a3e", 2: "#f2c14e", 3: "#e8590c"}
