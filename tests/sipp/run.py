#!/usr/bin/env python3
# SIPp suite: starts the proxy (sipproxy, or Kamailio with --peer kamailio) on free loopback
# ports, runs each scenario (SIPp UAS children + one SIPp UAC), stops everything by PID and
# prints one PASS/FAIL line per scenario and a summary.
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sipharness as h  # noqa: E402

SCENARIO_DIR = h.SIPP_DIR / "scenarios"
T1_MS = 100          # timer B = 64*T1 = 6.4 s
TIMER_C_MS = 4000    # a ringing branch nobody answers is given up after 4 s
FORK_USER = "fork"
SERIAL_USER = "serial"
LOOP_USER = "loop"
# Routes of the routing script under test: user -> (mode, number of SIPp UAS ports as targets).
# The loop route has no UAS: its only target is the proxy itself (same user).
ROUTES = {FORK_USER: ("parallel", 2), SERIAL_USER: ("serial", 2), LOOP_USER: ("parallel", 0)}


@dataclass
class Uas:
    xml: str
    calls: int
    pause_ms: int = 0          # sipp -d: length of <pause/> without milliseconds
    must_finish: bool = True   # must exit 0 (all its calls completed) shortly after the UAC
    transport: str = ""        # sipp -t for this UAS; empty: the scenario's


@dataclass
class Scenario:
    name: str
    about: str
    uac_xml: str
    calls: int
    uas: list = field(default_factory=list)
    transport: str = "u1"      # sipp -t
    target: str = "uas0"       # R-URI host:port: uas0 | proxy | dead (a port nobody listens on)
    service: str = "callee"    # R-URI user (sipp -s)
    route: str = ""            # ROUTES user whose target ports the UAS listen on
    sipproxy_only: bool = False  # needs a route the Kamailio peer config does not have
    # Exact number of messages whose first line starts with a key that the UAC's message log
    # holds over all calls (catches responses SIPp itself files as retransmissions).
    uac_counts: dict = field(default_factory=dict)
    timeout_s: int = 40
    rate: int = 10             # sipp -r: new calls per second
    limit: int = 5             # sipp -l: simultaneous calls
    during: str = ""           # a Suite method run in a thread while the UAC runs; its error fails


