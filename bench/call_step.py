# One measured step of the call benchmark: a SIPp UAS and UAC at a fixed rate through one
# proxy, with the proxy's CPU time, SIPp's counters, UDP drops per socket and the verdict.
import json
import resource
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import benchlib as bl

kRateSlack = 0.95  # a sustained step keeps up this share of the asked calls/s

# Columns of SIPp's -trace_stat file we read (cumulative counters).
_COUNTERS = {
    "created": "TotalCallCreated",
    "successful": "SuccessfulCall(C)",
    "failed": "FailedCall(C)",
    "unexpected": "FailedUnexpectedMessage(C)",
    "max_udp_retrans": "FailedMaxUDPRetrans(C)",
    "timeout_recv": "FailedTimeoutOnRecv(C)",
    "retransmissions": "Retransmissions(C)",
    "out_of_call": "OutOfCallMsgs(C)",
    "dead_call": "DeadCallMsgs(C)",
}


def read_sipp_stats(path):
    """The last row of a SIPp -trace_stat CSV as {our name: int}; {} if missing."""
    try:
        lines = [line for line in Path(path).read_text(errors="replace").splitlines() if line]
    except OSError:
        return {}
    if len(lines) < 2:
        return {}
    head, last = lines[0].split(";"), lines[-1].split(";")
    out = {}
    for key, col in _COUNTERS.items():
        try:
            out[key] = int(last[head.index(col)])
        except (ValueError, IndexError):
            out[key] = 0
    return out


@dataclass
class SippRun:
    """The SIPp command lines of one step, and their counters after it."""
    sipp: str
    workdir: Path
    tag: str
    uac_port: int
    uas_port: int
    proxy_port: int
    rate: int
    calls: int
    pause_ms: int = 0
    uac_transport: str = "u1"
    uac: dict = field(default_factory=dict)
    uas: dict = field(default_factory=dict)

    def _common(self, xml, port, who, transport="u1"):
        base = self.workdir / f"{self.tag}_{who}"
        # 4 MB socket buffers: the load generator must not be where datagrams get lost.
        return [self.sipp, "-sf", bl.SCENARIO_DIR / xml, "-i", "127.0.0.1", "-p", port,
                "-t", transport, "-nostdin", "-m", self.calls, "-buff_size", "4194304",
                "-trace_stat", "-stf", f"{base}.csv", "-fd", "1",
                "-trace_err", "-error_file", f"{base}_errors.log", "-max_log_size", "2000000"]

    def uas_cmd(self, timeout_s):
        return self._common("uas_call.xml", self.uas_port, "uas") + ["-timeout", f"{timeout_s}s"]

    def uac_cmd(self, timeout_s):
        # -l: more than 2 s of calls open at once means the proxy has stalled; cap them.
        return [*self._common("uac_call.xml", self.uac_port, "uac", self.uac_transport),
                f"127.0.0.1:{self.uas_port}", "-rsa", f"127.0.0.1:{self.proxy_port}",
                "-s", "service", "-r", self.rate, "-rp", "1000", "-l", max(200, 2 * self.rate),
                "-d", self.pause_ms, "-timeout", f"{timeout_s}s",
                *(["-max_socket", "10000"] if self.uac_transport == "un" else [])]

    def read(self):
        self.uac = read_sipp_stats(self.workdir / f"{self.tag}_uac.csv")
        self.uas = read_sipp_stats(self.workdir / f"{self.tag}_uas.csv")

    def totals(self):
        """Failed calls as either side saw them, plus calls a side never finished (SIPp hit
        its time limit), retransmissions of both sides."""
        uac, uas = self.uac, self.uas
        unfinished = max(0, self.calls - uac.get("successful", 0) - uac.get("failed", 0)) + max(
            0, uas.get("created", 0) - uas.get("successful", 0) - uas.get("failed", 0))
        both = lambda key: uac.get(key, 0) + uas.get(key, 0)  # noqa: E731
        return {"successful": uac.get("successful", 0),
                "failed": both("failed") + unfinished, "unexpected": both("unexpected"),
                "retransmissions": both("retransmissions"),
                "out_of_call_msgs": both("out_of_call"), "dead_call_msgs": both("dead_call")}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def _children_cpu_s():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def settle(proxy, max_s=10.0):
    """Wait (up to max_s) until the proxy idles, so one step's backlog does not fail the next."""
    deadline = time.monotonic() + max_s
    while time.monotonic() < deadline and proxy.proc.alive():
        t0 = bl.session_cpu_ticks(proxy.proc.pid)
        time.sleep(0.5)
        if (bl.session_cpu_ticks(proxy.proc.pid) - t0) / bl.CLK_TCK < 0.025:
            return


