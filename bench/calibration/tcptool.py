#!/usr/bin/python3
"""Tiny TCP tools run inside Mininet host namespaces by measure.py.

  recv PORT                          sink: one JSON line per finished connection
  send IP PORT BYTES CC TAG DEADLINE source of BYTES bytes (64-byte tag header included), reset at DEADLINE
  echo PORT                          request/response server
  ping IP PORT COUNT GAP MODE CC     client: MODE open (one connection) | new (one per request)

All times are time.time(): the hosts share one kernel, so sender and receiver clocks agree.
"""
import json
import socket
import struct
import sys
import threading
import time

HEADER = 64
CHUNK = 64 * 1024
SAMPLE = 0.25


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def set_cc(sock, cc):
    if cc and cc != "-":
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())


def recv_exact(conn, n):
    buf = bytearray()
    while len(buf) < n:
        b = conn.recv(n - len(buf))
        if not b:
            raise EOFError("peer closed")
        buf += b
    return bytes(buf)


def sink_conn(conn, t_accept):
    try:
        tag = recv_exact(conn, HEADER).rstrip(b"\0 ").decode()
        got = HEADER
        t_first = time.time()
        progress = [[t_first, got]]
        next_sample = t_first + SAMPLE
        reset = False
        while True:
            try:
                b = conn.recv(CHUNK)
            except ConnectionResetError:
                reset = True
                break
            if not b:
                break
            got += len(b)
            now = time.time()
            if now >= next_sample:
                progress.append([now, got])
                next_sample = now + SAMPLE
        t_last = time.time()
        progress.append([t_last, got])
        emit({"kind": "recv", "tag": tag, "t_accept": t_accept, "t_first": t_first, "t_last": t_last,
              "bytes": got, "reset": reset, "progress": progress})
    finally:
        conn.close()


def recv_main(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(64)
    emit({"kind": "ready", "port": port})
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=sink_conn, args=(conn, time.time()), daemon=True).start()


def send_main(ip, port, nbytes, cc, tag, deadline):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    set_cc(s, cc)
    t0 = time.time()
    s.settimeout(max(0.1, deadline - t0))
    s.connect((ip, port))
    t_conn = time.time()
    s.settimeout(0.25)
    data = tag.encode().ljust(HEADER, b" ")
    left = nbytes - HEADER
    block = b"x" * CHUNK
    pending = memoryview(data)
    aborted = False
    while True:
        if not pending:
            if left <= 0:
                break
            n = min(left, CHUNK)
            pending = memoryview(block[:n])
            left -= n
        try:
            sent = s.send(pending)
            pending = pending[sent:]
        except socket.timeout:
            pass
        if time.time() > deadline:
            aborted = True
            break
    t_sent = time.time()
    if aborted:
        # Reset rather than close: queued bytes must not keep flowing into the next scenario.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        emit({"kind": "send", "tag": tag, "t0": t0, "t_conn": t_conn, "t_sent": t_sent, "t_closed": t_sent,
              "bytes": nbytes, "aborted": True})
        return
    s.shutdown(socket.SHUT_WR)
    while True:
        try:
            if not s.recv(4096):
                break
        except socket.timeout:
            if time.time() > deadline + 5:
                break
    t_closed = time.time()
    s.close()
    emit({"kind": "send", "tag": tag, "t0": t0, "t_conn": t_conn, "t_sent": t_sent, "t_closed": t_closed,
          "bytes": nbytes, "aborted": False})


def echo_conn(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            req_len, resp_len = struct.unpack("!II", recv_exact(conn, 8))
            recv_exact(conn, req_len - 8)
            conn.sendall(b"r" * resp_len)
    except (EOFError, ConnectionError):
        pass
    finally:
        conn.close()


def echo_main(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(64)
    emit({"kind": "ready", "port": port})
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=echo_conn, args=(conn,), daemon=True).start()


def ping_main(ip, port, count, gap, mode, cc, req=100, resp=100):
    msg = struct.pack("!II", req, resp) + b"q" * (req - 8)

    def connect():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        set_cc(s, cc)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.connect((ip, port))
        return s

    rtts = []
    sent = []
    s = connect() if mode == "open" else None
    for _ in range(count):
        t = time.time()
        if mode == "new":
            s = connect()
        s.sendall(msg)
        recv_exact(s, resp)
        rtts.append(time.time() - t)
        sent.append(t)
        if mode == "new":
            s.close()
        time.sleep(gap)
    if s and mode == "open":
        s.close()
    emit({"kind": "ping", "mode": mode, "sent": sent, "rtts": rtts, "req": req, "resp": resp})


def main(argv):
    cmd = argv[1]
    if cmd == "recv":
        recv_main(int(argv[2]))
    elif cmd == "send":
        send_main(argv[2], int(argv[3]), int(argv[4]), argv[5], argv[6], float(argv[7]))
    elif cmd == "echo":
        echo_main(int(argv[2]))
    elif cmd == "ping":
        ping_main(argv[2], int(argv[3]), int(argv[4]), float(argv[5]), argv[6], argv[7])
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