SCENARIOS = [
    Scenario("call_udp", "INVITE/100/180/200/ACK/BYE/200 over UDP, ACK and BYE via Record-Route",
             "uac_call.xml", 10, [Uas("uas_call.xml", 10)]),
    Scenario("call_tcp", "the same call over TCP on both legs",
             "uac_call.xml", 10, [Uas("uas_call.xml", 10)], transport="t1"),
    Scenario("cancel", "caller CANCELs a ringing call: 200 for CANCEL, 487 for the INVITE, ACK",
             "uac_cancel.xml", 5, [Uas("uas_cancel.xml", 5)]),
    Scenario("busy", "486 Busy Here from the callee relayed to the caller, ACKed hop by hop",
             "uac_busy.xml", 5, [Uas("uas_busy.xml", 5)]),
    Scenario("timeout", "callee never answers: the proxy answers 408 when its timer fires",
             "uac_timeout.xml", 1, [Uas("uas_silent.xml", 1, must_finish=False)], timeout_s=40),
    Scenario("fork", "parallel fork to two callees: one answers, the proxy CANCELs the other",
             "uac_call.xml", 3, [Uas("uas_call.xml", 3, pause_ms=400), Uas("uas_cancel.xml", 3)],
             target="proxy", service=FORK_USER, route=FORK_USER),
    Scenario("serial", "serial fork: first callee answers 486 (ACKed), the second 200; caller sees only 200",
             "uac_call.xml", 3, [Uas("uas_busy.xml", 3), Uas("uas_call.xml", 3)],
             target="proxy", service=SERIAL_USER, route=SERIAL_USER, sipproxy_only=True,
             uac_counts={"SIP/2.0 4": 0, "SIP/2.0 5": 0, "SIP/2.0 6": 0}),
    Scenario("loop_options", "route back to the proxy itself: OPTIONS ends with 482 Loop Detected",
             "uac_loop_options.xml", 3, [], target="proxy", service=LOOP_USER, sipproxy_only=True,
             uac_counts={"SIP/2.0 482": 3}),
    Scenario("loop_invite", "route back to the proxy itself: INVITE ends with 482, ACKed",
             "uac_loop_invite.xml", 3, [], target="proxy", service=LOOP_USER, sipproxy_only=True,
             uac_counts={"SIP/2.0 482": 3}),
    Scenario("double_rr", "UDP caller, TCP-only callee: two Record-Route (tcp + udp, r2=on), ACK/BYE cross over",
             "uac_call_to_tcp.xml", 5, [Uas("uas_call_rr2.xml", 5, transport="t1")], service="service"),
    Scenario("options_self", "OPTIONS for the proxy itself (no user part) is answered 200",
             "uac_options.xml", 5, [], target="proxy"),
    Scenario("max_forwards", "a request with Max-Forwards: 0 is answered 483",
             "uac_maxfwd.xml", 5, [], target="dead"),
    Scenario("module_rpc", "the script's loadable module (pike.so) counts requests; sipctl pike.top "
             "shows the caller", "uac_options.xml", 5, [], target="proxy", sipproxy_only=True,
             during="check_pike_top"),
    Scenario("reload_under_load", "20 routing-script reloads (and 2 refused broken scripts) "
             "while calls run: no call fails",
             "uac_call.xml", 150, [Uas("uas_call.xml", 150, pause_ms=300)], sipproxy_only=True,
             rate=30, limit=30, during="reload_script_repeatedly", timeout_s=60),
]

RELOADS = 20


