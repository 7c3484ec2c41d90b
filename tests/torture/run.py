#!/usr/bin/env python3
# Torture test: sends every RFC 4475 / RFC 5118 message of ../shared/testdata/sip-torture to the
# proxy over UDP and over TCP, inside a private network namespace (`unshare --net`, only lo up),
# and checks each answer against MANIFEST.tsv; the proxy must stay up and keep answering.
#
# In the namespace the documentation ranges 192.0.2.0/24 and 2001:db8::/32 are routed to lo, and
# "sink" sockets listen on 0.0.0.0/[::] at every port the messages name. So responses the proxy
# sends to a Via address reach us, and requests it forwards reach a sink, which answers 200.
import argparse
import hashlib
import ipaddress
import os
import re
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sipp"))
import sipharness as h  # noqa: E402

PROXY_PORT = 15060          # the namespace is ours: a fixed port collides with nothing
T1_MS = 25                  # timer B = 64*T1 = 1.6 s for forwards nobody answers
TIMER_C_MS = 2000
# Several messages share a transaction key (RFC 5118's all use branch z9hG4bKas3-111): one is
# sent only when the proxy has forgotten the last one with its key (64*T1), else it is a
# retransmission of that one.
TXN_LIFETIME_S = 64 * T1_MS / 1000 + 1.2
# The same payload again within this long is a retransmission (the longest gap between two
# retransmissions before timer H/J ends them is 32*T1 = 0.8 s), not an answer to a new message.
RETRANS_WINDOW_S = 1.0
TCP_IDLE_S = 3              # clerr over TCP: the proxy waits for the body, then closes
ANSWER_WAIT_S = 4.0         # longest a request may take to get its final answer
SILENCE_WAIT_S = 1.0        # how long we listen for (unwanted) answers to a response
BASE_SINK_PORTS = {5060, 5061}
LOCAL_NETS = [ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_network("2001:db8::/32")]

# What a proxy must do with each request, beyond the default of the manifest's `expected`
# column (invalid -> 400; valid / valid-but-questionable -> forward). From proxy_action.
STATUS = {
    "badvers.sip": {505},
    "mismatch02.sip": {501, 400},
    "zeromf.sip": {483},
    "unkscm.sip": {416},
    "novelsc.sip": {416, 404},
    "bext01.sip": {420},
}
# Invalid requests a liberal element may fix up and forward instead of rejecting with 400.
LIBERAL = {"ltgtruri.sip", "lwsstart.sip", "trws.sip", "escruri.sip", "baddate.sip",
           "badbranch.sip"}
# Over TCP, framing errors may end the connection instead of (or after) a 400; clerr may also
# just wait for the 9999 announced octets (then close when idle). dblreq's INVITE announces 150
# body octets but carries 155: the 5 left over are unframeable garbage, and closing the
# connection for it may lose the REGISTER's (asynchronous) answer.
TCP_CLOSE_OK = {"ncl.sip", "mcl01.sip", "clerr.sip", "dblreq.sip"}
TCP_SILENCE_OK = {"clerr.sip"}
# inv2543 has no Content-Length, which a stream transport cannot frame: any non-crash outcome.
TCP_ANYTHING = {"inv2543.sip"}


def forward_like(status):
    """A request the proxy treated as routable: anything final but a parse reject or a 500."""
    return status is not None and status >= 200 and status not in (400, 500)


class Probe:
    """What came back for one message in its time window."""

    def __init__(self, call_ids):
        self.call_ids = set(call_ids)
        self.finals = []
        self.provisional = []
        self.forwarded = []
        self.closed = False
        self.stray = 0
        self.error = None

    def mine(self, msg):
        ids = set(msg.values("call-id"))
        return not self.call_ids or bool(ids & self.call_ids) or not ids


