"""Health charts as SVG, drawn by pygal; the page shows each with its table beside it.

The charts themselves live in bot.app.health_charts, shared with the sponsor report, so both draw alike.
"""

from __future__ import annotations

from bot.app.health_charts import contributors, response_rates, response_times

__all__ = ["contributors", "response_rates", "response_times"]
