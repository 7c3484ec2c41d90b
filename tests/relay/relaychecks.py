# The relay suite's ng checks (the python ng client talks to the relay directly, no SIP) and
# the list of all checks. Each check takes the Suite and returns None (pass) or the reason.
import os
import time

import relayharness as rh
import relaysip

RELAY_IP = "127.0.0.1"


def _sdp(reply):
    return rh.text(reply.get("sdp")) if isinstance(reply, dict) else None


def _fmt(reply):
    text = repr(reply)
    return text if len(text) < 400 else text[:400] + "..."


def ng_ping(s):
    """ping is answered with result pong"""
    r = s.ng.request("ping")
    if r is None:
        return "no reply to ping"
    if rh.result(r) != "pong":
        return f"ping reply {_fmt(r)}"
    return None


def _bad_inputs():
    sdp = rh.sdp_offer(RELAY_IP, 40000)
    enc = rh.bencode
    # (what, payload, must the reply be result: error)
    return [
        ("a list instead of a dict", b"li1ee", True),
        ("a dict without command", enc({"call-id": "x"}), True),
        ("an unknown command", enc({"command": "frobnicate"}), True),
        ("offer without call-id", enc({"command": "offer", "from-tag": "t", "sdp": sdp}), True),
        ("offer without from-tag", enc({"command": "offer", "call-id": "relaytest-bad1", "sdp": sdp}), True),
        ("offer without sdp", enc({"command": "offer", "call-id": "relaytest-bad2", "from-tag": "t"}), True),
        ("offer with unparsable sdp", enc({"command": "offer", "call-id": "relaytest-bad3",
                                           "from-tag": "t", "sdp": "garbage"}), True),
        ("answer for an unknown call", enc({"command": "answer", "call-id": "relaytest-nosuch",
                                            "from-tag": "a", "to-tag": "b", "sdp": sdp}), True),
        ("query for an unknown call", enc({"command": "query", "call-id": "relaytest-nosuch"}), True),
        ("not bencode at all", b"hello world", True),
        ("a string length past the end", b"d7:command999:ping", True),
        # Lenient relays (rtpengine) answer these; a strict one may refuse: either is fine,
        # as long as the relay lives on.
        ("a dict missing its final e", b"d7:command4:ping", False),
        ("5000 nested lists", b"l" * 5000 + b"e" * 5000, False),
        ("an empty payload", b"", False),
    ]


def ng_bad_input(s):
    """malformed or invalid requests get result error with an error-reason, and the relay lives on"""
    problems = []
    for what, payload, must_error in _bad_inputs():
        reply = s.ng.raw(payload, s.ng.cookie(), timeout_s=0.5, tries=2)
        if reply is None:
            if must_error:
                problems.append(f"{what}: no reply")
            continue
        try:
            value = rh.bdecode(reply)
        except ValueError:
            problems.append(f"{what}: reply is not bencode: {reply[:80]!r}")
            continue
        if not isinstance(value, dict):
            problems.append(f"{what}: reply is not a dict: {reply[:80]!r}")
        elif must_error and (rh.result(value) != "error" or not value.get("error-reason")):
            problems.append(f"{what}: want result error + error-reason, got {_fmt(value)}")
        if not s.relay.alive():
            return f"relay died after {what}"
    if rh.result(s.ng.request("ping")) != "pong":
        problems.append("no pong after the bad requests")
    return "; ".join(problems) or None


def _offer_answer(s, call_id, a_port, b_port, extra=()):
    """(offer reply, answer reply, relay port for B to send to, relay port for A) or a reason."""
    offer = s.ng.request("offer", call_id=call_id, from_tag="ft-" + call_id,
                         sdp=rh.sdp_offer(RELAY_IP, a_port, extra=extra),
                         replace=["origin", "session-connection"])
    if rh.result(offer) != "ok" or not _sdp(offer):
        return f"offer: {_fmt(offer)}"
    answer = s.ng.request("answer", call_id=call_id, from_tag="ft-" + call_id, to_tag="tt-" + call_id,
                          sdp=rh.sdp_offer(RELAY_IP, b_port, session="2000"),
                          replace=["origin", "session-connection"])
    if rh.result(answer) != "ok" or not _sdp(answer):
        return f"answer: {_fmt(answer)}"
    rb, ra = rh.sdp_audio(_sdp(offer)), rh.sdp_audio(_sdp(answer))
    problems = []
    for who, got in (("offer", rb), ("answer", ra)):
        if got is None or got[0] != RELAY_IP or not s.in_range(got[1]):
            problems.append(f"{who} reply SDP audio {got}, want {RELAY_IP} and a port in "
                            f"{s.port_min}-{s.port_max}")
    if not problems and rb[1] == ra[1]:
        problems.append(f"offer and answer got the same relay port {ra[1]}")
    if problems:
        return "; ".join(problems) + f"\noffer reply SDP:\n{_sdp(offer)}\nanswer reply SDP:\n{_sdp(answer)}"
    return offer, answer, rb[1], ra[1]