def _sample(proxy, uas):
    return {"proxy": bl.session_cpu_ticks(proxy.proc.pid), "uas": bl.session_cpu_ticks(uas.pid),
            "host": bl.host_busy_ticks(), "tasks": bl.session_task_ticks(proxy.proc.pid),
            "reaped_s": _children_cpu_s(), "t": time.monotonic()}


def _wait_uac(uac, sockets, deadline):
    """Wait for the UAC; meanwhile sample each socket's drops while it still exists."""
    base = bl.udp_socket_drops([sockets["proxy"]])[sockets["proxy"]]
    drops = dict.fromkeys(sockets, 0)
    rc = None
    while rc is None and time.monotonic() < deadline:
        now = bl.udp_socket_drops(list(sockets.values()))
        for name, port in sockets.items():
            drops[name] = max(drops[name], now[port] - (base if name == "proxy" else 0))
        rc = uac.wait(0.5)
    if rc is None:
        rc = uac.stop(signal.SIGINT)
    return rc, drops


def run_step(args, proxy, rate, seconds, used, workdir, label):
    """One SIPp UAS + UAC run through `proxy`; counters, CPU and the verdict as a dict."""
    settle(proxy)
    # Fresh SIPp ports each step: a proxy still retransmitting an earlier step's INVITE must
    # not reach this step's UAS (it would count as a call there).
    uas_port, uac_port = bl.free_port(used), bl.free_port(used)
    calls = max(1, int(rate * seconds))
    run = SippRun(args.sipp, workdir, f"{proxy.name}_{label}_{rate}", uac_port, uas_port,
                  proxy.port, rate, calls, args.pause_ms, args.uac_transport)
    limit_s = int(seconds * 1.5 + 5)  # a step this late has failed anyway; keep the run short
    # cwd: whatever else SIPp writes lands in the work dir, not the caller's directory.
    uas = bl.Process("uas", run.uas_cmd(limit_s + 5), workdir / f"{run.tag}_uas.out", cwd=workdir).start()
    deadline = time.monotonic() + 5
    while not bl.udp_port_bound(uas_port) and time.monotonic() < deadline:
        time.sleep(0.05)

    s0, udp0 = _sample(proxy, uas), bl.udp_errors()
    uac = bl.Process("uac", run.uac_cmd(limit_s), workdir / f"{run.tag}_uac.out", cwd=workdir).start()
    sockets = {"proxy": proxy.port, "uas": uas_port, "uac": uac_port}
    uac_rc, drops = _wait_uac(uac, sockets, s0["t"] + limit_s + 5)
    s1 = _sample(proxy, uas)
    # Tail: the UAS finishes its last calls, the proxy its timers; both count in CPU per call.
    if uas.wait(args.tail_s) is None:
        uas.stop(signal.SIGINT)
    time.sleep(max(0.0, s1["t"] + args.tail_s - time.monotonic()))
    cpu2, udp2 = bl.session_cpu_ticks(proxy.proc.pid), bl.udp_errors()
    uas.stop()
    run.read()

    step = {"proxy": proxy.name, "label": label, "rate": rate, "calls": calls, **run.totals()}
    wall = max(1e-3, s1["t"] - s0["t"])
    cores = lambda ticks: round(ticks / bl.CLK_TCK / wall, 2)  # noqa: E731
    sipp_ticks = (s1["reaped_s"] - s0["reaped_s"]) * bl.CLK_TCK + s1["uas"] - s0["uas"]  # UAC reaped
    step.update({
        "achieved_calls_per_s": round(step["successful"] / wall, 1), "wall_s": round(wall, 2),
        "proxy_cpu_s": round((cpu2 - s0["proxy"]) / bl.CLK_TCK, 3),
        "proxy_cpu_tail_s": round((cpu2 - s1["proxy"]) / bl.CLK_TCK, 3),
        "proxy_cores": cores(s1["proxy"] - s0["proxy"]), "sipp_cores": cores(sipp_ticks),
        "other_cores": max(0.0, cores(s1["host"] - s0["host"] - (s1["proxy"] - s0["proxy"]) - sipp_ticks)),
        # Busiest threads/processes first: did the load spread over the workers?
        "proxy_task_cores": sorted((cores(t - s0["tasks"].get(k, 0)) for k, t in s1["tasks"].items()
                                    if t > s0["tasks"].get(k, 0)), reverse=True),
        "socket_drops": drops,
        "kernel_udp_drops": sum(udp2) - sum(udp0),
        "uac_exit": uac_rc,
        "_cpu0": s0["proxy"], "_cpu1": s1["proxy"], "_t1": s1["t"],  # for finish_cpu_step()
    })
    if step["successful"]:
        step["proxy_cpu_ms_per_1000_calls"] = round(step["proxy_cpu_s"] * 1e6 / step["successful"], 1)
        step["sipp_cpu_ms_per_1000_calls"] = round(sipp_ticks / bl.CLK_TCK * 1e6 / step["successful"], 1)
    judge(args, proxy, step)
    _report(step, workdir)
    proxy.steps.append(step)
    return step


