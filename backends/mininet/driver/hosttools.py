"""Helpers the driver starts inside Mininet host namespaces: a request/response server, an exchange
client (one-shot and long-lived), timed probes, and a tar stream sender/receiver for the plain TCP
transport. Each prints its results as lines on stdout for the driver to read."""
import json
import os
import socket
import struct
import sys
import tarfile
import threading
import time

SERVER_PORT = 7000
HEADER = struct.Struct("!QQ")


def recv_exact(sock, n):
    chunks = []
    while n > 0:
        chunk = sock.recv(min(n, 1 << 16))
        if not chunk:
            raise ConnectionError("connection closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def send_zeros(sock, n):
    block = b"\0" * (1 << 16)
    while n > 0:
        k = min(n, len(block))
        sock.sendall(block[:k])
        n -= k


def cmd_server(args):
    """Request/response server: each request is HEADER(request bytes, response bytes) + payload."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.ip, args.port))
    srv.listen(64)

    def handle(conn):
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:
                try:
                    req, resp = HEADER.unpack(recv_exact(conn, HEADER.size))
                except ConnectionError:
                    return
                recv_exact(conn, req)
                send_zeros(conn, resp)
        except OSError:
            pass
        finally:
            conn.close()

    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def exchange_once(conns, ip, req, resp, new_connection):
    """One request/response; returns seconds (including the connection set-up when it opens one)."""
    t = time.monotonic()
    sock = None if new_connection else conns.get(ip)
    if sock is None:
        sock = socket.create_connection((ip, SERVER_PORT), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not new_connection:
            conns[ip] = sock
    sock.sendall(HEADER.pack(req, resp))
    send_zeros(sock, req)
    recv_exact(sock, resp)
    if new_connection:
        sock.close()
    return time.monotonic() - t


def cmd_exchange(args):
    """Sequential request/responses from this host; prints one JSON object with the durations."""
    reqs = json.loads(args.requests)
    conns = {}
    start = time.monotonic()
    durations = [exchange_once(conns, r["ip"], r["req"], r["resp"], r["new"]) for r in reqs]
    end = time.monotonic()
    for s in conns.values():
        s.close()
    print(json.dumps({"start": start, "end": end, "durations": durations}), flush=True)


def cmd_agent(_args):
    """A long-lived exchange client in one host: one JSON list of requests per stdin line, one JSON
    result per stdout line. Keeps process start-up out of the measured protocol phases."""
    print("ready", flush=True)
    for line in sys.stdin:
        reqs = json.loads(line)
        conns = {}
        try:
            start = time.monotonic()
            durations = [exchange_once(conns, r["ip"], r["req"], r["resp"], r["new"]) for r in reqs]
            end = time.monotonic()
            print(json.dumps({"start": start, "end": end, "durations": durations}), flush=True)
        except OSError as e:
            print(json.dumps({"error": str(e)}), flush=True)
        finally:
            for s in conns.values():
                s.close()


def cmd_probe(args):
    """Probes at absolute monotonic times: prints one JSON line per answered request."""
    p = json.loads(args.spec)
    conns = {}
    for i in range(p["count"]):
        at = p["at"] + i * p["every"]
        delay = at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent = time.monotonic()
        try:
            rtt = exchange_once(conns, p["ip"], p["bytes"], p["bytes"], p["new"])
            print(json.dumps({"sent": sent, "rtt": rtt}), flush=True)
        except OSError as e:
            print(json.dumps({"sent": sent, "error": str(e)}), flush=True)


def cmd_recv(args):
    """Receives one tar stream on a TCP port and unpacks it into a folder."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.ip, args.port))
    srv.listen(1)
    print("ready", flush=True)
    conn, _ = srv.accept()
    os.makedirs(args.dest, exist_ok=True)
    with conn, conn.makefile("rb") as f, tarfile.open(fileobj=f, mode="r|") as tar:
        tar.extractall(args.dest)
        # The tar reader stops at the end-of-archive blocks; the writer's record padding may still
        # be unread, and closing over unread bytes sends a reset the sender reports as a failure.
        while f.read(65536):
            pass
    print("done", flush=True)


def cmd_send(args):
    sock = socket.create_connection((args.ip, args.port), timeout=60)
    with sock, sock.makefile("wb") as f:
        with tarfile.open(fileobj=f, mode="w|") as tar:
            tar.add(args.src, arcname=os.path.basename(args.src.rstrip("/")))
        f.flush()
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1)  # wait for the receiver to close: the data is on the destination

