#!/usr/bin/env python3
"""Registrar suite: sipproxy with usrloc+registrar driven by SIPp (register, refresh, unregister,
expiry, 423, wildcard, a call forking to two registered SIPp UAS, a call to a registered user),
sipctl ul.show/ul.rm, and Redis (a real redis-server on a free loopback port): bindings survive
kill -9 and a restart; two proxies on one Redis, register on A, call through B.
One PASS/FAIL line per check, then `registrar suite: N passed, N failed`."""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sipp"))
import sipharness as h  # noqa: E402

HERE = Path(__file__).resolve().parent
SCEN = HERE / "scenarios"
SIPP_SCEN = HERE.parent / "sipp" / "scenarios"


class Suite:
    def __init__(self, args):
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="registrar-suite-"))
        self.used = set()
        self.passed = self.failed = 0
        self.procs = []

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}")
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}")
        sys.stdout.flush()

    # ---- daemons ---------------------------------------------------------------------------

    def start_redis(self):
        port = h.free_port(self.used)
        log = open(self.work / "redis.log", "wb")
        proc = h.spawn([self.args.redis, "--port", port, "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--dir", self.work], log)
        self.procs.append(proc)
        for _ in range(50):
            r = subprocess.run([self.args.redis_cli, "-p", str(port), "ping"],
                               capture_output=True, text=True)
            if r.stdout.strip() == "PONG":
                return proc, port
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def start_proxy(self, name, redis_port=None, port=None):
        port = port or h.free_port(self.used)
        d = self.work / name
        d.mkdir(exist_ok=True)
        script = (HERE / "routing.cfg.in").read_text()
        script = script.replace("@DB_MODE@", "1" if redis_port else "0")
        script = script.replace("@REDIS_URL@", f"redis://127.0.0.1:{redis_port}/0" if redis_port else "")
        (d / "routing.cfg").write_text(script)
        h.write_sipproxy_config(d / "sipproxy.yaml", [("udp", "127.0.0.1", port)], workers=2,
                                control_socket=d / "sipproxy.sock", script=d / "routing.cfg")
        p = h.ProxyProcess([self.args.bin, "-c", d / "sipproxy.yaml"], d / "sipproxy.log", cwd=d)
        p.start()
        p.port, p.dir = port, d
        if not p.wait_ready("127.0.0.1", port, timeout_s=30):
            raise RuntimeError(f"{name} did not start: {h.tail(d / 'sipproxy.log', 20)}")
        return p

    def sipctl(self, proxy, *args):
        r = subprocess.run([self.args.sipctl, "-s", proxy.dir / "sipproxy.sock", "--json", *args],
                           capture_output=True, text=True, timeout=10)
        try:
            return r.returncode, json.loads(r.stdout) if r.stdout.strip() else None
        except json.JSONDecodeError:
            return r.returncode, r.stdout

    # ---- SIPp ------------------------------------------------------------------------------

    def sipp(self, xml, proxy, user, keys=(), extra=(), timeout=20):
        port = h.free_port(self.used)
        base = self.work / f"sipp_{xml.stem}_{port}"
        cmd = [self.args.sipp, f"127.0.0.1:{proxy.port}", "-sf", xml, "-i", "127.0.0.1", "-p", port,
               "-s", user, "-m", "1", "-nostdin", "-timeout", f"{timeout}s", "-timeout_error",
               "-trace_err", "-error_file", f"{base}_err.log", *extra]
        for k, v in keys:
            cmd += ["-key", k, v]
        r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=self.work,
                           timeout=timeout + 10)
        return r.returncode == 0, (r.stdout[-400:] + h.tail(f"{base}_err.log", 5))

    def register(self, proxy, user, contact, expires, code=200):
        return self.sipp(SCEN / f"uac_register_{code}.xml", proxy, user,
                         keys=[("contact", contact), ("expires", str(expires))])

    def uas(self, xml, delay_ms=0):
        port = h.free_port(self.used)
        base = self.work / f"uas_{port}"
        out = open(f"{base}.log", "wb")
        proc = h.spawn([self.args.sipp, "-sf", SIPP_SCEN / xml, "-i", "127.0.0.1", "-p", port,
                        "-m", "1", "-d", delay_ms, "-nostdin", "-timeout", "30s"], out, cwd=self.work)
        self.procs.append(proc)
        time.sleep(0.3)
        return proc, port

    def call(self, proxy, user):
        return self.sipp(SIPP_SCEN / "uac_call.xml", proxy, user, extra=["-recv_timeout", "10000"])

    def bindings(self, proxy, aor):
        rc, out = self.sipctl(proxy, "ul.show", f"aor={aor}")
        if rc != 0 or not isinstance(out, dict):
            return []
        return out.get("contacts", out.get("result", {}).get("contacts", []))

    # ---- checks ----------------------------------------------------------------------------

    def memory_checks(self):
        a = self.start_proxy("mem")
        c = "<sip:alice@127.0.0.1:5999>"
        ok, d = self.register(a, "alice", c, 60)
        self.check("register: 200 OK", ok, d)
        b = self.bindings(a, "alice")
        self.check("register: ul.show lists the binding", len(b) == 1 and 50 < b[0]["expires"] <= 60, b)
        ok, d = self.register(a, "alice", c, 120)
        b = self.bindings(a, "alice")
        self.check("refresh: expires extended", ok and len(b) == 1 and b[0]["expires"] > 100, d or b)
        ok, d = self.register(a, "alice", c, 10, code=423)
        self.check("expires below min_expires: 423", ok, d)
        ok, d = self.register(a, "alice", c, 0)
        self.check("unregister (Expires: 0): binding gone", ok and self.bindings(a, "alice") == [], d)
        self.register(a, "alice", "<sip:alice@127.0.0.1:5998>", 60)
        self.register(a, "alice", "<sip:alice@127.0.0.1:5997>", 60)
        ok, d = self.register(a, "alice", "*", 60, code=400)
        self.check("wildcard with Expires != 0: 400", ok, d)
        ok, d = self.register(a, "alice", "*", 0)
        self.check("wildcard with Expires: 0 removes all", ok and self.bindings(a, "alice") == [], d)
        # Expiry: shortest allowed registration, then the timer removes it.
        ok, _ = self.register(a, "exp", "<sip:exp@127.0.0.1:5996>", 30)
        rc, out = self.sipctl(a, "ul.dump")
        self.check("ul.dump shows the table", rc == 0 and "exp" in json.dumps(out), out)
        # Call to a registered user.
        uas, port = self.uas("uas_call.xml")
        ok, d = self.register(a, "bob", f"<sip:bob@127.0.0.1:{port}>", 60)
        ok2, d2 = self.call(a, "bob")
        self.check("call to a registered user", ok and ok2 and uas.wait(timeout=15) == 0, d + d2)
        ok, d = self.call(a, "nobody")
        self.check("call to an unregistered user fails (404)", not ok, d)
        # Two contacts for one AOR: the call forks to both, one answers, the other is CANCELed.
        u1, p1 = self.uas("uas_call.xml", delay_ms=500)
        u2, p2 = self.uas("uas_cancel.xml")
        self.register(a, "carol", f"<sip:carol@127.0.0.1:{p1}>", 60)
        self.register(a, "carol", f"<sip:carol@127.0.0.1:{p2}>", 60)
        self.check("two contacts registered for one AOR", len(self.bindings(a, "carol")) == 2)
        ok, d = self.call(a, "carol")
        r1, r2 = u1.wait(timeout=15), u2.wait(timeout=15)
        self.check("call forks to both contacts (one answers, one CANCELed)",
                   ok and r1 == 0 and r2 == 0, f"{d} uas rc {r1} {r2}")
        rc, out = self.sipctl(a, "ul.rm", "aor=carol", f"contact=sip:carol@127.0.0.1:{p1}")
        self.check("sipctl ul.rm of one contact", rc == 0 and len(self.bindings(a, "carol")) == 1, out)
        rc, out = self.sipctl(a, "ul.rm", "aor=nosuch")
        self.check("sipctl ul.rm of an unknown AOR is an error", rc != 0, out)
        rc, out = self.sipctl(a, "ul.add", "aor=dave", "contact=sip:dave@127.0.0.1:5990",
                              "expires=60")
        self.check("sipctl ul.add", rc == 0 and len(self.bindings(a, "dave")) == 1, out)
        time.sleep(31.5)
        self.check("expired binding removed by the timer", self.bindings(a, "exp") == [])
        self.check("proxy alive after the memory checks", a.alive())
        a.stop()

    def redis_checks(self):
        redis, rport = self.start_redis()
        a = self.start_proxy("redis_a", redis_port=rport)
        ok, d = self.register(a, "erin", "<sip:erin@127.0.0.1:5980>", 600)
        time.sleep(0.3)
        keys = subprocess.run([self.args.redis_cli, "-p", str(rport), "keys", "ul:*"],
                              capture_output=True, text=True).stdout.split()
        self.check("redis: REGISTER written through", ok and "ul:erin" in keys, keys)
        h.kill_group(a.proc)  # kill -9
        a.proc.wait()
        a2 = self.start_proxy("redis_a2", redis_port=rport, port=a.port)
        b = self.bindings(a2, "erin")
        self.check("redis: binding survives kill -9 and a restart", len(b) == 1, b)
        # Two proxies on one Redis: register on A, call through B.
        b_proxy = self.start_proxy("redis_b", redis_port=rport)
        uas, port = self.uas("uas_call.xml")
        ok, d = self.register(a2, "frank", f"<sip:frank@127.0.0.1:{port}>", 600)
        time.sleep(0.5)
        ok2, d2 = self.call(b_proxy, "frank")
        self.check("redis: register on A, call through B", ok and ok2 and uas.wait(timeout=15) == 0,
                   d + d2)
        # Redis goes away: registrations still work from memory; back: the table is resynced.
        h.kill_group(redis)
        redis.wait()
        ok, d = self.register(a2, "gina", "<sip:gina@127.0.0.1:5970>", 600)
        self.check("redis down: REGISTER still 200, served from memory",
                   ok and len(self.bindings(a2, "gina")) == 1, d)
        log = (a2.dir / "sipproxy.log").read_text(errors="replace")
        self.check("redis down: logged once", log.count("unreachable") == 1, log[-600:])
        redis2 = h.spawn([self.args.redis, "--port", rport, "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", self.work], open(self.work / "redis2.log", "wb"))
        self.procs.append(redis2)
        deadline = time.monotonic() + 10
        keys = []
        while time.monotonic() < deadline:
            keys = subprocess.run([self.args.redis_cli, "-p", str(rport), "keys", "ul:*"],
                                  capture_output=True, text=True).stdout.split()
            if "ul:gina" in keys:
                break
            time.sleep(0.3)
        self.check("redis back: table resynced (gina written)", "ul:gina" in keys, keys)
        for p in (a2, b_proxy):
            p.stop()

    def run(self):
        try:
            self.memory_checks()
            self.redis_checks()
        except Exception as e:  # noqa: BLE001 - a crash of the runner is a failed check
            import traceback
            traceback.print_exc()
            self.check("suite ran to the end", False, repr(e))
        finally:
            for p in self.procs:
                h.kill_group(p)
        # Every proxy this suite ran (ASan/UBSan builds too): no sanitizer report in any log.
        reports = [f"{log}: {r}" for log in sorted(self.work.glob("**/sipproxy.log"))
                   if (r := h.sanitizer_report(log.read_text(errors="replace")))]
        self.check("no sanitizer report in the proxy logs", not reports, "; ".join(reports))
        print(f"registrar suite: {self.passed} passed, {self.failed} failed")
        if self.failed == 0 and not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            print(f"logs in {self.work}")
        return 0 if self.failed == 0 else 1


def main():
    h.exit_on_sigterm()
    repo = HERE.parents[1]
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", default=str(repo / "build" / "bin" / "sipproxy"))
    ap.add_argument("--sipctl", default=None)
    ap.add_argument("--sipp", default="sipp")
    ap.add_argument("--redis", default="redis-server")
    ap.add_argument("--redis-cli", default="redis-cli")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    args.bin = str(Path(args.bin).resolve())
    if args.sipctl is None:
        args.sipctl = str(Path(args.bin).resolve().parent / "sipctl")
    sys.exit(Suite(args).run())


if __name__ == "__main__":
    main()
