#!/usr/bin/env python3
# NAT tests: sipproxy with tests/nat/nat.cfg (registrar + nathelper) on free loopback ports and
# SIPp UAs whose Contacts name private addresses they do not send from. 1) a NATed callee
# registers, a caller reaches it at its real loopback port, ACK and BYE follow the alias;
# 2) (-D WITH_NATPING) OPTIONS pings reach a NATed binding, which is removed once its UA is gone.
# Everything is sent to 127.0.0.1 only: the private addresses are never destinations (a request
# sent there would not reach SIPp and the scenario would fail). Needs the core's
# ModuleHost::send/on_reply. Usage: tests/nat/run.py [--build DIR] [--sipp PATH]
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "sipp"))
import sipharness as h  # noqa: E402


class Run:
    def __init__(self, args, workdir):
        self.args = args
        self.build = Path(args.build)
        self.workdir = workdir
        self.used = set()
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + detail), flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1

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
            raise RuntimeError(f"sipproxy ({tag}) did not start")
        return proxy, port, sock

    def sipp(self, xml, port, proxy_port, tag, timeout_s=20):
        cmd = [self.args.sipp, "-sf", HERE / "scenarios" / xml, "-i", "127.0.0.1", "-p", port,
               "-m", "1", "-timeout", f"{timeout_s}s", "-timeout_error", "-trace_err",
               "-trace_msg", "-message_file", self.workdir / f"{tag}_msg.log",
               "-error_file", self.workdir / f"{tag}_err.log", f"127.0.0.1:{proxy_port}"]
        return h.spawn(cmd, open(self.workdir / f"{tag}.out", "wb"), cwd=self.workdir)

    def sipctl(self, sock, *args):
        out = subprocess.run([str(self.build / "bin" / "sipctl"), "-s", str(sock), "--json",
                              *args], capture_output=True, text=True, timeout=10)
        return json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip() else None

    def call_through_alias(self):
        proxy, pport, _ = self.start_proxy("call", [])
        callee = caller = None
        try:
            callee_port = h.free_port(self.used)
            callee = self.sipp("callee_register_answer.xml", callee_port, pport, "callee")
            time.sleep(1.0)  # the REGISTER is in before the call
            caller = self.sipp("caller.xml", h.free_port(self.used), pport, "caller")
            rc_caller = caller.wait(timeout=30)
            rc_callee = callee.wait(timeout=30)
            self.check("NATed callee reached at its source port; ACK and BYE through the alias",
                       rc_caller == 0 and rc_callee == 0,
                       f"caller rc={rc_caller} callee rc={rc_callee}; see {self.workdir}")
            msgs = (self.workdir / "callee_msg.log").read_text(errors="replace")
            self.check("the callee's INVITE went to its source, its 200 got the alias",
                       "alias=127.0.0.1~" + str(callee_port) + "~1" in
                       (self.workdir / "caller_msg.log").read_text(errors="replace")
                       and "INVITE sip:natbob@192.168.1.10:5062" in msgs,
                       "no alias in the caller's 200 or wrong R-URI")
        finally:
            for p in (callee, caller):
                if p is not None:
                    h.kill_group(p)
            proxy.stop()

    def keepalive(self):
        proxy, pport, sock = self.start_proxy("ping", ["WITH_NATPING"])
        ua = None
        try:
            ua = self.sipp("pinged_register.xml", h.free_port(self.used), pport, "pinged")
            rc = ua.wait(timeout=30)
            self.check("OPTIONS pings reach the NATed binding at its source", rc == 0,
                       f"sipp rc={rc}; see {self.workdir}")
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
                time.sleep(1)
            self.check("the silent binding is removed (ul.show)",
                       shown is not None and "natping" not in json.dumps(shown),
                       json.dumps(shown))
        finally:
            if ua is not None:
                h.kill_group(ua)
            proxy.stop()


def main():
    h.exit_on_sigterm()
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=str(h.REPO / "build"))
    ap.add_argument("--sipp", default="sipp")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="strowger-nat-"))
    run = Run(args, workdir)
    for test in (run.call_through_alias, run.keepalive):
        try:
            test()
        except Exception as e:  # a harness failure counts as a failed test, the next one runs
            run.check(test.__name__, False, repr(e))
    print(f"{run.passed} passed, {run.failed} failed")
    return 0 if run.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
