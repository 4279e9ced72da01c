"""The audit's charts, drawn with matplotlib and embedded as base64 PNG, so the HTML file stands alone."""

from __future__ import annotations

import base64
import io
import logging
from typing import Any

from bot.app.audit.figures import Audit
from bot.i18n import translate


def charts_of(audit: Audit, lang: str) -> dict[str, str]:
    """Charts as base64 PNG, so the HTML file needs no server and no other files."""
    import matplotlib

    matplotlib.use("Agg")
    logging.getLogger("matplotlib").setLevel(logging.WARNING)  # its font-cache notices are not ours to report
    import matplotlib.pyplot as plt

    def t(key: str) -> str:
        return translate(f"audit.chart_{key}", lang)

    charts: dict[str, str] = {}
    if audit.weeks:
        fig, ax = plt.subplots(figsize=(9, 3.5))
        labels = [w.week.isoformat() for w in audit.weeks]
        ax.bar(labels, [w.answered for w in audit.weeks], label=t("answered"), color="#4c9f70")
        ax.bar(
            labels,
            [w.unanswered for w in audit.weeks],
            bottom=[w.answered for w in audit.weeks],
            label=t("unanswered"),
            color="#d1495b",
        )
        ax.set_ylabel(t("questions"))
        ax.legend()
        ax.tick_params(axis="x", rotation=45)
        charts["weeks"] = _png(fig)
    measured = [c for c in audit.channels if c.median_s is not None][:15]
    if measured:
        fig, ax = plt.subplots(figsize=(9, 3.5))
        labels = [c.channel for c in measured]
        ax.bar(labels, [(c.p90_s or 0) / 3600 for c in measured], label=t("p90"), color="#edae49")
        ax.bar(labels, [(c.median_s or 0) / 3600 for c in measured], label=t("median"), color="#00798c")
        ax.set_ylabel(t("hours"))
        ax.legend()
        ax.tick_params(axis="x", rotation=45)
        charts["channels"] = _png(fig)
    if audit.answerers:
        top = audit.answerers[:10]
        fig, ax = plt.subplots(figsize=(9, 3.5))
        ax.barh([a.member for a in reversed(top)], [a.answers for a in reversed(top)], color="#30638e")
        ax.set_xlabel(t("first_responses"))
        charts["answerers"] = _png(fig)
    return charts


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
