#!/usr/bin/env python3
# NAT tests: sipproxy with tests/nat/nat.cfg (registrar + nathelper) on free loopback ports and
# SIPp UAs whose Contacts name private addresses they do not send from. 1) a NATed callee
# registers, a caller reaches it at its real loopback port, ACK and BYE follow the alias;
# 2) (-D WITH_NATPING) OPTIONS pings reach a NATed binding, which is removed once its UA is gone.
# A UA is two SIPp runs on one local port: register.xml (a UAC: SIPp maps its 200 by the Call-ID
# it generated), then a UAS scenario for what the proxy sends it (new Call-IDs, new SIPp calls).
# Everything goes to 127.0.0.1: the private addresses must never be destinations; the runner
# re-executes itself in a new network namespace (only lo) when it can, so nothing could leave
# the host, and fails if the proxy tried to send to one. Needs the core's ModuleHost::send /
# on_reply. Usage: tests/nat/run.py [--build DIR] [--sipp PATH] [--keep] [--no-netns]
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "sipp"))
import sipharness as h  # noqa: E402

PRIVATE_ADDRESSES = ("192.168.1.10", "10.20.30.40")  # the scenarios' Contacts and Vias
IN_NETNS_ENV = "STROWGER_NAT_IN_NETNS"


class Run:
    def __init__(self, args, workdir):
        self.args = args
        self.build = Path(args.build).resolve()
        self.workdir = workdir
        self.used = set()
        self.passed = 0
        self.failed = 0
        self.children = []  # every SIPp we started, killed by PID at the end of each test

    def check(self, name, ok, detail=""):
        print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + detail), flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    def start_proxy(self, tag, defines):
        port = h.free_port(self.used)
        sock = self.workdir / f"{tag}.sock"
        cfg = self.workdir / f"{tag}.yaml"
        h.write_sipproxy_config(cfg, [("udp", "127.0.0.1", port)], workers=2,
                                control_socket=sock, script=HERE / "nat.cfg", defines=defines,
                                log_level="debug")
        proxy = h.ProxyProcess([self.build / "bin" / "sipproxy", "-c", cfg],
                               self.workdir / f"{tag}.log")
        proxy.start()
        if not proxy.wait_ready("127.0.0.1", port):
            print(h.tail(proxy.log_path))
            proxy.stop()
            raise RuntimeError(f"sipproxy ({tag}) did not start; log {proxy.log_path}")
        return proxy, port, sock

    def sipp(self, xml, port, proxy_port, tag, extra=(), timeout_s=20):
        cmd = [self.args.sipp, "-sf", HERE / "scenarios" / xml, "-i", "127.0.0.1", "-p", port,
               *extra, "-nostdin", "-timeout", f"{timeout_s}s", "-timeout_error", "-trace_err",
               "-trace_msg", "-message_file", self.workdir / f"{tag}_msg.log",
               "-error_file", self.workdir / f"{tag}_err.log", f"127.0.0.1:{proxy_port}"]
        out = open(self.workdir / f"{tag}.out", "wb")
        proc = h.spawn(cmd, out, cwd=self.workdir)
        out.close()  # the child has its own copy
        self.children.append(proc)
        return proc

    def wait(self, proc, timeout_s):
        """The SIPp run's exit code, or 'hung' after killing it (by PID)."""
        try:
            return proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            h.kill_group(proc)
            proc.wait()
            return "hung"

    def kill_children(self):
        for proc in self.children:
            h.kill_group(proc)
            proc.wait()
        self.children.clear()

    def register(self, user, port, proxy_port, tag):
        """A NATed UA registers from `port`; raises when it got no 200 (nothing else can pass)."""
        rc = self.wait(self.sipp("register.xml", port, proxy_port, tag,
                                 ["-s", user, "-m", "1"], timeout_s=10), 15)
        if rc != 0:
            raise RuntimeError(f"REGISTER of {user} failed (sipp rc={rc}); see "
                               f"{self.workdir / (tag + '_msg.log')}, {tag}_err.log")

    def answer(self, xml, port, proxy_port, tag, calls, timeout_s):
        """The UA's answering side on the port it registered from, once SIPp has bound it."""
        proc = self.sipp(xml, port, proxy_port, tag, ["-m", str(calls)], timeout_s=timeout_s)
        if not wait_bound(proc, port):
            raise RuntimeError(f"{tag}: sipp did not bind 127.0.0.1:{port}: "
                               + h.tail(self.workdir / f"{tag}.out", 5))
        return proc

    def stop_proxy(self, proxy):
        """A proxy that died during a test (a crash says nothing on the wire) fails it."""
        alive = proxy.alive()
        rc = proxy.stop()
        self.check(f"sipproxy ran to the end and stopped cleanly ({proxy.log_path.name})",
                   alive and rc == 0, f"alive={alive} exit={rc}; log {proxy.log_path}")

    def read(self, name):
        try:
            return (self.workdir / name).read_text(errors="replace")
        except OSError:
            return ""

    def check_no_private_destination(self, proxy_log):
        """Every send to a private address would fail here (source 127.0.0.1, or no route in the
        namespace) and the transport logs it at debug level."""
        bad = [line for line in self.read(proxy_log).splitlines()
               if ("sendto" in line or "send to" in line or "connect to" in line)
               and any(a in line for a in PRIVATE_ADDRESSES)]
        self.check(f"nothing sent to a private Contact address ({proxy_log})", not bad,
                   "; ".join(bad[:3]))

    def call_through_alias(self):
        proxy, pport, _ = self.start_proxy("call", [])
        try:
            callee_port = h.free_port(self.used)
            self.register("natbob", callee_port, pport, "callee_reg")
            callee = self.answer("callee_answer.xml", callee_port, pport, "callee", 1, 20)
            caller = self.sipp("caller.xml", h.free_port(self.used), pport, "caller",
                               ["-m", "1"], timeout_s=20)
            rc_caller = self.wait(caller, 30)
            rc_callee = self.wait(callee, 10)
            self.check("NATed callee reached at its source port; ACK and BYE through the alias",
                       rc_caller == 0 and rc_callee == 0,
                       f"caller rc={rc_caller} callee rc={rc_callee}; see {self.workdir}")
            callee_msgs = self.read("callee_msg.log")
            caller_msgs = self.read("caller_msg.log")
            alias = f"alias=127.0.0.1~{callee_port}~1"
            self.check("the callee's INVITE kept its Contact as R-URI; its 200 got the alias",
                       alias in caller_msgs
                       and "INVITE sip:natbob@192.168.1.10:5062 SIP/2.0" in callee_msgs,
                       f"{alias} in the caller's 200: {alias in caller_msgs}; R-URI "
                       f"sip:natbob@192.168.1.10:5062 at the callee: "
                       f"{'INVITE sip:natbob@192.168.1.10:5062' in callee_msgs}")
            # handle_ruri_alias() consumed the alias: the callee sees its own Contact back.
            self.check("ACK and BYE reach the callee with the alias removed from the R-URI",
                       "ACK sip:natbob@192.168.1.10:5062 SIP/2.0" in callee_msgs
                       and "BYE sip:natbob@192.168.1.10:5062 SIP/2.0" in callee_msgs,
                       "see " + str(self.workdir / "callee_msg.log"))
        finally:
            self.kill_children()
            self.stop_proxy(proxy)
        self.check_no_private_destination("call.log")

    def keepalive(self):
        proxy, pport, sock = self.start_proxy("ping", ["WITH_NATPING"])
        try:
            port = h.free_port(self.used)
            self.register("natping", port, pport, "pinged_reg")
            shown = self.sipctl(sock, "ul.show")
            self.check("the NATed binding is saved (ul.show)", "natping" in json.dumps(shown),
                       json.dumps(shown))
            ua = self.answer("ping_answer.xml", port, pport, "pinged", 2, 15)
            rc = self.wait(ua, 20)
            self.check("OPTIONS pings reach the NATed binding at its source", rc == 0,
                       f"sipp rc={rc}; see {self.workdir / 'pinged_msg.log'}")
            pings = self.read("pinged_msg.log")
            self.check("the pings name the private Contact, sipping_from in From",
                       "OPTIONS sip:natping@192.168.1.10:5062 SIP/2.0" in pings
                       and "From: <sip:pinger@strowger.test>" in pings,
                       "see " + str(self.workdir / "pinged_msg.log"))
            stats = self.sipctl(sock, "nathelper.stats") or {}
            self.check("pings answered (nathelper.stats)", stats.get("replies", 0) >= 2,
                       json.dumps(stats))
            # the UA is gone: keepalive_timeout 4 s at 1 s pings
            deadline = time.monotonic() + 15
            shown = None
            while time.monotonic() < deadline:
                shown = self.sipctl(sock, "ul.show")
                if shown is not None and "natping" not in json.dumps(shown):
                    break
                time.sleep(0.5)
            self.check("the silent binding is removed (ul.show)",
                       shown is not None and "natping" not in json.dumps(shown),
                       json.dumps(shown))
            stats = self.sipctl(sock, "nathelper.stats") or {}
            self.check("the removal is counted (nathelper.stats)", stats.get("removed") == 1,
                       json.dumps(stats))
        finally:
            self.kill_children()
            self.stop_proxy(proxy)
        self.check_no_private_destination("ping.log")

    def sipctl(self, sock, *args):
        out = subprocess.run([str(self.build / "bin" / "sipctl"), "-s", str(sock), "--json",
                              *args], capture_output=True, text=True, timeout=10)
        return json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip() else None


