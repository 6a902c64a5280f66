"""How a migration reaches its destination, by its transport (modes.py TRANSPORTS), as
src/migration/transport.ts models it: the connection that carries RESTART (an ssh login running
nothing, or a new TCP request/response) and the copy of a checkpoint folder (scp, which speaks
SFTP, to an sshd the run starts in the destination host; or a tar stream over one TCP connection,
hosttools.py send/recv); and the SSH sessions of the MTD set-up. Every copy crosses the emulated
network."""
import os
import shutil
import subprocess
import time

from network import helper
from procs import StepTimeout, run_bounded
from testbed_names import RECV_BASE_PORT


def setup_targets(plan):
    """Key holders the MTD set-up reaches by SSH (their sshd must run)."""
    return {s["to"] for p in plan["plans"] for s in p.get("setup", []) if s["from"] != s["to"]}


class Transfer:
    def __init__(self, run):
        self.run = run

    def start_servers(self):
        """An sshd, with a key made for this run, in each host an ssh migration goes to and each key
        holder the MTD set-up reaches."""
        run, net = self.run, self.run.network
        if not (any(m["transport"] == "ssh" for m in run.spec["migrations"]) or setup_targets(run.plan)):
            return
        d = run.rundir
        run_bounded(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, "host_key")], 30, "services")
        run_bounded(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, "client_key")], 30, "services")
        shutil.copy(os.path.join(d, "client_key.pub"), os.path.join(d, "authorized_keys"))
        with open(os.path.join(d, "host_key.pub")) as f:
            hostkey = f.read().split()[:2]
        with open(os.path.join(d, "known_hosts"), "w") as f:
            for h in run.spec["topology"]["hosts"]:
                f.write("%s %s %s\n" % (net.ip[h], hostkey[0], hostkey[1]))
        os.makedirs("/run/sshd", exist_ok=True)
        dests = setup_targets(run.plan)
        for i, m in enumerate(run.spec["migrations"]):
            if m["transport"] == "ssh":
                dests.add(run.plan["plans"][i]["destination"])
        for h in sorted(dests):
            cfg = os.path.join(d, "sshd_%s.conf" % h)
            with open(cfg, "w") as f:
                f.write("ListenAddress %s\nPort 22\nHostKey %s\nAuthorizedKeysFile %s\nPidFile none\n"
                        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUsePAM no\nStrictModes no\n"
                        "Subsystem sftp internal-sftp\n"
                        % (net.ip[h], os.path.join(d, "host_key"), os.path.join(d, "authorized_keys")))
            run.popen(net.host(h), ["/usr/sbin/sshd", "-D", "-f", cfg, "-E", os.path.join(d, "sshd_%s.log" % h)])
        # sshd -D does not say when it listens: wait until the port answers.
        for h in sorted(dests):
            for _ in range(100):
                code, _, _ = net.run_in(h, ["/usr/bin/python3", "-c", "import socket,sys;"
                                            "socket.create_connection((sys.argv[1],22),1)", net.ip[h]], "services", 10)
                if code == 0:
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError("sshd in host %s did not start (see %s)" % (h, d))

    def ssh_client_options(self):
        """How scp and ssh reach a destination host's sshd: the run's key, its sshds' host key checked."""
        return ["-i", os.path.join(self.run.rundir, "client_key"),
                "-o", "UserKnownHostsFile=%s" % os.path.join(self.run.rundir, "known_hosts"),
                "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=30"]

    def connect(self, m, src, dst):
        """Seconds to open the migration's connection from the source to the destination: an ssh
        login running nothing (key exchange and authentication) or a new TCP request/response."""
        run, net = self.run, self.run.network
        if m["transport"] != "ssh":
            return net.message(src, dst, int(run.spec["costs"]["controlBytes"]))
        t = time.monotonic()
        code, _, err = net.run_in(src, ["ssh", "-q", "-o", "BatchMode=yes"] + self.ssh_client_options() + [
            "root@%s" % net.ip[dst], "true"], "RESTART message", timeout=run.deadline)
        if code != 0:
            raise RuntimeError("ssh %s->%s failed: %s" % (src, dst, err.strip()[-300:]))
        return time.monotonic() - t

    def session(self, src, dst, payload, phase):
        """An SSH session from `src` to `dst` that runs a command reading the file `payload` (the MTD
        set-up's key material) from its stdin."""
        run, net = self.run, self.run.network
        code, _, err = net.run_in(src, ["ssh", "-q", "-o", "BatchMode=yes"] + self.ssh_client_options() + [
            "root@%s" % net.ip[dst], "cat > /dev/null"], phase, timeout=run.deadline, stdin_file=payload)
        if code != 0:
            raise RuntimeError("%s %s->%s failed: %s" % (phase, src, dst, err.strip()[-300:]))

    def send(self, m, src, dst, folder, index):
        """Copies a folder from the source host to the destination's RUNDIR/recv/INDEX (connection
        set-up included); returns (seconds, the received folder)."""
        run, net = self.run, self.run.network
        dest_dir = os.path.join(run.rundir, "recv", str(index))
        os.makedirs(dest_dir, exist_ok=True)
        with run.lock:
            run.progress.setdefault(index, {})["recv_dir"] = dest_dir
        if m["transport"] == "ssh":
            t = time.monotonic()
            code, _, err = net.run_in(src, ["scp", "-q", "-r", "-B"] + self.ssh_client_options() + [
                folder, "root@%s:%s/" % (net.ip[dst], dest_dir)], "transfer", timeout=run.deadline)
            elapsed = time.monotonic() - t
            if code != 0:
                raise RuntimeError("scp %s->%s failed: %s" % (src, dst, err.strip()[-300:]))
        else:
            port = RECV_BASE_PORT + index
            # the receiver's start is part of the copy (downtime waits for it as for the sender's):
            # timed from before it, so a move's phases add up to its downtime
            t = time.monotonic()
            recv = run.popen(net.host(dst), helper("recv", "--ip", net.ip[dst], "--port", str(port), "--dest", dest_dir),
                             stdout=subprocess.PIPE, text=True)
            net.wait_ready(recv, "receiver on %s" % dst)
            code, _, err = net.run_in(src, helper("send", "--ip", net.ip[dst], "--port", str(port), "--src", folder),
                                      "transfer", timeout=run.deadline)
            try:
                received = recv.wait(timeout=run.left(run.deadline))
            except subprocess.TimeoutExpired:
                raise StepTimeout("transfer", "the receiver on %s" % dst, run.left(run.deadline))
            if code != 0 or received != 0:
                raise RuntimeError("tcp transfer %s->%s failed: %s" % (src, dst, err.strip()[-300:]))
            elapsed = time.monotonic() - t
        return elapsed, os.path.join(dest_dir, os.path.basename(folder))
