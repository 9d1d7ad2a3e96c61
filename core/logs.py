"""JSON log lines (LOG_FORMAT=json) that carry the run, step and attempt they speak of."""

import json
import logging

CONTEXT_FIELDS = ("run_id", "step_key", "attempt", "attempt_id", "worker", "workspace")


class JsonFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in CONTEXT_FIELDS:
            if hasattr(record, field):
                line[field] = getattr(record, field)
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)