def wait_bound(proc, port, timeout_s=5.0):
    """Until the SIPp child has bound its UDP port (read from /proc/net/udp), or exited."""
    want = f":{port:04X}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with open("/proc/net/udp") as f:
            if any(line.split()[1].endswith(want) for line in f.readlines()[1:]):
                return True
        time.sleep(0.05)
    return False


def reexec_in_netns():
    """Runs this runner again in a new network namespace with only lo up; its exit code, or None
    when namespaces are not available here (the tests then run on the host's loopback)."""
    if os.environ.get(IN_NETNS_ENV) or not shutil.which("unshare") or not shutil.which("ip"):
        return None
    inner = ["ip link set lo up && exec \"$@\"", "netns",
             sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]]
    env = dict(os.environ, **{IN_NETNS_ENV: "1"})
    for unshare in (["unshare", "--net"], ["unshare", "--map-root-user", "--net"]):
        probe = subprocess.run([*unshare, "ip", "link", "set", "lo", "up"],
                               capture_output=True, timeout=10)
        if probe.returncode != 0:
            continue
        proc = h.spawn([*unshare, "sh", "-c", *inner], None, env=env)
        try:
            return proc.wait()
        finally:
            h.kill_group(proc)
    return None


def main():
    h.exit_on_sigterm()
    ap = argparse.ArgumentParser(description="NAT end-to-end tests (nathelper + registrar)")
    ap.add_argument("--build", default=str(h.REPO / "build"))
    ap.add_argument("--sipp", default="sipp")
    ap.add_argument("--keep", action="store_true", help="keep the logs even when all pass")
    ap.add_argument("--no-netns", action="store_true",
                    help="run on the host's loopback instead of a new network namespace")
    args = ap.parse_args()
    if not args.no_netns:
        rc = reexec_in_netns()
        if rc is not None:
            return rc
        if not os.environ.get(IN_NETNS_ENV):
            print("note: no network namespace available; running on the host's loopback")
    workdir = Path(tempfile.mkdtemp(prefix="strowger-nat-"))
    print(f"logs in {workdir}", flush=True)
    run = Run(args, workdir)
    started = time.monotonic()
    for test in (run.call_through_alias, run.keepalive):
        try:
            test()
        except Exception as e:  # a harness failure counts as a failed test, the next one runs
            run.check(test.__name__, False, repr(e))
        finally:
            run.kill_children()
    print(f"nat suite took {time.monotonic() - started:.1f} s")
    print(f"nat suite: {run.passed} passed, {run.failed} failed")
    if run.failed == 0 and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"logs kept in {workdir}")
    return 0 if run.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
