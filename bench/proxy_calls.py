#!/usr/bin/env python3
# Calls/s and CPU per call of sipproxy against Kamailio, side by side in one run: SIPp calls
# (INVITE/180/200/ACK/BYE over UDP, in-dialog requests along Record-Route) through each proxy.
"""Prints one JSON line per figure on stdout, then a short table; progress goes to stderr.

Both proxies run at once on their own ports (the idle one costs nothing) so the steps can
alternate between them and slow drifts in the machine's other load hit both alike.
1. CPU: a fixed common rate (--cpu-rate, --cpu-s) through each proxy; utime+stime of the
   proxy's processes (its whole session: Kamailio's main and children, sipproxy's threads)
   from /proc before and after, divided by completed calls. SIPp shares the cores, so this is
   the fair comparison. That run also counts as the ramp's step at --cpu-rate.
2. Rate: steps up the --rates ladder (--step-s each) until a step is not sustained, then
   --bisect steps between the last sustained and the first failed rate. Sustained: failed
   calls (UAC + UAS, incl. unexpected messages and calls never finished) < --max-fail,
   retransmissions < --max-retrans of the calls, and >= 95% of the asked rate kept up.
"""
import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402
from call_step import finish_cpu_step, kRateSlack, log, run_step  # noqa: E402


@dataclass
class Proxy:
    name: str
    proc: bl.Process
    port: int
    last_pass: int = 0
    first_fail: int = 0
    fail_reason: str = ""
    cpu: dict = field(default_factory=dict)
    steps: list = field(default_factory=list)
    dead: bool = False


def record(proxy, step):
    if step["sustained"]:
        proxy.last_pass = max(proxy.last_pass, step["rate"])
    elif not proxy.first_fail or step["rate"] < proxy.first_fail:
        proxy.first_fail, proxy.fail_reason = step["rate"], step["why_not"]


def ramp(args, proxies, used, workdir):
    """Up the ladder above the CPU step (or down below it if that failed), then bisect."""
    ladder = sorted(set(args.rates))
    for i, rate in enumerate(ladder):
        todo = [p for p in proxies if not p.dead and not p.first_fail and rate > p.last_pass]
        for p in (todo if i % 2 == 0 else todo[::-1]):
            record(p, run_step(args, p, rate, args.step_s, used, workdir, "ramp"))
    for p in proxies:  # failed at the CPU rate: find where it does hold
        for rate in sorted((r for r in ladder if r < args.cpu_rate), reverse=True):
            if p.last_pass or p.dead:
                break
            record(p, run_step(args, p, rate, args.step_s, used, workdir, "down"))
    for _ in range(args.bisect):
        for p in proxies:
            lo, hi = p.last_pass, p.first_fail
            mid = (lo + hi) // 2 // 100 * 100
            if not p.dead and lo and hi and lo < mid < hi:
                record(p, run_step(args, p, mid, args.step_s, used, workdir, "bis"))


def idle_other_cores(proxies, seconds=2.0):
    """Cores the rest of the machine keeps busy while our proxies idle: the bench's noise floor."""
    own0, host0 = sum(bl.session_cpu_ticks(p.proc.pid) for p in proxies), bl.host_busy_ticks()
    time.sleep(seconds)
    own1, host1 = sum(bl.session_cpu_ticks(p.proc.pid) for p in proxies), bl.host_busy_ticks()
    return max(0.0, ((host1 - host0) - (own1 - own0)) / bl.CLK_TCK / seconds)