class Suite:
    def __init__(self, args):
        self.args = args
        self.used_ports = set()
        self.workdir = Path(tempfile.mkdtemp(prefix="strowger-sipp-"))
        self.proxy_port = h.free_port(self.used_ports)
        self.route_ports = {user: [h.free_port(self.used_ports) for _ in range(n)]
                            for user, (_, n) in ROUTES.items()}
        self.proxy = None
        self.failed = []
        self.passed = []

    # ---- the proxy under test -------------------------------------------------------------

    def route_targets(self, user):
        if user == LOOP_USER:
            return [f"sip:{LOOP_USER}@127.0.0.1:{self.proxy_port}"]
        return [f"sip:{user}@127.0.0.1:{p}" for p in self.route_ports[user]]

    def start_proxy(self):
        fork_targets = self.route_targets(FORK_USER)
        log = self.workdir / f"{self.args.peer}.log"
        if self.args.peer == "kamailio":
            cfg = self.workdir / "kamailio.cfg"
            h.write_kamailio_config(cfg, self.proxy_port, workers=2, t1_ms=T1_MS,
                                    timer_c_ms=TIMER_C_MS, fork_user=FORK_USER,
                                    fork_targets=fork_targets)
            cmd = [h.KAMAILIO_BIN, "-DD", "-E", "-f", cfg, "-w", self.workdir, "-Y", self.workdir]
            env = None
        else:
            cfg = self.workdir / "sipproxy.yaml"
            script = self.workdir / "routing.cfg"
            h.write_sipproxy_script(
                script, fork_user=FORK_USER, fork_targets=fork_targets,
                serial_user=SERIAL_USER, serial_targets=self.route_targets(SERIAL_USER),
                loop_user=LOOP_USER, loop_target=self.route_targets(LOOP_USER)[0])
            h.write_sipproxy_config(
                cfg, [("udp", "127.0.0.1", self.proxy_port), ("tcp", "127.0.0.1", self.proxy_port)],
                workers=2, t1_ms=T1_MS, timer_c_ms=TIMER_C_MS,
                control_socket=self.workdir / "sipproxy.sock",
                log_level=self.args.log_level, script=script)
            cmd = [self.args.bin, "-c", cfg]
            env = h.sanitizer_env()
        self.proxy = h.ProxyProcess(cmd, log, env=env, cwd=self.workdir)
        self.proxy.start()
        if not self.proxy.wait_ready("127.0.0.1", self.proxy_port, timeout_s=30):
            print(f"FAIL startup: {self.args.peer} did not answer OPTIONS on 127.0.0.1:"
                  f"{self.proxy_port} (log {log})")
            print(h.tail(log, 40))
            return False
        return True

    # ---- one scenario ---------------------------------------------------------------------

    def sipp_cmd(self, sc, xml, port, role, extra, transport=""):
        base = self.workdir / f"{sc.name}_{role}"
        return [self.args.sipp, *extra, "-sf", SCENARIO_DIR / xml, "-i", "127.0.0.1", "-p", port,
                "-t", transport or sc.transport, "-nostdin", "-trace_err", "-error_file", f"{base}_errors.log",
                "-trace_msg", "-message_file", f"{base}_messages.log"], base

    def spawn(self, cmd, base):
        out = open(f"{base}_stdout.log", "wb")
        proc = h.spawn(cmd, out, cwd=self.workdir)
        proc.out = out
        return proc

    def run_scenario(self, sc):
        """Returns None on success, else the reason."""
        if sc.route:
            uas_ports = self.route_ports[sc.route]
        else:
            uas_ports = [h.free_port(self.used_ports) for _ in sc.uas]
        uac_port = h.free_port(self.used_ports)
        children = []
        try:
            for i, uas in enumerate(sc.uas):
                cmd, base = self.sipp_cmd(sc, uas.xml, uas_ports[i], f"uas{i}",
                                          ["-m", uas.calls, "-d", uas.pause_ms,
                                           "-timeout", f"{sc.timeout_s + 20}s"], uas.transport)
                children.append((f"uas{i}", uas, self.spawn(cmd, base), base))
            for name, uas, proc, base in children:
                if not wait_listening(proc, uas_ports[int(name[3:])], uas.transport or sc.transport):
                    return f"{name} did not start listening: {h.tail(f'{base}_stdout.log', 5)}"
            if sc.target == "uas0":
                remote = f"127.0.0.1:{uas_ports[0]}"
            elif sc.target == "proxy":
                remote = f"127.0.0.1:{self.proxy_port}"
            else:
                remote = f"127.0.0.1:{h.free_port(self.used_ports)}"
            cmd, base = self.sipp_cmd(sc, sc.uac_xml, uac_port, "uac",
                                      [remote, "-rsa", f"127.0.0.1:{self.proxy_port}", "-s",
                                       sc.service, "-m", sc.calls, "-r", sc.rate, "-l", sc.limit,
                                       "-timeout", f"{sc.timeout_s}s", "-timeout_error",
                                       "-recv_timeout", "15000"])
            uac = self.spawn(cmd, base)
            children.append(("uac", None, uac, base))
            during = DuringThread(getattr(self, sc.during)) if sc.during else None
            try:
                rc = uac.wait(timeout=sc.timeout_s + 15)
            except subprocess.TimeoutExpired:
                h.kill_group(uac)
                uac.wait()
                return f"UAC hung past {sc.timeout_s + 15}s"
            if during is not None and during.finish():
                return f"{sc.during}: {during.error}"
            if rc != 0:
                return f"UAC exit {rc}\n" + describe(base)
            wrong = count_mismatches(Path(f"{base}_messages.log"), sc.uac_counts)
            if wrong:
                return f"UAC messages: {wrong}"
            deadline = time.monotonic() + 5
            for name, uas, proc, ubase in children:
                if uas is None or not uas.must_finish:
                    continue
                try:
                    urc = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    return f"{name} did not finish its {uas.calls} calls\n" + describe(ubase)
                if urc != 0:
                    return f"{name} exit {urc}\n" + describe(ubase)
            if not self.proxy.alive():
                return f"proxy died (exit {self.proxy.proc.returncode})"
            # Whatever the scenario did, the proxy must still serve requests afterwards.
            status = h.options_ping("127.0.0.1", self.proxy_port, timeout_s=3)
            if status != 200:
                return f"proxy no longer answers OPTIONS after the scenario (got {status})"
            return None
        finally:
            for _, _, proc, _ in children:  # by PID (process group), never by name
                h.kill_group(proc)
                proc.wait()
                proc.out.close()

    # ---- actions run during a scenario ---------------------------------------------------

    def sipctl(self, *args):
        sipctl = Path(self.args.bin).resolve().parent / "sipctl"
        return subprocess.run([str(sipctl), "-s", str(self.workdir / "sipproxy.sock"), "-j", *args],
                              capture_output=True, text=True, timeout=20)

    def check_pike_top(self):
        """pike.top (an RPC command of a loaded module) lists the loopback caller."""
        time.sleep(0.5)  # let some OPTIONS through first
        out = self.sipctl("pike.top", "limit=5")
        if out.returncode != 0:
            return f"sipctl pike.top failed: {out.stderr.strip()}"
        sources = json.loads(out.stdout)["sources"]
        if not any(s["ip"] == "127.0.0.1" and not s["blocked"] for s in sources):
            return f"pike.top does not list 127.0.0.1 unblocked: {sources}"
        return None

    def reload_script_repeatedly(self):
        """Reloads the script RELOADS times (each a different program: a new log line), and twice
        tries a broken one, which must be refused with file:line while the old one keeps
        routing. Returns None, or what went wrong."""
        script = self.workdir / "routing.cfg"
        good = script.read_text()
        last = 0
        try:
            for i in range(RELOADS + 2):
                time.sleep(0.15)
                broken = i in (7, 15)
                if broken:
                    script.write_text(good + "\nroute[BROKEN] {\n\tif ($rU == {\n}\n")
                else:
                    script.write_text(good.replace("request_route {",
                                                   f"request_route {{\n\txdbg(\"reload {i}\\n\");", 1))
                out = self.sipctl("reload")
                if broken:
                    if out.returncode == 0:
                        return f"reload {i}: a broken script was accepted: {out.stdout}"
                    if "routing.cfg:" not in out.stderr + out.stdout:
                        return f"reload {i}: the refusal does not name file:line: {out.stderr}"
                    continue
                if out.returncode != 0:
                    return f"reload {i} failed: {out.stderr.strip()} {out.stdout.strip()}"
                generation = json.loads(out.stdout)["generation"]
                if generation != last + 1 and last != 0:
                    return f"reload {i}: generation {generation} after {last}"
                last = generation
        finally:
            script.write_text(good)
        if last != RELOADS + 1:  # the start-up load is generation 1
            return f"generation {last} after {RELOADS} reloads (want {RELOADS + 1})"
        return None

    # ---- the whole suite ------------------------------------------------------------------

    def run(self, scenarios):
        ok = self.start_proxy()
        for sc in scenarios:
            if sc.sipproxy_only and self.args.peer != "sipproxy":
                print(f"SKIP {sc.name} (the {self.args.peer} peer config has no such route)")
                continue
            if not ok:
                self.record(sc.name, "proxy not running", 0.0)
                continue
            start = time.monotonic()
            reason = self.run_scenario(sc)
            self.record(sc.name, reason, time.monotonic() - start)
            if not self.proxy.alive():
                ok = False
        if self.proxy is not None:
            rc = self.proxy.stop()
            report = h.sanitizer_report(self.proxy.log_text())
            if self.args.peer == "sipproxy":
                reason = None
                if report:
                    reason = f"sanitizer: {report}"
                elif rc != 0:
                    reason = f"exit {rc} after SIGTERM (want 0)"
                self.record("clean_shutdown", reason, 0.0)
        if self.failed:
            print(f"proxy log: {self.proxy.log_path if self.proxy else '-'}")
            if self.proxy is not None:
                print(h.tail(self.proxy.log_path, 40))
        return not self.failed

    def record(self, name, reason, secs):
        if reason is None:
            self.passed.append(name)
            print(f"PASS {name} ({secs:.1f}s)", flush=True)
        else:
            self.failed.append(name)
            print(f"FAIL {name} ({secs:.1f}s): {reason}", flush=True)