def ng_offer_answer(s):
    """offer + answer rewrite c=/m= to the relay's address and ports in its range, keep the rest"""
    s.ng_call = None
    a, b = rh.RtpPeer(ssrc=0xA1), rh.RtpPeer(ssrc=0xB2)
    s.ng_peers = (a, b)
    call_id = f"relaytest-ng-{os.getpid()}"
    got = _offer_answer(s, call_id, a.port, b.port,
                        extra=["a=x-strowger-keep:byte for byte", "a=ptime:20"])
    if isinstance(got, str):
        return got
    offer, _, rb, ra = got
    sdp = _sdp(offer)
    missing = [line for line in ("s=strowger relaytest", "a=x-strowger-keep:byte for byte",
                                 "a=rtpmap:101 telephone-event/8000", "a=ptime:20")
               if line not in sdp.splitlines()]
    if missing:
        return f"offer reply SDP lost {missing}:\n{sdp}"
    s.ng_call = {"call_id": call_id, "ra": ra, "rb": rb}
    return None


def ng_media(s):
    """RTP both ways through the offer/answer ports, each side hears only the relay's port"""
    if not getattr(s, "ng_call", None):
        return "not run: ng_offer_answer failed"
    a, b = s.ng_peers
    ra, rb = (RELAY_IP, s.ng_call["ra"]), (RELAY_IP, s.ng_call["rb"])
    rh.exchange([(a, ra), (b, rb)], 25)
    return _judge_media(a, b, ra, rb, min_ratio=0.9)


def _judge_media(a, b, ra, rb, min_ratio, sent_a=None, sent_b=None):
    """A must hear B's packets from ra only, B must hear A's from rb only."""
    problems = []
    for me, peer, want_src, sent in ((a, b, ra, sent_b), (b, a, rb, sent_a)):
        got = me.from_ssrc(peer.ssrc)
        sent = peer.sent if sent is None else sent
        if len(got) < min_ratio * sent:
            problems.append(f"port {me.port} got {len(got)} of the {sent} packets port {peer.port} sent")
        wrong = sorted({r[0] for r in me.received if r[0] != want_src})
        if wrong:
            problems.append(f"port {me.port} got packets from {wrong}, want only {want_src}")
    return "; ".join(problems) or None


def _counters(reply):
    """(totals.RTP.packets, sum of per-stream stats.packets) of a query reply."""
    totals = reply.get("totals", {}).get("RTP", {}).get("packets") if isinstance(reply.get("totals"), dict) else None
    streams = 0
    for tag in (reply.get("tags") or {}).values():
        for media in tag.get("medias", []) if isinstance(tag, dict) else []:
            for stream in media.get("streams", []):
                stats = stream.get("stats", {})
                streams += stats.get("packets", 0) if isinstance(stats, dict) else 0
    return totals, streams


def ng_query_counters(s):
    """query after media shows totals.RTP.packets and per-stream packet counts (what Kamailio reads)"""
    if not getattr(s, "ng_call", None):
        return "not run: ng_offer_answer failed"
    a, b = s.ng_peers
    heard = len(a.from_ssrc(b.ssrc)) + len(b.from_ssrc(a.ssrc))
    reply = s.ng.request("query", call_id=s.ng_call["call_id"])
    if rh.result(reply) != "ok":
        return f"query: {_fmt(reply)}"
    totals, streams = _counters(reply)
    problems = []
    if not isinstance(totals, int) or totals < max(1, heard):
        problems.append(f"totals.RTP.packets {totals!r}, want >= {max(1, heard)} (packets relayed)")
    if streams < max(1, heard):
        problems.append(f"per-stream stats.packets sum {streams}, want >= {max(1, heard)}")
    return ("; ".join(problems) + f"\nreply: {_fmt(reply)}") if problems else None


def ng_delete(s):
    """delete answers ok; the call is then unknown to query and absent from list"""
    if not getattr(s, "ng_call", None):
        return "not run: ng_offer_answer failed"
    call_id = s.ng_call["call_id"]
    reply = s.ng.request("delete", call_id=call_id, from_tag="ft-" + call_id)
    for peer in s.ng_peers:
        peer.close()
    if rh.result(reply) != "ok":
        return f"delete: {_fmt(reply)}"
    return wait_call_gone(s, call_id, 2.0)


