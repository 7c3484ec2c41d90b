# Plumbing for the relay interop suite and the relay benchmark: an ng client (cookie +
# bencode over UDP), the relay under test (rtpengine or rtprelay) started by PID, RTP peers on
# loopback, a PCMU pcap writer for SIPp, a dumpcap capture reader and the Kamailio config
# (python3 stdlib only; process plumbing comes from tests/sipp/sipharness.py, pcap from
# relaypcap.py).
import os
import re
import socket
import struct
import sys
import time
from pathlib import Path

RELAY_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(RELAY_DIR.parent / "sipp"))
import sipharness as h  # noqa: E402
from relaypcap import Capture, read_pcap_udp, write_pcmu_pcap  # noqa: E402,F401

REPO = h.REPO
SCENARIO_DIR = RELAY_DIR / "scenarios"
RTPENGINE_BIN = "/usr/bin/rtpengine"
DEFAULT_RTPRELAY = REPO / "build" / "bin" / "rtprelay"


# ---- bencode ------------------------------------------------------------------------------

def bencode(obj):
    """str/bytes/int/list/dict -> bytes; dict keys sorted (the protocol accepts any order)."""
    if isinstance(obj, bool):
        obj = int(obj)
    if isinstance(obj, int):
        return b"i%de" % obj
    if isinstance(obj, str):
        obj = obj.encode()
    if isinstance(obj, (bytes, bytearray)):
        return b"%d:%s" % (len(obj), bytes(obj))
    if isinstance(obj, (list, tuple)):
        return b"l" + b"".join(bencode(x) for x in obj) + b"e"
    if isinstance(obj, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in obj.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(obj).__name__}")


def _bdecode_at(data, i, depth):
    if depth > 64:
        raise ValueError("nested too deep")
    if i >= len(data):
        raise ValueError("truncated")
    c = data[i:i + 1]
    if c == b"i":
        j = data.index(b"e", i)
        return int(data[i + 1:j]), j + 1
    if c in (b"l", b"d"):
        i += 1
        items = []
        while True:
            if i >= len(data):
                raise ValueError("truncated")
            if data[i:i + 1] == b"e":
                break
            value, i = _bdecode_at(data, i, depth + 1)
            items.append(value)
        if c == b"l":
            return items, i + 1
        if len(items) % 2:
            raise ValueError("dict with a key and no value")
        return {items[k].decode("latin-1"): items[k + 1] for k in range(0, len(items), 2)}, i + 1
    j = data.index(b":", i)
    n = int(data[i:j])
    if n < 0 or j + 1 + n > len(data):
        raise ValueError("truncated string")
    return data[j + 1:j + 1 + n], j + 1 + n


def bdecode(data):
    """bytes -> value (strings stay bytes, dict keys become str); ValueError when malformed."""
    try:
        value, end = _bdecode_at(data, 0, 0)
    except (IndexError, TypeError) as e:
        raise ValueError(str(e)) from e
    if end != len(data):
        raise ValueError("trailing data")
    return value


def text(value):
    return value.decode("latin-1") if isinstance(value, bytes) else value


# ---- ng client ----------------------------------------------------------------------------

class NgClient:
    """One UDP socket; request() retransmits with the same cookie, as Kamailio does."""

    def __init__(self, host, port):
        self.addr = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.seq = 0
        self.prefix = f"rt{os.getpid()}_{id(self) & 0xffff:x}_"

    def close(self):
        self.sock.close()

    def cookie(self):
        self.seq += 1
        return f"{self.prefix}{self.seq}"

    def raw(self, payload, cookie, timeout_s=1.0, tries=3):
        """Sends `cookie payload` (bytes), returns the raw reply payload (bytes) or None."""
        packet = cookie.encode() + b" " + payload
        want = cookie.encode() + b" "
        for _ in range(tries):
            self.sock.sendto(packet, self.addr)
            deadline = time.monotonic() + timeout_s
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.sock.settimeout(left)
                try:
                    data = self.sock.recv(65535)
                except socket.timeout:
                    break
                except OSError:  # ICMP port unreachable: nobody listens (yet)
                    time.sleep(0.05)
                    break
                if data.startswith(want):
                    return data[len(want):]
        return None

    def request(self, command, timeout_s=1.0, tries=3, **keys):
        """One ng command; keys use '_' for '-' (call_id -> call-id). Returns the reply dict,
        None on timeout; raises ValueError when the reply is not a bencoded dict."""
        msg = {"command": command}
        msg.update({k.replace("_", "-"): v for k, v in keys.items()})
        reply = self.raw(bencode(msg), self.cookie(), timeout_s, tries)
        if reply is None:
            return None
        value = bdecode(reply)
        if not isinstance(value, dict):
            raise ValueError(f"reply is not a dict: {reply[:80]!r}")
        return value