class Harness:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.sel = selectors.DefaultSelector()
        self.udp = {}        # (family, port) -> socket
        self.probe = None
        self.seen = {}       # sink-path payload -> when last seen (to drop retransmissions)
        self.proxy = None
        self.restarts = 0
        self.last_sent = {}  # transaction key -> when a message with it was last sent

    # ---- the proxy ------------------------------------------------------------------------

    def start_proxy(self):
        log = self.workdir / f"{self.args.peer}-{self.restarts}.log"
        if self.args.peer == "kamailio":
            cfg = self.workdir / "kamailio.cfg"
            h.write_kamailio_config(cfg, PROXY_PORT, workers=2, t1_ms=T1_MS,
                                    timer_c_ms=TIMER_C_MS, ipv6=True)
            cmd = [h.KAMAILIO_BIN, "-DD", "-E", "-f", cfg, "-w", self.workdir, "-Y", self.workdir]
        else:
            cfg = self.workdir / "sipproxy.yaml"
            listen = [(p, a, PROXY_PORT) for a in ("127.0.0.1", "::1") for p in ("udp", "tcp")]
            h.write_sipproxy_config(cfg, listen, workers=2, t1_ms=T1_MS, timer_c_ms=TIMER_C_MS,
                                    control_socket=self.workdir / "sipproxy.sock",
                                    tcp_idle_s=TCP_IDLE_S, log_level=self.args.log_level)
            cmd = [self.args.bin, "-c", cfg]
        self.proxy = h.ProxyProcess(cmd, log, env=h.sanitizer_env(), cwd=self.workdir)
        self.proxy.start()
        return self.proxy.wait_ready("127.0.0.1", PROXY_PORT, timeout_s=30)

    # ---- sinks ----------------------------------------------------------------------------

    def open_sinks(self, ports):
        for port in sorted(ports):
            for family, any_addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
                u = socket.socket(family, socket.SOCK_DGRAM)
                t = socket.socket(family, socket.SOCK_STREAM)
                for s in (u, t):
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    if family == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s.bind((any_addr, port))
                    s.setblocking(False)
                t.listen(16)
                self.udp[(family, port)] = u
                self.sel.register(u, selectors.EVENT_READ, ("udp", None))
                self.sel.register(t, selectors.EVENT_READ, ("listen", None))

    def pump(self, timeout):
        for key, _ in self.sel.select(timeout):
            kind, state = key.data
            sock = key.fileobj
            if kind == "udp":
                try:
                    data, addr = sock.recvfrom(70000)
                except OSError:
                    continue
                self.on_message(data, ("udp", sock, addr), dedupe=True)
            elif kind == "listen":
                try:
                    conn, _ = sock.accept()
                except OSError:
                    continue
                conn.setblocking(False)
                self.sel.register(conn, selectors.EVENT_READ, ("tcp", {"buf": b"", "client": False}))
            else:
                try:
                    data = sock.recv(70000)
                except OSError:
                    data = b""
                if not data:
                    self.sel.unregister(sock)
                    sock.close()
                    if state["client"] and self.probe is not None:
                        self.probe.closed = True
                    continue
                state["buf"] += data
                for msg in split_stream(state):
                    self.on_message(msg, ("tcp", sock, None), dedupe=not state["client"])

    def on_message(self, data, path, dedupe):
        msg = h.SipMessage.parse(data)
        if self.args.trace:
            where = path[2] if path[0] == "udp" else "tcp"
            print(f"     <- {path[0]} {where}: {data[:300]!r}")
        if msg is None:
            return
        if dedupe:
            now = time.monotonic()
            last = self.seen.get(data)
            self.seen[data] = now
            if last is not None and now - last < RETRANS_WINDOW_S:
                return
        probe = self.probe
        if probe is None or not probe.mine(msg):
            if probe is not None:
                probe.stray += 1
            return
        if msg.status is not None:
            (probe.finals if msg.status >= 200 else probe.provisional).append(msg.status)
        elif msg.method:
            probe.forwarded.append(msg.method)
            if msg.method != "ACK":
                self.sink_answer(msg, path)

    def sink_answer(self, msg, path):
        """Answer a forwarded request 200, back to its top Via (UDP) or on its connection."""
        lines = ["SIP/2.0 200 OK"]
        lines += [f"Via: {v}" for v in msg.values("via")]
        to = msg.first("to") or ""
        if ";tag=" not in to.lower():
            to += ";tag=strowgersink"
        lines += [f"From: {msg.first('from') or ''}", f"To: {to}",
                  f"Call-ID: {msg.first('call-id') or ''}", f"CSeq: {msg.first('cseq') or ''}",
                  "Content-Length: 0"]
        out = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        kind, sock, addr = path
        try:
            if kind == "tcp":
                sock.sendall(out)
            else:
                sock.sendto(out, via_target(msg.first("via"), addr))
        except OSError:
            pass

    # ---- one message ----------------------------------------------------------------------

    def exchange(self, data, transport, family, wait_s, want_final):
        info = h.SipMessage.parse(data)
        call_ids = info.values("call-id") if info else []
        proxy_addr = "::1" if family == socket.AF_INET6 else "127.0.0.1"
        client = None
        key = txn_key(info)
        ready = self.last_sent.get(key, 0.0) + TXN_LIFETIME_S
        while time.monotonic() < ready:  # late traffic for earlier messages is drained here
            self.pump(min(0.1, max(0.0, ready - time.monotonic())))
        self.last_sent[key] = time.monotonic()
        self.probe = probe = Probe(call_ids)
        try:
            if transport == "udp":
                sock = self.udp[(family, via_port(info))]
                sock.sendto(data, (proxy_addr, PROXY_PORT))
            else:
                client = socket.socket(family, socket.SOCK_STREAM)
                client.settimeout(2)
                client.connect((proxy_addr, PROXY_PORT))
                client.sendall(data)
                client.setblocking(False)
                self.sel.register(client, selectors.EVENT_READ, ("tcp", {"buf": b"", "client": True}))
        except OSError as e:
            probe.error = str(e)
            return probe
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            self.pump(0.05)
            if want_final and probe.finals:
                settle = time.monotonic() + 0.1   # catch a second final, if any
                while time.monotonic() < settle:
                    self.pump(0.02)
                break
            if probe.closed:
                break
        if client is not None and not probe.closed:
            try:
                self.sel.unregister(client)
            except (KeyError, ValueError):
                pass
            client.close()
        self.probe = None
        return probe

    def judge(self, row, transport, probe):
        name = row["file"]
        if probe.error:
            return f"could not send: {probe.error}"
        first = probe.finals[0] if probe.finals else None
        got = f"finals={probe.finals} forwarded={probe.forwarded} closed={probe.closed}"
        if row["kind"] == "response":
            if probe.finals or probe.provisional or probe.forwarded:
                return f"a response must be dropped silently; got {got}"
            return None
        if len(probe.finals) > 1:
            return f"more than one final response; {got}"
        if transport == "tcp" and name in TCP_ANYTHING:
            return None
        if transport == "tcp" and name in TCP_CLOSE_OK and probe.closed and first is None:
            return None
        if transport == "tcp" and name in TCP_SILENCE_OK and first is None and not probe.forwarded:
            return None
        if name in STATUS:
            return None if first in STATUS[name] else f"want {sorted(STATUS[name])}; {got}"
        if row["expected"] == "invalid":
            if first == 400 or (name in LIBERAL and forward_like(first)):
                return None
            return f"want 400{' (or a forward)' if name in LIBERAL else ''}; {got}"
        # valid or valid-but-questionable: routable, so forwarded or answered, never 400.
        if name in LIBERAL and first == 400:
            return None
        if not forward_like(first):
            return f"want a forward or a non-400 answer; {got}"
        host = ruri_host(row["data"])
        if host is not None and any(host in net for net in LOCAL_NETS) and not probe.forwarded:
            return f"R-URI host {host} is reachable here but the request was not forwarded; {got}"
        return None

    def alive_and_answering(self, family):
        if not self.proxy.alive():
            return f"proxy died (exit {self.proxy.proc.returncode})"
        addr = "::1" if family == socket.AF_INET6 else "127.0.0.1"
        status = h.options_ping(addr, PROXY_PORT, timeout_s=3.0)
        if status != 200:
            return f"proxy stopped answering OPTIONS on {addr} (got {status})"
        return None


