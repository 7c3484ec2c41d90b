#!/usr/bin/env python3
# Relay benchmark, rtprelay and rtpengine (userspace) in the same run: packets/s relayed with
# < 0.1% loss over 1,000 plain RTP calls set up by ng offer/answer (load from bench's C++
# rtp_load), relay CPU per packet at 50k pps (/proc/PID/stat), and ng offer+answer+delete
# per second (pipelined python clients). One JSON line per figure, then a table.
import argparse
import json
import multiprocessing
import os
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "relay"))
import benchlib as bl  # noqa: E402
import relayharness as rh  # noqa: E402

RELAY_IP = "127.0.0.1"
LOSS_LIMIT_PCT = 0.1


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def first_existing(paths):
    return next((str(p) for p in paths if Path(p).exists()), str(paths[0]))


def phone_ports(n, used, lo=10000, hi=20000):
    """n UDP ports for rtp_load's phones below the relay's block, none bound right now."""
    out = []
    for port in range(lo, hi):
        if port not in used and not bl.udp_port_bound(port):
            out.append(port)
            if len(out) == n:
                return out
    raise RuntimeError(f"only {len(out)} free phone ports in {lo}-{hi}")


class Relay:
    def __init__(self, name, binary, workdir, used, media=None):
        self.name, self.binary, self.media = name, binary, media
        self.workdir = Path(workdir) / name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ng_port = bl.free_port(used)
        self.proc, self.ng = None, None
        self.figures = {}

    def start(self, port_min, port_max):
        cmd = rh.relay_cmd(self.name, self.workdir, self.ng_port, port_min, port_max, 600,
                           binary=self.binary, workers=2,
                           log_level=4 if self.name == "rtpengine" else "warn")
        self.port_min, self.port_max = port_min, port_max
        if self.name == "rtprelay" and self.media:
            with open(self.workdir / "rtprelay.yaml", "a") as f:
                f.write(f"media: {{{self.media}}}\n")
        self.proc = bl.Process(self.name, cmd, self.workdir / f"{self.name}.log", cwd=self.workdir).start()
        self.ng = rh.NgClient(RELAY_IP, self.ng_port)
        if not rh.wait_ng(self.ng, self.proc.alive, 20):
            raise RuntimeError(f"{self.name} did not answer ng ping:\n{self.proc.log_tail()}")

    def cpu_s(self):
        return bl.session_cpu_ticks(self.proc.pid) / bl.CLK_TCK

    def stop(self):
        if self.ng:
            self.ng.close()
            self.ng = None
        if self.proc:
            self.proc.stop()