class DuringThread:
    """Runs fn (returning None or an error text) beside a scenario's UAC."""

    def __init__(self, fn):
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self.thread.start()

    def _run(self, fn):
        try:
            self.error = fn()
        except Exception as e:  # noqa: BLE001 - any failure of the action fails the scenario
            self.error = f"{type(e).__name__}: {e}"

    def finish(self):
        """Waits for the action; True when it failed."""
        self.thread.join(timeout=60)
        if self.thread.is_alive():
            self.error = "still running 60 s after the calls ended"
        return self.error is not None


def wait_listening(proc, port, transport, timeout_s=5.0):
    """Until a SIPp child has bound its port (read from /proc/net), or exited."""
    table = "/proc/net/tcp" if transport.startswith("t") else "/proc/net/udp"
    want = f":{port:04X}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with open(table) as f:
                for line in f.readlines()[1:]:
                    cols = line.split()
                    # TCP: state 0A is LISTEN; UDP: any bound socket.
                    if cols[1].endswith(want) and (table.endswith("udp") or cols[3] == "0A"):
                        return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def count_mismatches(message_log, want):
    """'prefix: got N, want M' for each start-line prefix whose count in a SIPp -trace_msg log is off."""
    if not want:
        return ""
    try:
        lines = message_log.read_text(errors="replace").splitlines()
    except OSError:
        return f"no message log {message_log}"
    wrong = []
    for prefix, n in want.items():
        got = sum(1 for line in lines if line.startswith(prefix))
        if got != n:
            wrong.append(f"'{prefix}' seen {got} times, want {n}")
    return "; ".join(wrong)


