"""Log lines as JSON objects (LOG_FORMAT=json), for log collectors that index fields instead of parsing text.

One object per line: time (UTC, ISO 8601), level, logger, message, and `exception` (the formatted traceback) or
`stack` when the record has one. The message is the same text the plain format shows, so what keeps secrets out
of the text lines (SecretStr settings, redacted database URLs) keeps them out of these too.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """A `logging.Formatter` writing each record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)
