# The relay suite's SIP checks: SIPp UAC -> Kamailio (rtpengine module) -> SIPp UAS with the
# media anchored on the relay under test. call_media runs one call with PCMU from both SIPp
# sides under dumpcap; the call_media_* checks judge what it recorded. latching runs a call
# whose caller sends its RTP from another port than its SDP names (python RTP peers).
import socket
import time

import relayharness as rh
from relayharness import h

RELAY_IP = "127.0.0.1"
PCAP_PACKETS = 150    # 3 s of PCMU at 20 ms, played by each SIPp side
CALL_HOLD_MS = 3500   # the caller's pause between ACK and BYE (covers the whole pcap)
LATCH_HOLD_MS = 4500  # long enough for the python peers' exchange in the latching call


def free_media_port(s):
    """p with p..p+3 free for UDP: SIPp binds RTP and RTCP for audio (p) and video (p+2)."""
    for _ in range(100):
        p = h.free_port(s.used_ports)
        if p + 3 > 65535:
            continue
        try:
            socks = []
            for q in range(p + 1, p + 4):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(sock)
                sock.bind((RELAY_IP, q))
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
        s.used_ports.update(range(p, p + 4))
        return p
    raise RuntimeError("no free media port block")


def sipp(s, name, xml, port, extra):
    base = s.workdir / name
    cmd = [s.args.sipp, *extra, "-sf", rh.SCENARIO_DIR / xml, "-i", RELAY_IP, "-p", port,
           "-t", "u1", "-nostdin", "-trace_err", "-error_file", f"{base}_errors.log",
           "-trace_msg", "-message_file", f"{base}_messages.log"]
    out = open(f"{base}_stdout.log", "wb")
    proc = h.spawn(cmd, out, cwd=s.workdir)
    proc.out, proc.base = out, base
    s.children.append(proc)
    return proc


def uac_args(s, uas_port, hold_ms):
    return [f"{RELAY_IP}:{uas_port}", "-rsa", f"{RELAY_IP}:{s.proxy_port}", "-s", "callee",
            "-m", "1", "-d", hold_ms, "-timeout", "30s", "-timeout_error", "-recv_timeout", "10000"]


def finish(proc, timeout_s):
    """Exit code, or 'hung' after killing its process group by PID."""
    try:
        return proc.wait(timeout=timeout_s)
    except Exception:  # noqa: BLE001 - TimeoutExpired
        h.kill_group(proc)
        proc.wait()
        return "hung"


def stop_children(s):
    for proc in s.children:
        h.kill_group(proc)
        proc.wait()
        proc.out.close()
    s.children = []


def describe(proc):
    parts = []
    for suffix in ("_errors.log", "_stdout.log"):
        tail = h.tail(f"{proc.base}{suffix}", 12)
        if tail:
            parts.append(f"--- {proc.base.name}{suffix}\n{tail}")
    return "\n".join(parts)


def wait_udp_bound(proc, port, timeout_s=5.0):
    want = f":{port:04X}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        with open("/proc/net/udp") as f:
            if any(line.split()[1].endswith(want) for line in list(f)[1:]):
                return True
        time.sleep(0.05)
    return False


def call_media(s):
    """a SIPp call UAC -> Kamailio -> UAS with PCMU both ways completes (dumpcap records it)"""
    s.media = None
    s.children = []
    uas_port, uac_port = h.free_port(s.used_ports), h.free_port(s.used_ports)
    uac_mp, uas_mp = free_media_port(s), free_media_port(s)
    rh.write_pcmu_pcap(s.workdir / "media.pcap", PCAP_PACKETS)
    bpf = f"udp and (port {uac_mp} or port {uas_mp} or portrange {s.port_min}-{s.port_max})"
    cap = rh.Capture(s.workdir / "call_media.pcap", bpf, s.workdir / "dumpcap.log")
    if not cap.start():
        cap.stop()
        return f"dumpcap did not start capturing: {h.tail(s.workdir / 'dumpcap.log', 5)}"
    try:
        uas = sipp(s, "media_uas", "uas_media.xml", uas_port,
                   ["-mi", RELAY_IP, "-mp", uas_mp, "-m", "1", "-timeout", "30s"])
        if not wait_udp_bound(uas, uas_port):
            return "UAS did not start\n" + describe(uas)
        uac = sipp(s, "media_uac", "uac_media.xml", uac_port,
                   uac_args(s, uas_port, CALL_HOLD_MS) + ["-mi", RELAY_IP, "-mp", uac_mp,
                                                          "-cid_str", "relaytest-media-%u-%p@%s"])
        rc_uac = finish(uac, 40)
        rc_uas = finish(uas, 5)
        time.sleep(0.3)  # the last relayed packets reach the capture
    finally:
        cap.stop()
        stop_children(s)
    s.media = {"uac_mp": uac_mp, "uas_mp": uas_mp, "packets": cap.packets(),
               "uac_log": uac.base.with_name("media_uac_messages.log"),
               "uas_log": uas.base.with_name("media_uas_messages.log")}
    if rc_uac != 0:
        return f"UAC exit {rc_uac}\n" + describe(uac)
    if rc_uas != 0:
        return f"UAS exit {rc_uas}\n" + describe(uas)
    return None