def judge(args, proxy, step):
    reasons = []
    if not proxy.proc.alive():
        reasons.append(f"proxy exited ({proxy.proc.proc.poll()})")
        proxy.dead = True
    calls, rate = step["calls"], step["rate"]
    if step["failed"] / calls >= args.max_fail:
        reasons.append(f"failed {step['failed']}/{calls}")
    if step["retransmissions"] / calls >= args.max_retrans:
        reasons.append(f"retransmissions {step['retransmissions']}/{calls}")
    # SIPp's start and the last calls' round trips take a moment: allow a second besides 5%.
    if step["wall_s"] > calls / rate / kRateSlack + 1.0:
        reasons.append(f"reached {step['achieved_calls_per_s']:.0f}/{rate} calls/s "
                       f"(SIPp {step['sipp_cores']:.2f} cores)")
    step["sustained"] = not reasons
    step["why_not"] = "; ".join(reasons)


def _report(step, workdir):
    drops = step["socket_drops"]
    log(f"# {step['proxy']:9s} {step['label']:4s} {step['rate']:6d}/s: "
        f"{'ok ' if step['sustained'] else 'NOT'} ok={step['successful']} failed={step['failed']} "
        f"retrans={step['retransmissions']} achieved={step['achieved_calls_per_s']:.0f}/s "
        f"proxy={step['proxy_cores']:.2f} {step['proxy_task_cores'][:4]} "
        f"sipp={step['sipp_cores']:.2f} other={step['other_cores']:.2f} cores "
        f"{step.get('proxy_cpu_ms_per_1000_calls', '-')} ms/1000 calls "
        f"{'drops ' + str(drops) + ' ' if any(drops.values()) else ''}{step['why_not']}")
    with open(workdir / "steps.jsonl", "a") as f:
        f.write(json.dumps({k: v for k, v in step.items() if not k.startswith("_")}) + "\n")


def finish_cpu_step(args, proxy):
    """Extend a CPU step's window to --cpu-tail-s after its last call, so the timers that
    free its transactions (sipproxy's timer J is 64*T1 = 32 s) are paid for too. Only the
    other proxy's step runs meanwhile, and it does not touch this proxy's CPU time."""
    step = proxy.cpu
    time.sleep(max(0.0, step["_t1"] + args.cpu_tail_s - time.monotonic()))
    cpu = bl.session_cpu_ticks(proxy.proc.pid)
    step["proxy_cpu_tail_s"] = round((cpu - step["_cpu1"]) / bl.CLK_TCK, 3)
    step["proxy_cpu_s"] = round((cpu - step["_cpu0"]) / bl.CLK_TCK, 3)
    if step["successful"]:
        step["proxy_cpu_ms_per_1000_calls"] = round(step["proxy_cpu_s"] * 1e6 / step["successful"], 1)
    log(f"# {proxy.name:9s} cpu: {step.get('proxy_cpu_ms_per_1000_calls', '-')} ms/1000 calls "
        f"with a {args.cpu_tail_s:g} s tail ({step['proxy_cpu_tail_s']} s of it after the calls)")
