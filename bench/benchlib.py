# Plumbing for the proxy benchmarks: processes started and stopped by PID, CPU time and UDP
# drops read from /proc, proxy command lines and configs, a readiness probe (stdlib only).
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SCENARIO_DIR = BENCH_DIR / "scenarios"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port(used, host="127.0.0.1"):
    """A loopback UDP port free right now and not in `used` (a set we add to)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in used:
            used.add(port)
            return port
    raise RuntimeError("no free port found")


def udp_port_bound(port, host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


class Process:
    """One child in its own session (so a terminal Ctrl-C reaches only us), output to a file.
    Every started child stays in `running` until stopped, so an interrupted run can stop all."""

    running = []
    nice = 0  # added to every child's niceness; negative needs root

    def __init__(self, name, cmd, log_path, cwd=None):
        self.name = name
        self.cmd = [str(c) for c in cmd]
        self.log_path = Path(log_path)
        self.cwd = cwd
        self.proc = None
        self._log = None

    def start(self):
        self._log = open(self.log_path, "ab")
        nice = Process.nice
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=self.cwd, start_new_session=True,
                                     preexec_fn=(lambda: os.nice(nice)) if nice else None)
        Process.running.append(self)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout_s):
        """The exit code, or None if still running after timeout_s."""
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout_s=10.0):
        """Signal our child by PID, wait; SIGKILL its session (only what it forked) if it hangs."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            if self.wait(timeout_s) is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    self.proc.kill()
                self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None
        if self in Process.running:
            Process.running.remove(self)
        return self.proc.returncode

    @classmethod
    def stop_all(cls):
        for p in list(reversed(cls.running)):
            p.stop()

    def log_tail(self, lines=20):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _stat_fields(pid):
    """/proc/PID/stat fields after the command name (index 0 is field 3, state)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read().decode("latin-1")
    return data[data.rindex(")") + 2:].split()


def session_cpu_ticks(sid):
    """utime+stime of every live process in session `sid` (threads included: /proc/PID/stat of
    a process sums its threads) plus cutime+cstime the leader collected from dead children."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            f = _stat_fields(entry)
        except (OSError, ValueError):
            continue  # exited meanwhile
        # f[3] is field 6 (session); f[11], f[12] are fields 14, 15 (utime, stime).
        if int(f[3]) != sid:
            continue
        total += int(f[11]) + int(f[12])
        if int(entry) == sid:
            total += int(f[13]) + int(f[14])
    return total


def session_task_ticks(sid):
    """{(pid, tid): utime+stime} for every thread of every process in session `sid`: shows
    how the load spread over Kamailio's children or sipproxy's worker threads."""
    out = {}
    for pid in session_pids(sid):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                f = _stat_fields(f"{pid}/task/{tid}")
            except (OSError, ValueError):
                continue
            out[(pid, int(tid))] = int(f[11]) + int(f[12])
    return out


def session_pids(sid):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat_fields(entry)[3]) == sid:
                    pids.append(int(entry))
            except (OSError, ValueError):
                pass
    return sorted(pids)


def host_busy_ticks():
    """Non-idle jiffies of the whole machine (all CPUs), from /proc/stat."""
    with open("/proc/stat") as f:
        vals = [int(v) for v in f.readline().split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)  # idle + iowait
    return sum(vals[:8]) - idle  # guest time is already inside user/nice


def udp_errors():
    """(InErrors, RcvbufErrors) from /proc/net/snmp: datagrams the kernel dropped, any socket."""
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    head, vals = rows[0], rows[1]
    get = lambda name: int(vals[head.index(name)]) if name in head else 0  # noqa: E731
    return get("InErrors"), get("RcvbufErrors")


def udp_socket_drops(ports):
    """{port: datagrams dropped} of the UDP sockets bound to those local ports (summed over
    SO_REUSEPORT sockets), from the drops column of /proc/net/udp."""
    want = {f"{p:04X}": p for p in ports}
    out = dict.fromkeys(ports, 0)
    try:
        with open("/proc/net/udp") as f:
            next(f)
            for line in f:
                cols = line.split()
                port = want.get(cols[1].rsplit(":", 1)[1])
                if port is not None:
                    out[port] += int(cols[-1])
    except (OSError, StopIteration, IndexError, ValueError):
        pass
    return out


def options_ping(port, host="127.0.0.1", timeout_s=0.5):
    """Send one OPTIONS for the proxy itself over UDP; the final status code or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        me = f"{host}:{s.getsockname()[1]}"
        call_id = uuid.uuid4().hex
        msg = (f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {me};rport;branch=z9hG4bK-{uuid.uuid4().hex[:16]}\r\n"
               "Max-Forwards: 70\r\n"
               f"From: <sip:bench@{me}>;tag={uuid.uuid4().hex[:8]}\r\n"
               f"To: <sip:{host}:{port}>\r\nCall-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\n"
               "Content-Length: 0\r\n\r\n")
        s.settimeout(timeout_s)
        try:
            s.sendto(msg.encode(), (host, port))
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                data = s.recv(65535).decode("latin-1")
                parts = data.split(" ", 2)
                if call_id in data and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) >= 200:
                    return int(parts[1])
        except OSError:  # timeout, or ICMP port unreachable while nothing listens yet
            return None
    return None


def wait_ready(proc, port, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not proc.alive():
            return False
        if options_ping(port) == 200:
            return True
        time.sleep(0.2)
    return False


def write_sipproxy_config(path, port, workers, log_level, control_socket):
    Path(path).write_text(
        "# Generated by bench/proxy_calls.py: one UDP listener, deploy/sipproxy.yaml defaults.\n"
        "listen:\n"
        "  - proto: udp\n"
        "    address: 127.0.0.1\n"
        f"    port: {port}\n"
        f"workers: {workers}\n"
        "log:\n"
        f"  level: {log_level}\n"
        "  format: text\n"
        "control:\n"
        f'  socket: "{control_socket}"\n'
        "sip:\n"
        "  t1_ms: 500\n"
        "  t2_ms: 4000\n"
        "  t4_ms: 5000\n"
        "  record_route: true\n")


def sipproxy_cmd(binary, workdir, port, workers, log_level):
    cfg = Path(workdir) / "sipproxy.yaml"
    write_sipproxy_config(cfg, port, workers, log_level, Path(workdir) / "sipproxy.sock")
    return [binary, "-c", cfg]


def kamailio_cmd(binary, workdir, port, workers, shm_mb, pkg_mb):
    # -DD: stay in the foreground but fork the workers; -E: log to stderr.
    return [binary, "-DD", "-E", "-f", BENCH_DIR / "kamailio-proxy.cfg", "-w", workdir,
            "-Y", workdir, "-l", f"udp:127.0.0.1:{port}", "-n", str(workers),
            "-m", str(shm_mb), "-M", str(pkg_mb)]