def call_media_sdp(s):
    """each side's SDP names the relay's address and a port in its range, never the other phone"""
    m = getattr(s, "media", None)
    if not m:
        return "not run: call_media failed before the call"
    invites = rh.sipp_received(m["uas_log"], r"INVITE ")
    oks = [msg for msg in rh.sipp_received(m["uac_log"], r"SIP/2\.0 200") if "m=audio" in msg]
    if not invites or not oks:
        return f"SIPp logs hold {len(invites)} INVITE(s) at the UAS, {len(oks)} 200 with SDP at the UAC"
    rb, ra = rh.sdp_audio(invites[0]), rh.sdp_audio(oks[0])
    m["call_id"] = next((line.split(":", 1)[1].strip() for line in invites[0].splitlines()
                         if line.lower().startswith("call-id:")), None)
    problems = []
    for who, got, other in (("UAS (INVITE)", rb, m["uac_mp"]), ("UAC (200)", ra, m["uas_mp"])):
        if got is None or got[0] != RELAY_IP or not s.in_range(got[1]):
            problems.append(f"{who} SDP audio {got}, want {RELAY_IP} and a port in "
                            f"{s.port_min}-{s.port_max} (other phone's port {other})")
    if problems:
        return "; ".join(problems) + f"\nINVITE at UAS:\n{invites[0]}\n200 at UAC:\n{oks[0]}"
    m["ra"], m["rb"] = ra[1], rb[1]
    return None


def _legs(m):
    p = m["packets"]
    ra, rb, uac, uas = m["ra"], m["rb"], m["uac_mp"], m["uas_mp"]
    count = lambda sport, dport: sum(1 for x in p if x[1] == sport and x[3] == dport)  # noqa: E731
    return {"UAC->relay": count(uac, ra), "relay->UAS": count(rb, uas),
            "UAS->relay": count(uas, rb), "relay->UAC": count(ra, uac)}


def call_media_packets(s):
    """RTP counted on both legs in both directions: what one phone sent the other got"""
    m = getattr(s, "media", None)
    if not m or "ra" not in m:
        return "not run: call_media_sdp failed"
    legs = _legs(m)
    m["legs"] = legs
    problems = []
    for into, out in (("UAC->relay", "relay->UAS"), ("UAS->relay", "relay->UAC")):
        if legs[into] < PCAP_PACKETS // 2:
            problems.append(f"{into} {legs[into]} packets, want >= {PCAP_PACKETS // 2} (SIPp plays {PCAP_PACKETS})")
        elif legs[out] < 0.9 * legs[into]:
            problems.append(f"{out} {legs[out]} packets for {legs[into]} {into}")
    counts = ", ".join(f"{k} {v}" for k, v in legs.items())
    s.note = counts
    return (counts + ": " + "; ".join(problems)) if problems else None


def call_media_no_bypass(s):
    """no RTP goes phone to phone: each phone sends to and hears from its relay port only"""
    m = getattr(s, "media", None)
    if not m or "ra" not in m:
        return "not run: call_media_sdp failed"
    ra, rb = (RELAY_IP, m["ra"]), (RELAY_IP, m["rb"])
    want = {m["uac_mp"]: ra, m["uas_mp"]: rb}
    bad, seen = [], 0
    for src_ip, sport, dst_ip, dport, _ in m["packets"]:
        if dport in want:
            seen += 1
            if (src_ip, sport) != want[dport]:
                bad.append(f"{src_ip}:{sport} -> {dst_ip}:{dport}")
        if sport in want:
            seen += 1
            if (dst_ip, dport) != want[sport]:
                bad.append(f"{src_ip}:{sport} -> {dst_ip}:{dport}")
    if seen == 0:
        return "no phone media captured at all"
    if bad:
        return f"{len(bad)} packets bypass the relay's advertised ports {ra}/{rb}, e.g. {bad[:5]}"
    return None


