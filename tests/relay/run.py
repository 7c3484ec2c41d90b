#!/usr/bin/env python3
# Relay interop suite: starts the relay under test (rtprelay, or Debian's rtpengine in
# userspace), a Kamailio proxy driving it through the rtpengine module, and SIPp / python RTP
# endpoints on loopback; checks the ng protocol, a SIP call with media in both directions
# through the relay, symmetric latching and the media timeout. One PASS/FAIL line per check.
import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import relayharness as rh  # noqa: E402
from relayharness import h  # noqa: E402
import relaychecks  # noqa: E402

RELAY_IP = "127.0.0.1"
MEDIA_TIMEOUT_S = 3
PORT_BLOCK = 200


class Suite:
    def __init__(self, args):
        self.args = args
        self.used_ports = set()
        self.workdir = Path(tempfile.mkdtemp(prefix="strowger-relay-"))
        self.ng_port = h.free_port(self.used_ports)
        self.proxy_port = h.free_port(self.used_ports)
        self.port_min, self.port_max = rh.pick_port_range(PORT_BLOCK)
        self.media_timeout_s = MEDIA_TIMEOUT_S
        self.relay = None
        self.kamailio = None
        self.ng = None
        self.passed, self.failed = [], []

    # ---- processes ------------------------------------------------------------------------

    def start_relay(self):
        cmd = rh.relay_cmd(self.args.relay, self.workdir, self.ng_port, self.port_min, self.port_max,
                           self.media_timeout_s, binary=self.args.bin, workers=2)
        cmd += self.args.relay_arg
        env = h.sanitizer_env() if self.args.relay == "rtprelay" else None
        self.relay = h.ProxyProcess(cmd, self.workdir / f"{self.args.relay}.log", env=env,
                                    cwd=self.workdir)
        self.relay.start()
        self.ng = rh.NgClient(RELAY_IP, self.ng_port)
        if not rh.wait_ng(self.ng, self.relay.alive, timeout_s=20):
            return (f"{self.args.relay} did not answer ng ping on {RELAY_IP}:{self.ng_port}\n"
                    + h.tail(self.relay.log_path, 30))
        return None

    def start_proxy(self):
        if self.args.proxy == "sipproxy":
            return self.start_sipproxy()
        return self.start_kamailio()

    def start_sipproxy(self):
        cfg = rh.write_sipproxy_relay_config(self.workdir, self.proxy_port, self.ng_port)
        self.kamailio = h.ProxyProcess([self.args.proxy_bin, "-c", cfg],
                                       self.workdir / "sipproxy.log", env=h.sanitizer_env(),
                                       cwd=self.workdir)
        self.kamailio.start()
        if not self.kamailio.wait_ready(RELAY_IP, self.proxy_port, timeout_s=30):
            return (f"sipproxy did not answer OPTIONS on {RELAY_IP}:{self.proxy_port}\n"
                    + h.tail(self.kamailio.log_path, 30))
        return None

    def start_kamailio(self):
        cfg = self.workdir / "kamailio.cfg"
        rh.write_kamailio_config(cfg, self.proxy_port, self.ng_port)
        cmd = [h.KAMAILIO_BIN, "-DD", "-E", "-f", cfg, "-w", self.workdir, "-Y", self.workdir,
               "-m", "64", "-M", "8"]
        self.kamailio = h.ProxyProcess(cmd, self.workdir / "kamailio.log", cwd=self.workdir)
        self.kamailio.start()
        if not self.kamailio.wait_ready(RELAY_IP, self.proxy_port, timeout_s=30):
            return (f"kamailio did not answer OPTIONS on {RELAY_IP}:{self.proxy_port}\n"
                    + h.tail(self.kamailio.log_path, 30))
        return None

    def in_range(self, port):
        return port is not None and self.port_min <= port <= self.port_max

    # ---- the whole suite --------------------------------------------------------------------

    def run(self, only):
        checks = relaychecks.CHECKS
        if only:
            checks = [c for c in checks if any(c[0] == o or c[0].startswith(o + "_") for o in only)]
        reason = self.start_relay()
        self.record("relay_start", reason, 0.0)
        needs_sip = any(sip for _, _, sip in checks)
        sip_reason = self.start_proxy() if reason is None and needs_sip else None
        if needs_sip and reason is None:
            self.record(f"{self.args.proxy}_start", sip_reason, 0.0)
        for name, fn, sip in checks:
            if reason is not None or (sip and sip_reason is not None):
                first = (reason if reason is not None else sip_reason).splitlines()[0]
                self.record(name, f"not run: {first}", 0.0)
                continue
            start = time.monotonic()
            self.note = None
            try:
                why = fn(self)
            except Exception as e:  # noqa: BLE001 - a broken check fails, the suite goes on
                why = f"{type(e).__name__}: {e}"
            self.record(name, why, time.monotonic() - start)
            if not self.relay.alive():
                reason = f"relay died (exit {self.relay.proc.returncode})"
        self.stop_all()
        if self.args.proxy == "sipproxy" and self.kamailio is not None and self.kamailio.proc:
            report = h.sanitizer_report(self.kamailio.log_text())
            self.record("sipproxy_shutdown", f"sanitizer: {report}" if report else None, 0.0)
        if self.relay is not None and self.relay.proc is not None:
            report = h.sanitizer_report(self.relay.log_text())
            rc = self.relay.returncode
            why = None
            if report:
                why = f"sanitizer: {report}"
            elif rc != 0:
                why = f"exit {rc} after SIGTERM (want 0)"
            self.record("relay_shutdown", why, 0.0)
        if self.failed:
            for proc in (self.relay, self.kamailio):
                if proc is not None:
                    print(f"--- {proc.log_path.name} (last lines)")
                    for line in h.tail(proc.log_path, 25).splitlines():
                        print(line if len(line) <= 300 else line[:300] + " ...")
        return not self.failed

    def stop_all(self):
        if self.ng is not None:
            self.ng.close()
            self.ng = None
        for proc in (self.kamailio, self.relay):  # by PID, proxy first: it may still talk ng
            if proc is not None and proc.proc is not None and proc.returncode is None:
                proc.stop()

    def record(self, name, reason, secs):
        note, self.note = getattr(self, "note", None), None
        if reason is None:
            self.passed.append(name)
            print(f"PASS {name} ({secs:.1f}s)" + (f": {note}" if note else ""), flush=True)
        else:
            self.failed.append(name)
            print(f"FAIL {name} ({secs:.1f}s): {reason}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--relay", choices=["rtpengine", "rtprelay"], default="rtprelay")
    ap.add_argument("--bin", help="relay binary (default build/bin/rtprelay, /usr/bin/rtpengine)")
    ap.add_argument("--relay-arg", action="append", default=[],
                    help="extra argument for the relay's command line (repeatable)")
    ap.add_argument("--proxy", choices=["kamailio", "sipproxy"], default="kamailio",
                    help="the SIP proxy driving the relay: Kamailio's rtpengine module, or "
                         "sipproxy's relay module (modules/rtprelay)")
    ap.add_argument("--proxy-bin", help="sipproxy binary (default build/bin/sipproxy)")
    ap.add_argument("--sipp", default=shutil.which("sipp") or "/usr/bin/sipp")
    ap.add_argument("--only", help="comma-separated check names (or groups: ng, call_media)")
    ap.add_argument("--list", action="store_true", help="list the checks and exit")
    ap.add_argument("--keep", action="store_true", help="keep the work directory even on success")
    args = ap.parse_args()
    if args.list:
        for name, fn, _ in relaychecks.CHECKS:
            print(f"{name:24} {(fn.__doc__ or '').strip().splitlines()[0]}")
        return 0
    if args.bin is None:
        args.bin = str(rh.DEFAULT_RTPRELAY if args.relay == "rtprelay" else rh.RTPENGINE_BIN)
    args.bin = os.path.abspath(args.bin)
    args.proxy_bin = os.path.abspath(args.proxy_bin or str(rh.DEFAULT_SIPPROXY))
    if args.proxy == "sipproxy" and not os.access(args.proxy_bin, os.X_OK):
        print(f"FAIL sipproxy_start: no executable {args.proxy_bin}")
        print("relay suite: 0 passed, 1 failed")
        return 1
    only = set(args.only.split(",")) if args.only else None
    if not os.access(args.bin, os.X_OK):
        print(f"FAIL relay_start: no executable {args.bin}")
        print("relay suite: 0 passed, 1 failed")
        return 1
    h.exit_on_sigterm()
    suite = Suite(args)
    try:
        ok = suite.run(only)
    finally:
        suite.stop_all()
    if ok and not args.keep:
        shutil.rmtree(suite.workdir, ignore_errors=True)
    else:
        print(f"logs kept in {suite.workdir}")
    print(f"relay under test: {args.relay} ({args.bin}), proxy: {args.proxy}"
          + (f" ({args.proxy_bin})" if args.proxy == "sipproxy" else ""))
    print(f"relay suite: {len(suite.passed)} passed, {len(suite.failed)} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