def figures(args, proxies):
    out = []
    for p in proxies:
        c = p.cpu
        out.append({"figure": "cpu_ms_per_1000_calls", "proxy": p.name,
                    "value": c.get("proxy_cpu_ms_per_1000_calls"), "rate": c.get("rate"),
                    "seconds": args.cpu_s, "tail_s": args.cpu_tail_s,
                    "tail_cpu_s": c.get("proxy_cpu_tail_s"),
                    "calls": c.get("successful"), "failed": c.get("failed"),
                    "retransmissions": c.get("retransmissions"),
                    "sipp_cpu_ms_per_1000_calls": c.get("sipp_cpu_ms_per_1000_calls"),
                    "proxy_task_cores": c.get("proxy_task_cores"), "other_cores": c.get("other_cores")})
    for p in proxies:
        out.append({"figure": "max_calls_per_s", "proxy": p.name, "value": p.last_pass,
                    "first_failed_rate": p.first_fail or None, "why": p.fail_reason or None,
                    "lower_bound": not p.first_fail,  # the ladder ended before a step failed
                    "criterion": f"failed<{args.max_fail:g}, retrans<{args.max_retrans:g}, "
                                 f">={kRateSlack:g}x rate (+1 s), {args.step_s:g} s steps",
                    "max_other_cores": max((s["other_cores"] for s in p.steps), default=None)})
    by = {p.name: p for p in proxies}
    if "sipproxy" in by and "kamailio" in by:
        s, k = by["sipproxy"], by["kamailio"]
        sc, kc = s.cpu.get("proxy_cpu_ms_per_1000_calls"), k.cpu.get("proxy_cpu_ms_per_1000_calls")
        out.append({"figure": "cpu_per_call_ratio", "proxy": "sipproxy/kamailio",
                    "value": round(sc / kc, 3) if sc and kc else None, "goal": "<= 0.333"})
        # Unknown when Kamailio never failed a step: its real maximum is higher.
        known = k.last_pass and k.first_fail
        out.append({"figure": "max_rate_ratio", "proxy": "sipproxy/kamailio",
                    "value": round(s.last_pass / k.last_pass, 3) if known else None,
                    "goal": ">= 2", "lower_bound": not s.first_fail})
    return out


def table(args, proxies, figs):
    lines = [f"{'proxy':10s} {'CPU ms/1000 calls':>18s} {'max calls/s':>12s} {'first failed':>13s}"]
    for p in proxies:
        rate = ("" if p.first_fail else ">=") + str(p.last_pass)
        lines.append(f"{p.name:10s} {p.cpu.get('proxy_cpu_ms_per_1000_calls', '-')!s:>18s} "
                     f"{rate:>12s} {(p.first_fail or '-')!s:>13s}")
    for f in figs:
        if f["figure"].endswith("ratio"):
            lines.append(f"{f['figure']:22s} {f['value']!s:>8s}   (goal {f['goal']})")
    lines.append(f"(CPU at {args.cpu_rate} calls/s for {args.cpu_s:g} s + {args.cpu_tail_s:g} s tail; "
                 f"{os.cpu_count()} CPUs; load average at start {args.loadavg}; other processes "
                 f"kept {args.idle_other:.2f} cores busy before the run)")
    noisy = max([args.idle_other] + [s["other_cores"] for p in proxies for s in p.steps])
    if noisy > 0.25:
        lines.append(f"WARNING: other processes used up to {noisy:.2f} cores during the run; "
                     "rates are unreliable, CPU per call less so. Rerun on a quiet machine.")
    return "\n".join(lines)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_bin = next((b for b in (bl.REPO / "build/bin/sipproxy", bl.REPO / "build-bench/bin/sipproxy")
                        if b.exists()), bl.REPO / "build/bin/sipproxy")
    ap.add_argument("--sipproxy", default=str(default_bin))
    ap.add_argument("--kamailio", default="/usr/sbin/kamailio")
    ap.add_argument("--sipp", default=shutil.which("sipp") or "/usr/bin/sipp")
    ap.add_argument("--proxies", default="sipproxy,kamailio", help="comma list, run in this order")
    ap.add_argument("--workers", type=int, default=2, help="sipproxy workers = kamailio UDP children")
    ap.add_argument("--cpu-rate", type=int, default=1000)
    ap.add_argument("--cpu-s", type=float, default=20)
    ap.add_argument("--rates", default="250,500,1000,2000,3000,4000,5000,6000,8000,10000,12000,16000")
    ap.add_argument("--step-s", type=float, default=10)
    ap.add_argument("--tail-s", type=float, default=2, help="after each step, still counted in CPU")
    ap.add_argument("--cpu-tail-s", type=float, default=33,
                    help="CPU steps: time after the last call still counted (timer J = 64*T1)")
    ap.add_argument("--bisect", type=int, default=1)
    ap.add_argument("--max-fail", type=float, default=0.001)
    ap.add_argument("--max-retrans", type=float, default=0.01)
    ap.add_argument("--pause-ms", type=int, default=0, help="between ACK and BYE (sipp -d)")
    ap.add_argument("--uac-transport", default="u1",
                    help="sipp -t for the UAC: u1 = one socket (one 4-tuple), un = a socket per call")
    ap.add_argument("--log-level", default="warn", help="sipproxy log level (debug to diagnose)")
    ap.add_argument("--kamailio-shm-mb", type=int, default=512)
    ap.add_argument("--wait-quiet-s", type=float, default=0,
                    help="wait up to this long for other processes to use < 0.25 cores first")
    ap.add_argument("--nice", type=int, default=0,
                    help="niceness added to proxies and SIPp (e.g. -5 on a busy shared machine)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (configs, logs, CSVs)")
    args = ap.parse_args()
    args.rates = [int(r) for r in args.rates.split(",") if r]
    args.loadavg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return args