def call_media_bye_delete(s):
    """after the BYE (Kamailio's delete), the relay no longer knows the call"""
    m = getattr(s, "media", None)
    if not m or not m.get("call_id"):
        return "not run: call_media_sdp failed"
    from relaychecks import wait_call_gone
    return wait_call_gone(s, m["call_id"], 3.0)


def _read_peer(path):
    """(ip, port) once SIPp's exec has written its whole line (the shell truncates first)."""
    try:
        content = path.read_text()
        if not content.endswith("\n"):
            return None
        ip, port = content.split()
        return ip, int(port)
    except (OSError, ValueError):
        return None


def latching(s):
    """a caller whose RTP comes from another port than its SDP says still hears the callee"""
    s.children = []
    b = rh.RtpPeer(ssrc=0xB5)          # the callee: sends from the port its SDP names
    decoy = rh.RtpPeer(ssrc=0xD0)      # the caller's SDP port: nothing is ever sent from it
    a = rh.RtpPeer(ssrc=0xA6)          # the caller's real media socket (as behind a NAT)
    uac_file, uas_file = s.workdir / "latch_uac_peer", s.workdir / "latch_uas_peer"
    try:
        uas_port, uac_port = h.free_port(s.used_ports), h.free_port(s.used_ports)
        uas = sipp(s, "latch_uas", "uas_latch.xml", uas_port,
                   ["-mi", RELAY_IP, "-mp", free_media_port(s), "-key", "sdp_port", b.port,
                    "-key", "peer_file", uas_file, "-m", "1", "-timeout", "30s"])
        if not wait_udp_bound(uas, uas_port):
            return "UAS did not start\n" + describe(uas)
        uac = sipp(s, "latch_uac", "uac_latch.xml", uac_port,
                   uac_args(s, uas_port, LATCH_HOLD_MS) + ["-mi", RELAY_IP, "-mp", free_media_port(s),
                                                           "-key", "sdp_port", decoy.port,
                                                           "-key", "peer_file", uac_file])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (_read_peer(uac_file) and _read_peer(uas_file)):
            if uac.poll() is not None:
                break
            time.sleep(0.05)
        ra, rb = _read_peer(uac_file), _read_peer(uas_file)
        if not ra or not rb:
            return f"the relay's ports never reached the phones (UAC {ra}, UAS {rb})\n" + describe(uac)
        for who, got in (("UAC", ra), ("UAS", rb)):
            if got[0] != RELAY_IP or not s.in_range(got[1]):
                return f"{who} SDP audio {got}, want {RELAY_IP} and a port in {s.port_min}-{s.port_max}"
        for _ in range(5):  # the caller speaks first, from its real port
            a.send(ra)
            time.sleep(0.02)
        rh.exchange([(a, ra), (b, rb)], 75)
        why = _judge_latch(a, b, decoy, ra, rb)
        s.note = (f"caller heard {len(a.from_ssrc(b.ssrc))}/{b.sent}, callee heard "
                  f"{len(b.from_ssrc(a.ssrc))}/{a.sent}; SDP port got {len(decoy.received)}")
        rc_uac, rc_uas = finish(uac, 15), finish(uas, 5)
        if why:
            return why
        if rc_uac != 0:
            return f"UAC exit {rc_uac}\n" + describe(uac)
        if rc_uas != 0:
            return f"UAS exit {rc_uas}\n" + describe(uas)
        return None
    finally:
        stop_children(s)
        for peer in (a, b, decoy):
            peer.close()


def _judge_latch(a, b, decoy, ra, rb):
    from relaychecks import _judge_media
    why = _judge_media(a, b, ra, rb, min_ratio=0.8)
    if why:
        return (f"{why} (caller SDP port {decoy.port}, real port {a.port}; the SDP port got "
                f"{len(decoy.received)} packets)")
    return None