def split_stream(state):
    """Complete messages from a TCP buffer, framed by Content-Length (0 if absent)."""
    out = []
    buf = state["buf"]
    while True:
        buf = buf.lstrip(b"\r\n")
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            break
        head = buf[:end]
        m = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", head)
        length = int(m.group(1)) if m else 0
        total = end + 4 + length
        if len(buf) < total:
            break
        out.append(buf[:total])
        buf = buf[total:]
    state["buf"] = buf
    return out


_VIA_RE = re.compile(r"SIP\s*/\s*[\d.]+\s*/\s*\S+\s+(\[[^\]]*\]|[^\s;:,]+)(?:\s*:\s*(\d+))?", re.I)


def via_sent_by(via):
    m = _VIA_RE.match(via or "")
    if not m:
        return None, None
    return m.group(1).strip("[]"), int(m.group(2)) if m.group(2) else None


def txn_key(msg):
    """RFC 3261 17.2.3 server transaction key: top Via branch and sent-by (Call-ID if no branch)."""
    if msg is None:
        return None
    via = msg.first("via") or ""
    m = re.search(r";\s*branch\s*=\s*([^;,\s]+)", via, re.I)
    host, port = via_sent_by(via)
    ident = m.group(1) if m else "call-id:" + (msg.first("call-id") or "")
    return (ident, (host or "").lower(), port or 5060)