def result(reply):
    return text(reply.get("result")) if isinstance(reply, dict) else None


def wait_ng(client, proc_alive, timeout_s=20.0):
    """Until the relay answers ping with pong (True), its process dies, or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not proc_alive():
            return False
        try:
            if result(client.request("ping", timeout_s=0.3, tries=1)) == "pong":
                return True
        except ValueError:
            pass
        time.sleep(0.1)
    return False


# ---- SDP --------------------------------------------------------------------------------

def sdp_offer(ip, port, session="1000", pt=0, extra=()):
    lines = ["v=0", f"o=- {session} 1 IN IP4 {ip}", "s=strowger relaytest", f"c=IN IP4 {ip}",
             "t=0 0", f"m=audio {port} RTP/AVP {pt} 101", f"a=rtpmap:{pt} PCMU/8000",
             "a=rtpmap:101 telephone-event/8000", *extra]
    return "\r\n".join(lines) + "\r\n"


def sdp_audio(sdp):
    """(connection address, audio port) of the first audio stream (media c= wins), or None."""
    if isinstance(sdp, bytes):
        sdp = sdp.decode("latin-1")
    conn, port, in_audio = None, None, False
    for line in re.split(r"\r?\n", sdp):
        if line.startswith("m="):
            if port is not None:
                break
            parts = line[2:].split()
            in_audio = parts[0] == "audio" if parts else False
            if in_audio and len(parts) > 1 and parts[1].isdigit():
                port = int(parts[1])
        elif line.startswith("c=") and (port is None or in_audio):
            parts = line[2:].split()
            if len(parts) >= 3:
                conn = parts[2].split("/")[0]
    return (conn, port) if port is not None else None


# ---- the relay under test -------------------------------------------------------------------

def pick_port_range(size, lo=20000, hi=32000):
    """A block of `size` UDP ports below the ephemeral range with nothing bound in it now, so
    the relay's ports cannot collide with the test's own sockets (which are ephemeral)."""
    bound = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    bound.add(int(line.split()[1].rsplit(":", 1)[1], 16))
        except (OSError, StopIteration):
            pass
    seed = (os.getpid() * 7919) % ((hi - lo) // size)
    for k in range((hi - lo) // size):
        start = lo + ((seed + k) % ((hi - lo) // size)) * size
        if not any(p in bound for p in range(start, start + size)):
            return start, start + size - 1
    raise RuntimeError("no free port block for the relay")


def rtpengine_cmd(workdir, ng_port, port_min, port_max, timeout_s, threads=2, binary=RTPENGINE_BIN,
                  log_level=5):
    # --config-file=none: never read /etc/rtpengine/rtpengine.conf; --table=-1: userspace only.
    return [binary, "--config-file=none", "--foreground", "--log-stderr", "--table=-1",
            "--no-fallback", "--interface=127.0.0.1", f"--listen-ng=127.0.0.1:{ng_port}",
            f"--port-min={port_min}", f"--port-max={port_max}", f"--timeout={timeout_s}",
            "--delete-delay=0", f"--num-threads={threads}", f"--log-level={log_level}",
            f"--pidfile={Path(workdir) / 'rtpengine.pid'}"]


def write_rtprelay_config(path, ng_port, port_min, port_max, timeout_s, control_socket,
                          workers=2, log_level="info"):
    Path(path).write_text(
        "# Generated by the Strowger relay test harness.\n"
        "interfaces:\n"
        "  - name: default\n"
        "    address: 127.0.0.1\n"
        f"port_range: {{min: {port_min}, max: {port_max}}}\n"
        "ng:\n"
        f'  udp: ["127.0.0.1:{ng_port}"]\n'
        "  tcp: []\n"
        f"workers: {workers}\n"
        f"timeouts: {{media_s: {timeout_s}, silent_s: 3600, delete_delay_s: 0, cookie_cache_s: 30}}\n"
        f"log: {{level: {log_level}, format: text}}\n"
        f'control: {{socket: "{control_socket}"}}\n')


def relay_cmd(kind, workdir, ng_port, port_min, port_max, timeout_s, binary=None, workers=2,
              log_level=None):
    if kind == "rtpengine":
        return rtpengine_cmd(workdir, ng_port, port_min, port_max, timeout_s, threads=workers,
                             binary=binary or RTPENGINE_BIN,
                             log_level=5 if log_level is None else log_level)
    cfg = Path(workdir) / "rtprelay.yaml"
    write_rtprelay_config(cfg, ng_port, port_min, port_max, timeout_s, Path(workdir) / "rtprelay.sock",
                          workers=workers, log_level=log_level or "info")
    return [binary or DEFAULT_RTPRELAY, "-c", cfg]


# ---- RTP peers ----------------------------------------------------------------------------

def rtp_packet(seq, ssrc, pt=0, size=172):
    head = struct.pack("!BBHII", 0x80, pt, seq & 0xffff, (seq * 160) & 0xffffffff, ssrc)
    return head + bytes(size - len(head))


class RtpPeer:
    """A phone's media socket on 127.0.0.1: sends numbered RTP, records who sent it what."""

    def __init__(self, port=0, ssrc=0x5157):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.ssrc = ssrc
        self.seq = 0
        self.sent = 0
        self.received = []  # (source address, seq, ssrc)

    def send(self, to):
        self.seq += 1
        self.sock.sendto(rtp_packet(self.seq, self.ssrc), to)
        self.sent += 1

    def poll(self):
        while True:
            try:
                data, src = self.sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # ICMP errors of earlier sends
                continue
            if len(data) >= 12:
                seq, ssrc = struct.unpack("!H4xI", data[2:12])
                self.received.append((src, seq, ssrc))

    def from_ssrc(self, ssrc):
        return [r for r in self.received if r[2] == ssrc]

    def close(self):
        self.sock.close()