def start_proxies(args, workdir, used):
    proxies = []
    for name in [n.strip() for n in args.proxies.split(",") if n.strip()]:
        port = bl.free_port(used)
        if name == "sipproxy":
            cmd = bl.sipproxy_cmd(args.sipproxy, workdir, port, args.workers, args.log_level)
        elif name == "kamailio":
            cmd = bl.kamailio_cmd(args.kamailio, workdir, port, args.workers, args.kamailio_shm_mb, 16)
        else:
            raise SystemExit(f"unknown proxy '{name}'")
        p = Proxy(name, bl.Process(name, cmd, workdir / f"{name}.log"), port)
        proxies.append(p)
        p.proc.start()
        if not bl.wait_ready(p.proc, port):
            raise RuntimeError(f"{name} did not answer OPTIONS on 127.0.0.1:{port}:\n"
                               + p.proc.log_tail())
        log(f"# {name} ready on 127.0.0.1:{port}, pids {bl.session_pids(p.proc.pid)}")
    return proxies


def main():
    args = parse_args()
    bl.Process.nice = args.nice
    workdir = Path(tempfile.mkdtemp(prefix="strowger-bench-"))
    # SIGTERM/SIGHUP unwind like Ctrl-C so the finally below stops every child by PID.
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    proxies = []
    try:
        used = set()
        proxies = start_proxies(args, workdir, used)
        args.idle_other = idle_other_cores(proxies)
        deadline = time.monotonic() + args.wait_quiet_s
        while args.idle_other > 0.25 and time.monotonic() < deadline:
            log(f"# waiting for a quiet machine: others use {args.idle_other:.2f} cores")
            time.sleep(3)
            args.idle_other = idle_other_cores(proxies)
        args.loadavg = " ".join(f"{x:.2f}" for x in os.getloadavg())
        log(f"# work dir {workdir}; load average {args.loadavg}; "
            f"other processes busy {args.idle_other:.2f} cores")
        for p in proxies:
            p.cpu = run_step(args, p, args.cpu_rate, args.cpu_s, used, workdir, "cpu")
            record(p, p.cpu)
        for p in sorted(proxies, key=lambda p: p.cpu["_t1"]):
            finish_cpu_step(args, p)
        ramp(args, proxies, used, workdir)
        figs = figures(args, proxies)
        for f in figs:
            print(json.dumps(f), flush=True)
        print(table(args, proxies, figs), flush=True)
        return 0
    except KeyboardInterrupt:
        log("# interrupted")
        return 130
    finally:
        for p in proxies:
            rc = p.proc.stop()
            if rc not in (0, -signal.SIGTERM):
                log(f"# {p.name} exit code {rc}; log tail:\n{p.proc.log_tail()}")
        bl.Process.stop_all()  # SIPp of an interrupted step
        if args.keep:
            log(f"# kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