def via_port(msg):
    """The port of the message's top Via (where the proxy answers it); 5060 by default."""
    if msg is None:
        return 5060
    _, port = via_sent_by(msg.first("via"))
    return port if port and port < 65536 else 5060


def via_target(via, fallback):
    host, port = via_sent_by(via)
    try:
        ipaddress.ip_address(host or "")
    except ValueError:
        return fallback
    return (host, port or 5060)


def ruri_host(data):
    """The Request-URI's host as an IP address, when it is a literal we can parse."""
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split()
    if len(parts) < 2:
        return None
    m = re.match(r"sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;?]+)", parts[1], re.I)
    if not m:
        return None
    try:
        return ipaddress.ip_address(m.group(1).strip("[]"))
    except ValueError:
        return None


def load_corpus(corpus):
    rows = []
    lines = (corpus / "MANIFEST.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    for line in lines[1:]:
        if not line.strip():
            continue
        row = dict(zip(header, line.split("\t")))
        row["data"] = (corpus / row["file"]).read_bytes()
        rows.append(row)
    # The corpus must be byte-exact: a file "fixed" by an editor would test something else.
    sums = {}
    for line in (corpus / "SHA256SUMS").read_text().splitlines():
        digest, _, name = line.partition("  ")
        sums[name.strip().lstrip("*")] = digest
    for row in rows:
        if hashlib.sha256(row["data"]).hexdigest() != sums.get(row["file"]):
            row["corrupt"] = True
    listed = {r["file"] for r in rows}
    unlisted = sorted(p.name for p in corpus.glob("*.sip") if p.name not in listed)
    return rows, unlisted


def sink_ports(rows):
    ports = set(BASE_SINK_PORTS)
    for row in rows:
        msg = h.SipMessage.parse(row["data"])
        if msg:
            ports.add(via_port(msg))
        m = re.match(rb"\S+ \S*?:(\d{2,5})[;> ]", row["data"].split(b"\r\n", 1)[0] + b" ")
        if m and 0 < int(m.group(1)) < 65536:
            ports.add(int(m.group(1)))
    ports.discard(PROXY_PORT)
    return ports


def setup_namespace():
    for cmd in (["ip", "link", "set", "lo", "up"],
                ["ip", "route", "add", "local", "192.0.2.0/24", "dev", "lo"],
                ["ip", "-6", "route", "add", "local", "2001:db8::/32", "dev", "lo"]):
        subprocess.run(cmd, check=True)
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind(("::1", 0))  # raises if IPv6 loopback is missing in the namespace


def run_inside(args):
    h.exit_on_sigterm()
    setup_namespace()
    corpus = Path(args.corpus)
    rows, unlisted = load_corpus(corpus)
    if args.only:
        rows = [r for r in rows if r["file"] in args.only.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="strowger-torture-"))
    hs = Harness(args, workdir)
    hs.open_sinks(sink_ports(rows))
    passed, failed = {"udp": 0, "tcp": 0}, {"udp": 0, "tcp": 0}
    extra_pass, extra_fail = 0, 0
    if unlisted:
        print(f"FAIL corpus: files not in MANIFEST.tsv: {', '.join(unlisted)}")
        extra_fail += 1
    corrupt = [r["file"] for r in rows if r.get("corrupt")]
    if corrupt:
        print(f"FAIL corpus: SHA256SUMS mismatch (changed files): {', '.join(corrupt)}")
        extra_fail += 1
    else:
        extra_pass += 1
    if not hs.start_proxy():
        print(f"FAIL startup: proxy did not answer OPTIONS (log {hs.proxy.log_path})")
        print(h.tail(hs.proxy.log_path, 40))
        hs.proxy.stop()
        print(f"logs kept in {workdir}")
        print(f"torture suite: 0 passed, {2 * len(rows) + extra_fail + 1} failed")
        return 1
    for transport in ("udp", "tcp"):
        for row in rows:
            family = socket.AF_INET6 if row["rfc_section"].startswith("RFC5118") else socket.AF_INET
            is_request = row["kind"] == "request"
            wait = ANSWER_WAIT_S if is_request else SILENCE_WAIT_S
            probe = hs.exchange(row["data"], transport, family, wait, want_final=is_request)
            reason = hs.judge(row, transport, probe)
            down = hs.alive_and_answering(family)
            if down:
                reason = f"{reason + '; ' if reason else ''}{down}"
            label = f"{transport} {row['file']}"
            if reason is None:
                passed[transport] += 1
                if args.verbose:
                    print(f"PASS {label}: finals={probe.finals} forwarded={probe.forwarded}")
            else:
                failed[transport] += 1
                print(f"FAIL {label} ({row['expected']}, {row['proxy_action']}): {reason}",
                      flush=True)
            if not hs.proxy.alive():
                hs.proxy.stop()
                hs.restarts += 1
                print(f"     proxy restarted after {label} (log {hs.proxy.log_path})")
                hs.start_proxy()
        print(f"torture {transport}: {passed[transport]} passed, {failed[transport]} failed "
              f"of {len(rows)}", flush=True)
    # After the whole corpus: still answering on both address families.
    for family, name in ((socket.AF_INET, "final_options_ipv4"), (socket.AF_INET6, "final_options_ipv6")):
        down = hs.alive_and_answering(family)
        if down:
            extra_fail += 1
            print(f"FAIL {name}: {down}")
        else:
            extra_pass += 1
    rc = hs.proxy.stop()
    report = h.sanitizer_report(hs.proxy.log_text())
    if args.peer == "sipproxy":
        if report or rc != 0:
            extra_fail += 1
            print(f"FAIL clean_shutdown: {report or f'exit {rc} after SIGTERM (want 0)'}")
        else:
            extra_pass += 1
    total_pass = passed["udp"] + passed["tcp"] + extra_pass
    total_fail = failed["udp"] + failed["tcp"] + extra_fail
    if total_fail or args.keep:
        print(f"logs kept in {workdir}")
        if total_fail:
            print(h.tail(hs.proxy.log_path, 30))
    else:
        for p in workdir.iterdir():
            p.unlink()
        workdir.rmdir()
    print(f"torture suite: {total_pass} passed, {total_fail} failed")
    return 0 if total_fail == 0 else 1


