"""The driver's output contract: stdout carries only JSON lines ({"type": ...}); logs go to stderr."""
import json
import sys
import threading

from contract import check_record

_lock = threading.Lock()
_out = None


def open_stdout(stream):
    global _out
    _out = stream


def emit(obj):
    if obj.get("type") == "record":
        check_record(obj)
    with _lock:
        _out.write(json.dumps(obj, separators=(",", ":")) + "\n")
        _out.flush()


def warn(message):
    emit({"type": "warning", "message": message})


def log(message):
    sys.stderr.write("[driver] %s\n" % message)
    sys.stderr.flush()
