"""The fake world's processes and Mininet nodes (fakeworld.py): a child's stdout and stdin, a
process that exits at once or runs until it is ended, a host that runs commands, a link's ends."""
import os
import subprocess
import threading

# above any kernel's pid_max (2^22): no real process has these pids
HOST_PID = 9_100_000


class FakeStdout:
    """A child's stdout: readable lines, and a real descriptor select() sees as ready."""

    def __init__(self, lines=()):
        self.lines = list(lines)
        self.cond = threading.Condition()
        self.closed = False
        self._r, self._w = os.pipe()
        os.write(self._w, b"x")

    def fileno(self):
        return self._r

    def push(self, line):
        with self.cond:
            self.lines.append(line)
            self.cond.notify_all()

    def close_stream(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def readline(self):
        with self.cond:
            while not self.lines and not self.closed:
                self.cond.wait(1)
            return self.lines.pop(0) if self.lines else ""

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def release(self):
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass


class FakeStdin:
    def __init__(self, on_line):
        self.on_line = on_line
        self.buf = ""

    def write(self, s):
        self.buf += s
        while "\n" in self.buf:
            line, self.buf = self.buf.split("\n", 1)
            self.on_line(line)

    def flush(self):
        pass


class FakeProc:
    """A process of the world: exits at once with `code`, or runs until terminated (`lasting`);
    `hang` makes its first bounded wait expire (the step ran past its limit)."""

    def __init__(self, world, args, code=0, lasting=False, stdout=None, out="", err="", hang=None):
        self.world = world
        self.args = list(args)
        self.pid = world.next_pid()
        self.code = code
        self.returncode = None if lasting else code
        self.stdout = stdout
        self.stdin = None
        self.out, self.err = out, err
        self.hang = hang
        self.ended = threading.Event()
        if not lasting:
            self.ended.set()
        world.procs.append(self)

    def poll(self):
        return self.returncode

    def _end(self, code):
        if self.returncode is None:
            self.returncode = code
        self.ended.set()
        if isinstance(self.stdout, FakeStdout):
            self.stdout.close_stream()

    def wait(self, timeout=None):
        if self.hang is not None:
            hang, self.hang = self.hang, None
            if hang == "until-killed":
                if not self.ended.wait(timeout):
                    raise subprocess.TimeoutExpired(self.args, timeout)
            else:
                raise subprocess.TimeoutExpired(self.args, timeout)
        if not self.ended.wait(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode

    def communicate(self, timeout=None):
        self.wait(timeout)
        return self.out, self.err

    def terminate(self):
        self.world.record("terminate", self.pid)
        self._end(-15)

    def kill(self):
        self.world.record("kill", self.pid)
        self._end(-9)


class FakeHost:
    def __init__(self, world, name, index):
        self.world = world
        self.name = name
        self.pid = HOST_PID + index
        self.ip = "10.0.0.%d" % (index + 1)

    def IP(self):
        return self.ip

    def popen(self, args, **_kw):
        return self.world.host_command(self, list(args))


class FakeIntf:
    def __init__(self, node, name):
        self.node, self.name = node, name


class FakeBridgeEnd:
    """A switch's end of a link: commands run in the driver's namespace, as Mininet's do."""

    def __init__(self, world, name):
        self.world, self.name = world, name

    def popen(self, args, **_kw):
        return self.world.host_command(self, list(args))


class FakeLink:
    def __init__(self, a, b, na, nb):
        self.intf1 = FakeIntf(a, "%s-eth%d" % (a.name, na))
        self.intf2 = FakeIntf(b, "%s-eth%d" % (b.name, nb))
