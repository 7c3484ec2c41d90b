# Shared plumbing of the suites that run sipproxy as deployed (auth, deploy, websocket, webrtc):
# the PASS/FAIL bookkeeping and summary, children killed by PID, dev certificates, npm modules,
# the tls: section, starting sipproxy, sipctl (python3 stdlib only).
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import sipharness as h

MAKE_CERTS = h.REPO / "certs" / "make-dev-certs.sh"


def descendants(root):
    """PIDs of every process below root (from /proc), deepest last."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def wait(p, timeout_s):
    """The exit code, or "timeout" after killing the process group."""
    try:
        return p.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        h.kill_group(p)
        return "timeout"


def missing_tool(suite, tools):
    """The first of tools that is not executable, with its FAIL line and the suite's summary
    printed; None when all are."""
    for tool in tools:
        if not os.access(tool, os.X_OK):
            print(f"FAIL prerequisites: {tool} not executable")
            print(f"{suite} suite: 0 passed, 1 failed")
            return tool
    return None


class Suite:
    """A runner's work dir, the ports it took, its PASS/FAIL lines and the children it started
    (each with its log file; killed by PID at the end)."""

    def __init__(self, args, name, prefix):
        self.args = args
        self.name = name
        self.work = Path(tempfile.mkdtemp(prefix=prefix))
        self.used = set()
        self.passed = 0
        self.failed = 0
        self.children = []  # (name, Popen, log file)

    def result(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            verbose = getattr(self.args, "verbose", False)
            print(f"PASS {name}" + (f" ({detail})" if detail and verbose else ""))
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}")
        sys.stdout.flush()
        return ok

    def spawn(self, name, cmd, cwd=None, env=None):
        out = open(self.work / f"{name}.log", "wb")
        p = h.spawn(cmd, out, cwd=cwd, env=env)
        self.children.append((name, p, out))
        return p

    def wait(self, p, timeout_s):
        return wait(p, timeout_s)

    def kill_children(self, with_descendants=False):
        """with_descendants: processes that left the child's group (Chromium under playwright)
        are killed by PID first, while they are still findable below it."""
        for _, p, out in self.children:
            for pid in descendants(p.pid) if with_descendants else ():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            h.kill_group(p)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            out.close()
        self.children = []

    def sanitizer_check(self, logs, title="no sanitizer report in the proxy log", always=False):
        """One check over the proxy logs that exist; none: no check unless always."""
        logs = [log for log in logs if log is not None and log.exists()]
        if not logs and not always:
            return
        reports = [f"{log}: {r}" for log in logs
                   if (r := h.sanitizer_report(log.read_text(errors="replace")))]
        self.result(title, not reports, "; ".join(reports))

    def summary(self):
        """The summary line; the work dir goes unless something failed or --keep. Exit code."""
        print(f"{self.name} suite: {self.passed} passed, {self.failed} failed")
        if self.failed == 0 and not getattr(self.args, "keep", False):
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            print(f"(logs in {self.work})")
        return 0 if self.failed == 0 else 1


def recv_head(sock):
    """Reads up to the blank line that ends an HTTP or SIP head (less at EOF): what came."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def make_dev_certs(out):
    """certs/make-dev-certs.sh into out (CA, server certificate and key): None or the error."""
    r = subprocess.run(["sh", str(MAKE_CERTS), "-o", str(out)], capture_output=True, text=True,
                       timeout=120)
    return None if r.returncode == 0 else f"make-dev-certs.sh: {r.stderr.strip()}"


def npm_modules(folder, present, env=None):
    """npm ci (npm install without a lock) in folder unless every path of `present` (relative
    to its node_modules) exists: None or the error."""
    if all((folder / "node_modules" / p).exists() for p in present):
        return None
    verb = "ci" if (folder / "package-lock.json").exists() else "install"
    try:
        r = subprocess.run(["npm", verb, "--prefix", str(folder), "--no-audit", "--no-fund"],
                           capture_output=True, text=True, timeout=300, env=env)
    except subprocess.TimeoutExpired:
        return f"npm {verb}: timeout"
    return None if r.returncode == 0 else f"npm {verb}: {r.stderr.strip()[-400:]}"


def append_tls_config(cfg, certs):
    """Adds the tls: section for the dev certificates in certs to a written sipproxy.yaml."""
    with open(cfg, "a") as f:
        f.write(f"tls:\n  certificate: {h._yaml_str(certs / 'server.pem')}\n"
                f"  private_key: {h._yaml_str(certs / 'server.key')}\n"
                f"  ca_list: {h._yaml_str(certs / 'ca.pem')}\n")


def start_sipproxy(binary, cfg, log, port, cwd, env=None):
    """sipproxy -c cfg, ready when it answers OPTIONS on UDP port: (process, None or the log's
    tail). The process is returned either way, for the caller to stop."""
    proxy = h.ProxyProcess([binary, "-c", cfg], log, cwd=cwd, env=env)
    proxy.start()
    if not proxy.wait_ready("127.0.0.1", port, timeout_s=20):
        return proxy, h.tail(log, 20)
    return proxy, None


def sipctl(binary, sock, *args, timeout=10):
    """sipctl -s sock args...: the finished process (text output)."""
    return subprocess.run([str(binary), "-s", str(sock), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)