def wait_call_gone(s, call_id, timeout_s):
    """None once query says error and list lacks the call (within timeout_s), else the reason."""
    deadline = time.monotonic() + timeout_s
    while True:
        q = s.ng.request("query", call_id=call_id)
        lst = s.ng.request("list")
        calls = [rh.text(c) for c in lst.get("calls", [])] if isinstance(lst, dict) else None
        if rh.result(q) == "error" and calls is not None and call_id not in calls:
            return None
        if time.monotonic() >= deadline:
            return (f"call {call_id} still there {timeout_s:g}s later: query {_fmt(q)}; "
                    f"list {_fmt(lst)}")
        time.sleep(0.2)


def ng_cookie_retransmit(s):
    """a retransmitted offer (same cookie) gets the same reply bytes; a re-offer keeps the port"""
    call_id = f"relaytest-cookie-{os.getpid()}"
    msg = rh.bencode({"command": "offer", "call-id": call_id, "from-tag": "ft-c",
                      "sdp": rh.sdp_offer(RELAY_IP, 40010)})
    cookie = s.ng.cookie()
    first = s.ng.raw(msg, cookie)
    second = s.ng.raw(msg, cookie)
    reoffer = s.ng.raw(msg, s.ng.cookie())
    try:
        problems = []
        if first is None or second is None or reoffer is None:
            return f"no reply (first {first is not None}, retransmission {second is not None}, "\
                   f"re-offer {reoffer is not None})"
        if rh.result(rh.bdecode(first)) != "ok":
            return f"offer: {first[:300]!r}"
        if first != second:
            problems.append(f"retransmission got a different reply:\n{first[:300]!r}\n{second[:300]!r}")
        p1, p2 = rh.sdp_audio(_sdp(rh.bdecode(first))), rh.sdp_audio(_sdp(rh.bdecode(reoffer)))
        if p1 != p2:
            problems.append(f"re-offer (new cookie) moved the stream from {p1} to {p2}")
        return "; ".join(problems) or None
    finally:
        s.ng.request("delete", call_id=call_id, from_tag="ft-c")


def timeout(s):
    """a call whose media stops is deleted once the media timeout passes, not before"""
    a, b = rh.RtpPeer(ssrc=0xA3), rh.RtpPeer(ssrc=0xB4)
    call_id = f"relaytest-timeout-{os.getpid()}"
    try:
        got = _offer_answer(s, call_id, a.port, b.port)
        if isinstance(got, str):
            return got
        _, _, rb, ra = got
        rh.exchange([(a, (RELAY_IP, ra)), (b, (RELAY_IP, rb))], 20, drain_s=0.1)
        last = time.monotonic()
        heard = len(a.from_ssrc(b.ssrc)) + len(b.from_ssrc(a.ssrc))
        if heard == 0:
            return "no media relayed before the pause, so the timeout check means nothing"
        limit = s.media_timeout_s
        time.sleep(max(0.0, last + min(1.0, limit / 3) - time.monotonic()))
        early = s.ng.request("query", call_id=call_id)
        if rh.result(early) != "ok":
            return f"{time.monotonic() - last:.1f}s after the last packet the call is already gone: {_fmt(early)}"
        while True:
            q = s.ng.request("query", call_id=call_id)
            gone = time.monotonic() - last
            if rh.result(q) == "error":
                break
            if gone > limit + 8:
                return f"call still there {gone:.1f}s after its last packet (media timeout {limit}s): {_fmt(q)}"
            time.sleep(0.25)
        s.note = f"deleted {gone:.1f}s after the last packet (media timeout {limit}s)"
        # rtpengine keeps last-packet times in whole seconds: it may end a call up to 1 s early.
        if gone < limit - 1.0:
            return f"call deleted {gone:.1f}s after its last packet, before the {limit}s timeout"
        return wait_call_gone(s, call_id, 1.0)
    finally:
        a.close()
        b.close()


# (name, function, needs the SIP proxy)
CHECKS = [
    ("ng_ping", ng_ping, False),
    ("ng_bad_input", ng_bad_input, False),
    ("ng_offer_answer", ng_offer_answer, False),
    ("ng_cookie_retransmit", ng_cookie_retransmit, False),
    ("ng_media", ng_media, False),
    ("ng_query_counters", ng_query_counters, False),
    ("ng_delete", ng_delete, False),
    ("call_media", relaysip.call_media, True),
    ("call_media_sdp", relaysip.call_media_sdp, True),
    ("call_media_packets", relaysip.call_media_packets, True),
    ("call_media_no_bypass", relaysip.call_media_no_bypass, True),
    ("call_media_bye_delete", relaysip.call_media_bye_delete, True),
    ("latching", relaysip.latching, True),
    ("timeout", timeout, False),
]
