"""The driver's output contract: stdout carries only JSON lines ({"type": ...}); logs go to stderr."""
import json
import sys
import threading

_lock = threading.Lock()
_out = None


def open_stdout(stream):
    global _out
    _out = stream


def emit(obj):
    with _lock:
        _out.write(json.dumps(obj, separators=(",", ":")) + "\n")
        _out.flush()


def warn(message):
    emit({"type": "warning", "message": message})


def log(message):
    sys.stderr.write("[driver] %s\n" % message)
    sys.stderr.flush()