def main():
    ap = argparse.ArgumentParser(description="SIP torture-corpus test (runs in its own netns)")
    ap.add_argument("--bin", default=str(h.DEFAULT_BIN))
    ap.add_argument("--peer", choices=["sipproxy", "kamailio"], default="sipproxy")
    ap.add_argument("--corpus", default=str(h.REPO.parent / "shared" / "testdata" / "sip-torture"))
    ap.add_argument("--only", help="comma-separated file names, e.g. wsinv.sip,clerr.sip")
    ap.add_argument("--verbose", action="store_true", help="print passing messages too")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--trace", action="store_true", help="print everything that comes back")
    ap.add_argument("--log-level", default="info")
    ap.add_argument("--in-netns", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if not (Path(args.corpus) / "MANIFEST.tsv").is_file():
        print(f"FAIL corpus: no MANIFEST.tsv in {args.corpus}")
        print("torture suite: 0 passed, 1 failed")
        return 1
    if args.peer == "sipproxy" and not os.access(args.bin, os.X_OK):
        print(f"FAIL startup: no executable {args.bin}")
        print("torture suite: 0 passed, 1 failed")
        return 1
    if args.in_netns:
        return run_inside(args)
    # Everything below runs in a fresh network namespace: nothing can leave this machine.
    unshare = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--map-root-user", "--net"]
    argv = [a for a in sys.argv[1:]] + ["--in-netns", "--bin", os.path.abspath(args.bin),
                                         "--corpus", os.path.abspath(args.corpus)]
    h.exit_on_sigterm()
    inner = h.spawn(unshare + ["--", sys.executable, os.path.abspath(__file__), *argv], None)
    try:
        return inner.wait()
    finally:
        if inner.poll() is None:  # we were interrupted: the inner runner cleans up on SIGTERM
            inner.terminate()
            try:
                inner.wait(timeout=20)
            except subprocess.TimeoutExpired:
                h.kill_group(inner)


if __name__ == "__main__":
    sys.exit(main())
