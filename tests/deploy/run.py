#!/usr/bin/env python3
# The deployed defaults end to end: deploy/sipproxy.yaml (routing-scripts/default.cfg with auth,
# registrar and relay on) and deploy/rtprelay.yaml, as deploy/run.sh starts them, with only the
# ports and sockets moved to free ones. Checks what an operator gets out of the box: digest
# auth on REGISTER, a wrong password refused, a call to a registered user with proxy auth and
# its media anchored on the relay. One PASS/FAIL line per check, then
# "deploy suite: N passed, N failed".
import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sipp"))
import sipharness as h  # noqa: E402

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
SIPP_SCENARIOS = h.SIPP_DIR / "scenarios"



class Suite:
    def __init__(self, args):
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="strowger-deploy-"))
        self.used = set()
        self.passed = 0
        self.failed = 0
        self.procs = []

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}", flush=True)

    def deployed_configs(self):
        """Copies of the deployed files with free ports and sockets in the work dir."""
        port = h.free_port(self.used)
        yaml = (h.REPO / "deploy" / "sipproxy.yaml").read_text()
        yaml = yaml.replace("port: 5060", f"port: {port}")
        yaml = yaml.replace("/run/strowger/sipproxy.sock", str(self.work / "sipproxy.sock"))
        yaml = yaml.replace("file: ../routing-scripts/default.cfg",
                            f"file: {h.REPO / 'routing-scripts' / 'default.cfg'}")
        (self.work / "sipproxy.yaml").write_text(yaml)
        shutil.copy(h.REPO / "deploy" / "subscribers.yaml", self.work / "subscribers.yaml")
        relay = (h.REPO / "deploy" / "rtprelay.yaml").read_text()
        relay = relay.replace("/run/strowger/rtprelay.sock", str(self.work / "rtprelay.sock"))
        relay = relay.replace("workers: 0 ", "workers: 1 ")
        (self.work / "rtprelay.yaml").write_text(relay)
        return port

    def register_xml(self, final):
        path = self.work / f"uac_register_{final}.xml"
        text = (SCENARIOS / "uac_register_auth.xml").read_text()
        path.write_text(text.replace('response="FINAL"', f'response="{final}"'))
        return path

    def sipctl(self, socket, *args):
        sipctl = Path(self.args.bin).resolve().parent / "sipctl"
        return subprocess.run([str(sipctl), "-s", str(socket), "-j", *args], capture_output=True,
                              text=True, timeout=20)

    def sipp(self, name, xml, port, remote, extra):
        base = self.work / name
        cmd = [self.args.sipp, "-sf", xml, "-i", "127.0.0.1", "-p", h.free_port(self.used),
               f"127.0.0.1:{remote}", "-m", "1", "-nostdin", "-timeout", "15s", "-timeout_error",
               "-trace_err", "-error_file", f"{base}_err.log", "-trace_logs", "-log_file",
               f"{base}_log.log", *extra]
        out = open(f"{base}_stdout.log", "wb")
        proc = h.spawn(cmd, out, cwd=self.work)
        proc.out = out
        self.procs.append(proc)
        return proc, base

    def run(self):
        port = self.deployed_configs()
        relay_bin = Path(self.args.bin).resolve().parent / "rtprelay"
        relay = None
        try:
            relay = h.ProxyProcess([relay_bin, "-c", self.work / "rtprelay.yaml"],
                                   self.work / "rtprelay.log", cwd=self.work)
            relay.start()
            proxy = h.ProxyProcess([self.args.bin, "-c", self.work / "sipproxy.yaml"],
                                   self.work / "sipproxy.log", cwd=self.work)
            proxy.start()
            ready = proxy.wait_ready("127.0.0.1", port, timeout_s=20)
            self.check("sipproxy starts on the deployed config and answers OPTIONS", ready,
                       h.tail(self.work / "sipproxy.log", 20))
            if not ready:
                return
            self.check("rtprelay starts on the deployed config", relay.alive(),
                       h.tail(self.work / "rtprelay.log", 20))

            uac, base = self.sipp("register", self.register_xml(200), 0, port,
                                  ["-s", "alice", "-au", "alice", "-ap", "alice-demo-secret"])
            rc = uac.wait(timeout=30)
            self.check("REGISTER: 401 challenge, then 200 with the demo credentials", rc == 0,
                       h.tail(f"{base}_err.log", 10))
            uac, base = self.sipp("wrong", self.register_xml(401), 0, port,
                                  ["-s", "bob", "-au", "bob", "-ap", "not-the-password"])
            rc = uac.wait(timeout=30)
            self.check("REGISTER with a wrong password: challenged again (401)", rc == 0,
                       h.tail(f"{base}_err.log", 10))

            # bob: a SIPp UAS whose binding is added by the operator command.
            uas_port = h.free_port(self.used)
            out = open(self.work / "uas_stdout.log", "wb")
            uas = h.spawn([self.args.sipp, "-sf", SIPP_SCENARIOS / "uas_call.xml", "-i",
                           "127.0.0.1", "-p", uas_port, "-m", "1", "-nostdin", "-timeout", "30s"],
                          out, cwd=self.work)
            uas.out = out
            self.procs.append(uas)
            r = self.sipctl(self.work / "sipproxy.sock", "ul.add", "aor=bob",
                            f"contact=sip:bob@127.0.0.1:{uas_port}", "expires=60")
            self.check("sipctl ul.add bob", r.returncode == 0, r.stderr + r.stdout)
            time.sleep(0.3)
            uac, base = self.sipp("call", SCENARIOS / "uac_call_auth.xml", 0, port,
                                  ["-s", "bob", "-au", "alice", "-ap", "alice-demo-secret"])
            rc = uac.wait(timeout=40)
            urc = uas.wait(timeout=10) if rc == 0 else None
            self.check("call alice -> bob: 407, authenticated INVITE, 200, ACK, BYE",
                       rc == 0 and urc == 0, h.tail(f"{base}_err.log", 10))
            log = Path(f"{base}_log.log")
            m = re.search(r"answer media c=IN IP4 ([0-9.]+) m=audio ([0-9]+)",
                          log.read_text() if log.exists() else "")
            anchored = m is not None and 30000 <= int(m.group(2)) <= 40000
            self.check("the answer's media points at rtprelay (a port of its range)", anchored,
                       m.group(0) if m else "no answer SDP logged")
            r = self.sipctl(self.work / "rtprelay.sock", "relay.list")
            calls = json.loads(r.stdout).get("count", 0) if r.returncode == 0 else -1
            # The relay keeps a deleted call for its delete-delay (30 s): the call is listed.
            self.check("rtprelay saw the call (relay.list)", calls >= 1, r.stdout + r.stderr)
            self.check("sipproxy still alive", proxy.alive())
            rc = proxy.stop()
            report = h.sanitizer_report(proxy.log_text())
            self.check("sipproxy stops cleanly on SIGTERM", rc == 0 and not report,
                       f"exit {rc} {report or ''}")
        finally:
            for p in self.procs:
                h.kill_group(p)
                p.wait()
            if relay is not None:
                relay.stop()
        print(f"deploy suite: {self.passed} passed, {self.failed} failed")
        if self.failed == 0 and not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            print(f"logs in {self.work}")


def main():
    h.exit_on_sigterm()
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", default=str(h.DEFAULT_BIN), help="sipproxy (rtprelay, sipctl beside it)")
    ap.add_argument("--sipp", default=shutil.which("sipp") or "/usr/bin/sipp")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.bin = str(Path(args.bin).resolve())  # the daemons run in the work dir
    suite = Suite(args)
    suite.run()
    return 0 if suite.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