def describe(base):
    parts = []
    for suffix in ("_errors.log", "_stdout.log"):
        path = Path(f"{base}{suffix}")
        text = h.tail(path, 15)
        if text:
            parts.append(f"--- {path.name}\n{text}")
    return "\n".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", default=str(h.DEFAULT_BIN), help="sipproxy binary (e.g. the ASan build)")
    ap.add_argument("--peer", choices=["sipproxy", "kamailio"], default="sipproxy")
    ap.add_argument("--sipp", default=shutil.which("sipp") or "/usr/bin/sipp")
    ap.add_argument("--only", help="comma-separated scenario names")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    ap.add_argument("--keep", action="store_true", help="keep the work directory even on success")
    ap.add_argument("--log-level", default="info")
    args = ap.parse_args()

    args.bin = os.path.abspath(args.bin)
    if args.list:
        for sc in SCENARIOS:
            print(f"{sc.name:14} {sc.about}")
        return 0
    scenarios = SCENARIOS
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - {sc.name for sc in SCENARIOS}
        if unknown:
            print(f"unknown scenario(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        scenarios = [sc for sc in SCENARIOS if sc.name in wanted]
    if args.peer == "sipproxy" and not os.access(args.bin, os.X_OK):
        print(f"FAIL startup: no executable {args.bin}")
        print(f"sipp suite ({args.peer}): 0 passed, {len(scenarios) + 1} failed")
        return 1

    h.exit_on_sigterm()
    suite = Suite(args)
    try:
        ok = suite.run(scenarios)
    finally:
        if suite.proxy is not None and suite.proxy.alive():
            suite.proxy.stop()
    if ok and not args.keep:
        shutil.rmtree(suite.workdir, ignore_errors=True)
    else:
        print(f"logs kept in {suite.workdir}")
    print(f"sipp suite ({args.peer}): {len(suite.passed)} passed, {len(suite.failed)} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