def exchange(pairs, count, interval_s=0.02, drain_s=0.4):
    """pairs: [(peer, destination)]; each peer sends `count` packets, one per interval, all
    interleaved; then everyone keeps reading for drain_s."""
    peers = [p for p, _ in pairs]
    for _ in range(count):
        for peer, to in pairs:
            peer.send(to)
        time.sleep(interval_s)
        for peer in peers:
            peer.poll()
    deadline = time.monotonic() + drain_s
    while time.monotonic() < deadline:
        time.sleep(0.02)
        for peer in peers:
            peer.poll()


# ---- Kamailio with the rtpengine module ---------------------------------------------------

def write_kamailio_config(path, port, ng_port, *, flags="replace-origin replace-session-connection",
                          debug=1, workers=2):
    text_ = (RELAY_DIR / "kamailio-rtpengine.cfg.in").read_text()
    subst = {"@DEBUG@": str(debug), "@WORKERS@": str(workers), "@PROXY_PORT@": str(port),
             "@MODULE_PATH@": h.KAMAILIO_MODULES, "@NG_PORT@": str(ng_port), "@FLAGS@": flags}
    for key, value in subst.items():
        text_ = text_.replace(key, value)
    Path(path).write_text(text_)


# ---- sipproxy with its relay module (modules/rtprelay) --------------------------------------

DEFAULT_SIPPROXY = REPO / "build" / "bin" / "sipproxy"


def write_sipproxy_relay_config(workdir, port, ng_port, *,
                                flags="replace-origin replace-session-connection", workers=2,
                                log_level="info"):
    """sipproxy.yaml + routing.cfg (sipproxy-rtprelay.cfg.in) in workdir; returns the yaml path."""
    script = Path(workdir) / "routing.cfg"
    text_ = (RELAY_DIR / "sipproxy-rtprelay.cfg.in").read_text()
    for key, value in {"@NG_PORT@": str(ng_port), "@FLAGS@": flags}.items():
        text_ = text_.replace(key, value)
    script.write_text(text_)
    cfg = Path(workdir) / "sipproxy.yaml"
    h.write_sipproxy_config(cfg, [("udp", "127.0.0.1", port)], workers=workers, t1_ms=200,
                            timer_c_ms=10000, control_socket=Path(workdir) / "sipproxy.sock",
                            log_level=log_level, script=script)
    return cfg


def sipp_received(message_log, first_line_re):
    """Bodies (str) of the messages a SIPp -trace_msg log shows as received whose first line
    matches first_line_re, in order."""
    try:
        content = Path(message_log).read_text(errors="replace")
    except OSError:
        return []
    out = []
    for section in re.split(r"\n-{20,}[^\n]*\n", "\n" + content):
        head, _, msg = section.partition("message received")
        if not _:
            continue
        msg = msg.split("\n", 1)[1] if "\n" in msg else ""
        msg = msg.lstrip("\r\n")
        if re.match(first_line_re, msg):
            out.append(msg)
    return out