def setup_calls(relay, phones, streams_file):
    """One ng offer/answer per stream (A = phones[2i], B = phones[2i+1]); writes rtp_load's
    streams file 'A_LOCAL RELAY_A B_LOCAL RELAY_B' from the rewritten SDPs."""
    lines = []
    for i in range(len(phones) // 2):
        a, b = phones[2 * i], phones[2 * i + 1]
        cid = f"bench-{i}"
        offer = relay.ng.request("offer", call_id=cid, from_tag="fa", sdp=rh.sdp_offer(RELAY_IP, a),
                                 replace=["origin", "session-connection"])
        answer = relay.ng.request("answer", call_id=cid, from_tag="fa", to_tag="tb",
                                  sdp=rh.sdp_offer(RELAY_IP, b), replace=["origin", "session-connection"])
        if rh.result(offer) != "ok" or rh.result(answer) != "ok":
            raise RuntimeError(f"{relay.name}: call {i}: offer {offer!r:.200} answer {answer!r:.200}")
        rb, ra = rh.sdp_audio(rh.text(offer["sdp"])), rh.sdp_audio(rh.text(answer["sdp"]))
        lines.append(f"{RELAY_IP}:{a} {ra[0]}:{ra[1]} {RELAY_IP}:{b} {rb[0]}:{rb[1]}")
    Path(streams_file).write_text("\n".join(lines) + "\n")


def udp_buffer_errors():
    """(RcvbufErrors, SndbufErrors) of the whole machine, from /proc/net/snmp."""
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    get = lambda name: int(rows[1][rows[0].index(name)]) if name in rows[0] else 0  # noqa: E731
    return get("RcvbufErrors"), get("SndbufErrors")


def relay_drops(relay):
    """Datagrams dropped so far by the UDP sockets in the relay's media port range."""
    total = 0
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            cols = line.split()
            if relay.port_min <= int(cols[1].rsplit(":", 1)[1], 16) <= relay.port_max:
                total += int(cols[-1])
    return total


def run_load(args, relay, streams_file, pps, duration, send_threads=None):
    """rtp_load at `pps` packets/s in total; its JSON plus the relay's CPU seconds meanwhile."""
    cmd = [args.rtp_load, "--streams-file", streams_file, "--total-pps", str(pps), "--duration",
           str(duration), "--send-threads", str(send_threads or args.send_threads)]
    out = relay.workdir / "rtp_load.out"
    drops0, errs0 = relay_drops(relay), udp_buffer_errors()
    cpu0 = relay.cpu_s()
    gen = bl.Process("rtp_load", cmd, out).start()
    rc = gen.wait(duration + 60)
    cpu1 = relay.cpu_s()
    drops1, errs1 = relay_drops(relay), udp_buffer_errors()
    gen.stop()
    lines = out.read_text().strip().splitlines()
    out.unlink()
    if rc != 0 or not lines or not lines[-1].startswith("{"):
        raise RuntimeError(f"rtp_load exit {rc}: {lines[-3:]}")
    res = json.loads(lines[-1])
    res["relay_cpu_s"] = round(cpu1 - cpu0, 3)
    # Who dropped: the relay's sockets (full receive buffers), any socket (rtp_load's too), or
    # a send that found its socket's buffer full (SndbufErrors: the relay forwards faster than
    # its sockets drain and gives the packet up).
    res["relay_socket_drops"] = drops1 - drops0
    res["all_rcvbuf_errors"] = errs1[0] - errs0[0]
    res["all_sndbuf_errors"] = errs1[1] - errs0[1]
    if not relay.proc.alive():
        raise RuntimeError(f"{relay.name} died under load:\n{relay.proc.log_tail()}")
    return res


def media_figures(args, relay, streams_file):
    run_load(args, relay, streams_file, 10000, 2)  # warm-up: every stream latched
    r = run_load(args, relay, streams_file, args.cpu_pps, args.cpu_s)
    us = 1e6 * r["relay_cpu_s"] / r["received"] if r["received"] else None
    log(f"{relay.name}: {args.cpu_pps} pps: received {r['received']}/{r['sent']} (loss {r['loss_pct']}%), "
        f"relay CPU {r['relay_cpu_s']}s -> {us and round(us, 2)} us/packet")
    relay.figures["cpu"] = {"figure": "cpu_us_per_packet", "relay": relay.name,
                            "value": round(us, 3) if us else None, "target_pps": args.cpu_pps,
                            "sent_pps": r["sent_pps"], "received": r["received"],
                            "loss_pct": r["loss_pct"], "relay_cpu_s": r["relay_cpu_s"],
                            "gen_cpu_s": round(r["gen_cpu_user_s"] + r["gen_cpu_sys_s"], 3)}
    if not args.rates:
        return
    last_pass, first_fail, fail_loss = None, None, None
    steps = []
    threads = args.send_threads

    def step(pps):
        """(verdict, result): 'ok', 'loss', or 'generator' when rtp_load could not send at pps."""
        nonlocal threads
        while True:
            res = run_load(args, relay, streams_file, pps, args.step_s, threads)
            steps.append({k: res[k] for k in ("target_pps", "sent_pps", "loss_pct", "relay_cpu_s",
                                                 "relay_socket_drops", "all_rcvbuf_errors",
                                                 "all_sndbuf_errors", "misrouted", "latency_avg_us")})
            behind = res["sent_pps"] < 0.95 * pps
            verdict = "loss" if res["loss_pct"] >= LOSS_LIMIT_PCT else "generator" if behind else "ok"
            log(f"{relay.name}: step {pps} pps ({threads} send threads): sent {res['sent_pps']} pps, "
                f"loss {res['loss_pct']}% (relay socket drops {res['relay_socket_drops']}, rcvbuf/sndbuf "
                f"errors {res['all_rcvbuf_errors']}/{res['all_sndbuf_errors']}, misrouted "
                f"{res['misrouted']}, latency avg/max {res['latency_avg_us']}/{res['latency_max_us']} us), relay CPU {res['relay_cpu_s']}s "
                f"({res['relay_cpu_s'] / args.step_s:.2f} cores) -> {verdict}")
            # A generator that falls behind gets more sender threads before the step counts.
            if verdict != "generator" or threads >= args.max_send_threads:
                return verdict, res
            threads *= 2
    limit = None
    for pps in args.rates:
        verdict, res = step(pps)
        if verdict == "generator":
            limit = f"rtp_load could not send {pps} pps here (sent {res['sent_pps']})"
            break
        if verdict == "loss":
            first_fail, fail_loss = pps, res["loss_pct"]
            break
        last_pass = pps
    if first_fail and last_pass:
        for _ in range(args.bisect):
            mid = (last_pass + first_fail) // 2
            verdict, res = step(mid)
            if verdict == "ok":
                last_pass = mid
            elif verdict == "loss":
                first_fail, fail_loss = mid, res["loss_pct"]
            else:
                break
    relay.figures["pps"] = {"figure": "max_pps_loss_lt_0.1pct", "relay": relay.name, "value": last_pass,
                            "streams": args.streams, "first_failed_pps": first_fail,
                            "loss_pct_at_fail": fail_loss, "steps": steps, "lower_bound": first_fail is None,
                            "limited_by": limit,
                            "step_s": args.step_s}


def _ng_worker(ng_port, seconds, window, tag, conn):
    """Keeps `window` calls in flight (offer, answer, delete each), retransmitting after 1 s."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((RELAY_IP, 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    dest = (RELAY_IP, ng_port)
    offer_sdp = rh.bencode(rh.sdp_offer(RELAY_IP, 40000))
    answer_sdp = rh.bencode(rh.sdp_offer(RELAY_IP, 40002, session="2000"))

    def build(stage, call):
        cid = rh.bencode(f"ngb-{tag}-{call}")
        if stage == 0:
            return b"d7:call-id" + cid + b"7:command5:offer8:from-tag2:fa3:sdp" + offer_sdp + b"e"
        if stage == 1:
            return (b"d7:call-id" + cid + b"7:command6:answer8:from-tag2:fa3:sdp" + answer_sdp +
                    b"6:to-tag2:tbe")
        return b"d7:call-id" + cid + b"7:command6:delete12:delete-delayi0e8:from-tag2:fae"
    slots = []  # [call, stage, cookie, packet, sent_at, tries]
    next_call, done, failed, retrans, seq = 0, 0, 0, 0, 0
    t0 = time.monotonic()
    cpu0 = time.process_time()

    def launch(slot_i, call, stage):
        nonlocal seq
        seq += 1
        cookie = b"%s_%d_%d" % (tag.encode(), slot_i, seq)
        pkt = cookie + b" " + build(stage, call)
        slots[slot_i] = [call, stage, cookie, pkt, time.monotonic(), 1]
        sock.sendto(pkt, dest)
    for i in range(window):
        slots.append(None)
        launch(i, next_call, 0)
        next_call += 1
    end = t0 + seconds
    sock.settimeout(0.1)
    while time.monotonic() < end:
        try:
            data = sock.recv(65535)
        except socket.timeout:
            data = None
        now = time.monotonic()
        if data:
            cookie, _, body = data.partition(b" ")
            parts = cookie.split(b"_")
            slot_i = int(parts[1]) if len(parts) == 3 else -1
            slot = slots[slot_i] if 0 <= slot_i < window else None
            if slot and slot[2] == cookie:
                if b"6:result2:ok" not in body:
                    failed += 1
                    launch(slot_i, next_call, 0)
                    next_call += 1
                elif slot[1] == 2:
                    done += 1
                    launch(slot_i, next_call, 0)
                    next_call += 1
                else:
                    launch(slot_i, slot[0], slot[1] + 1)
        for i, slot in enumerate(slots):
            if now - slot[4] > 1.0:
                if slot[5] >= 3:
                    failed += 1
                    launch(i, next_call, 0)
                    next_call += 1
                else:
                    slot[4], slot[5] = now, slot[5] + 1
                    retrans += 1
                    sock.sendto(slot[3], dest)
    conn.send({"done": done, "failed": failed, "retrans": retrans,
               "wall_s": time.monotonic() - t0, "cpu_s": time.process_time() - cpu0})
    conn.close()


def ng_figure(args, relay):
    ctx = multiprocessing.get_context("fork")
    pipes, procs = [], []
    cpu0 = relay.cpu_s()
    for k in range(args.ng_clients):
        parent, child = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_ng_worker, args=(relay.ng_port, args.ng_s, args.ng_window, f"c{k}", child))
        p.start()
        pipes.append(parent)
        procs.append(p)
    results = [conn.recv() for conn in pipes]
    for p in procs:
        p.join()
    cpu = relay.cpu_s() - cpu0
    done = sum(r["done"] for r in results)
    wall = max(r["wall_s"] for r in results)
    share = max(r["cpu_s"] / r["wall_s"] for r in results)
    rate = done / wall
    log(f"{relay.name}: ng {rate:.0f} offer+answer+delete/s ({done} calls, "
        f"{sum(r['failed'] for r in results)} failed, {sum(r['retrans'] for r in results)} retransmissions), "
        f"relay CPU {cpu:.2f}s, busiest client at {share:.2f} of a core")
    relay.figures["ng"] = {"figure": "ng_offer_answer_delete_per_s", "relay": relay.name, "value": round(rate),
                           "calls": done, "failed": sum(r["failed"] for r in results),
                           "retransmissions": sum(r["retrans"] for r in results),
                           "relay_cpu_us_per_call": round(1e6 * cpu / done, 1) if done else None,
                           "client": f"python, {args.ng_clients} process(es) x {args.ng_window} in flight",
                           "client_core_share": round(share, 2),
                           "client_bound": share > 0.9}


def bench_relay(args, relay, used):
    port_min, port_max = rh.pick_port_range(4 * args.streams + 2000)
    relay.start(port_min, port_max)
    try:
        if "media" in args.parts:
            phones = phone_ports(2 * args.streams, used)
            streams_file = relay.workdir / "streams.txt"
            t = time.monotonic()
            setup_calls(relay, phones, streams_file)
            log(f"{relay.name}: {args.streams} calls set up in {time.monotonic() - t:.1f}s")
            media_figures(args, relay, streams_file)
            for i in range(args.streams):
                relay.ng.request("delete", call_id=f"bench-{i}", from_tag="fa")
        if "ng" in args.parts:
            ng_figure(args, relay)
    finally:
        relay.stop()


def ratios(relays):
    by = {r.name: r.figures for r in relays}
    if "rtprelay" not in by or "rtpengine" not in by:
        return []
    out = []
    for key, fig, goal in (("cpu", "cpu_per_packet_ratio", "<= 0.5"), ("pps", "max_pps_ratio", None),
                           ("ng", "ng_rate_ratio", ">= 2")):
        a, b = by["rtprelay"].get(key, {}).get("value"), by["rtpengine"].get(key, {}).get("value")
        out.append({"figure": fig, "relay": "rtprelay/rtpengine",
                    "value": round(a / b, 3) if a and b else None, "goal": goal})
    return out


def table(relays, figs):
    lines = [f"{'relay':10s} {'us CPU/packet':>14s} {'max pps <0.1% loss':>19s} {'ng calls/s':>11s}"]
    for r in relays:
        f = r.figures
        pps = f.get("pps", {})
        shown = ("" if pps.get("first_failed_pps") else ">=") + str(pps.get("value")) if pps else "-"
        lines.append(f"{r.name:10s} {f.get('cpu', {}).get('value', '-')!s:>14s} {shown:>19s} "
                     f"{f.get('ng', {}).get('value', '-')!s:>11s}")
    for f in figs:
        lines.append(f"{f['figure']:22s} {f['value']!s:>8s}" + (f"   (goal {f['goal']})" if f["goal"] else ""))
    lines.append(f"({os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}: absolute "
                 "numbers move with other load; compare the ratios of one run)")
    return "\n".join(lines)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__)
    repo = rh.REPO
    ap.add_argument("--relays", default="rtprelay,rtpengine", help="comma list, run in this order")
    ap.add_argument("--rtprelay", default=first_existing([repo / "build-bench/bin/rtprelay",
                                                          repo / "build/bin/rtprelay"]))
    ap.add_argument("--rtpengine", default=rh.RTPENGINE_BIN)
    ap.add_argument("--rtp-load", default=first_existing([repo / "build-bench/bin/rtp_load",
                                                          repo / "build-relaytest/bin/rtp_load",
                                                          repo / "build/bin/rtp_load"]))
    ap.add_argument("--parts", default="media,ng", help="media and/or ng")
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--cpu-pps", type=int, default=50000)
    ap.add_argument("--cpu-s", type=float, default=10)
    ap.add_argument("--rates", default="20000,40000,60000,80000,100000,130000,160000,200000,250000,300000")
    ap.add_argument("--step-s", type=float, default=5)
    ap.add_argument("--bisect", type=int, default=1)
    ap.add_argument("--send-threads", type=int, default=1, help="rtp_load sender threads to start with")
    ap.add_argument("--max-send-threads", type=int, default=4)
    ap.add_argument("--ng-s", type=float, default=8)
    ap.add_argument("--ng-window", type=int, default=64)
    ap.add_argument("--ng-clients", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the work dir (relay logs)")
    ap.add_argument("--rtprelay-media", metavar="YAML",
                    help="rtprelay's media settings, e.g. 'backend: epoll' or 'backend: io_uring, "
                         "batch_wait_us: 200' (written as media: {...} into its config)")
    args = ap.parse_args()
    args.rates = [int(x) for x in args.rates.split(",") if x]  # --rates '': CPU figure only
    args.parts = args.parts.split(",")
    return args


def main():
    args = parse_args()
    import shutil
    import tempfile
    workdir = Path(tempfile.mkdtemp(prefix="strowger-relaybench-"))
    used = set()
    relays = []
    for name in args.relays.split(","):
        binary = args.rtprelay if name == "rtprelay" else args.rtpengine
        if not os.access(binary, os.X_OK):
            log(f"skipping {name}: no executable {binary}")
            continue
        relays.append(Relay(name, binary, workdir, used, args.rtprelay_media))
    if "media" in args.parts and not os.access(args.rtp_load, os.X_OK):
        log(f"no rtp_load at {args.rtp_load}: make -C <build dir> rtp_load")
        return 2
    bl.Process.running.clear()
    ok = True
    try:
        for relay in relays:
            try:
                bench_relay(args, relay, used)
            except RuntimeError as e:
                ok = False
                log(f"{relay.name}: {e}")
    except KeyboardInterrupt:
        ok = False
    finally:
        bl.Process.stop_all()
    figs = [f for r in relays for f in r.figures.values()]
    figs += ratios(relays)
    for f in figs:
        print(json.dumps(f), flush=True)
    print(table(relays, [f for f in figs if f["figure"].endswith("ratio")]), flush=True)
    if args.keep or not ok:
        log(f"work dir kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
