#!/usr/bin/env python3
"""Malformed WebSocket handshakes and frames, over raw TCP, against a live WS listener.

Each case opens its own connection and checks the answer: the HTTP status of a refused
handshake, the close code of a refused frame, pongs, and that the server closes the TCP
connection afterwards. Prints one line per case and "N passed, N failed"; exit 0 when all pass.

  python3 ws_malformed.py --port 5066 [--host 127.0.0.1] [--path /]
      [--bad-origin https://evil.example --origin https://ok.example] [--bad-path /nope]
      [--max-message 65535] [--max-header 8192] [--handshake-timeout 10]
      [--keepalive-interval 30 --keepalive-timeout 10] [--sip]

The server side (sipproxy's websocket module, or tests/unit/websocket/ws_test_server) must use
the limits given here; the slow cases (timeouts, keepalive) run only when asked for.
"""
import argparse
import base64
import os
import socket
import struct
import sys
import time

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def request(path="/", host="sip.example", extra=None, drop=(), replace=None, method="GET",
            origin=None):
    headers = {
        "Host": host,
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": KEY,
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Protocol": "sip",
    }
    if origin:
        headers["Origin"] = origin
    for k in drop:
        headers.pop(k, None)
    headers.update(replace or {})
    lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
    lines += extra or []
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def frame(opcode, payload=b"", fin=True, masked=True, rsv=0, length=None):
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    n = len(payload) if length is None else length
    m = 0x80 if masked else 0
    if n < 126:
        head += bytes([m | n])
    elif n <= 0xFFFF:
        head += bytes([m | 126]) + struct.pack("!H", n)
    else:
        head += bytes([m | 127]) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class Conn:
    def __init__(self, host, port, timeout=3.0):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data, byte_by_byte=False):
        if byte_by_byte:
            for i in range(len(data)):
                self.s.sendall(data[i:i + 1])
        else:
            self.s.sendall(data)

    def _fill(self, deadline):
        self.s.settimeout(max(0.05, deadline - time.time()))
        try:
            chunk = self.s.recv(65536)
        except socket.timeout:
            return None
        except ConnectionResetError:
            return b""
        if chunk:
            self.buf += chunk
        return chunk

    def http_status(self, timeout=3.0):
        deadline = time.time() + timeout
        while b"\r\n\r\n" not in self.buf:
            chunk = self._fill(deadline)
            if not chunk:
                return None, self.buf
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        first = head.split(b"\r\n")[0].decode(errors="replace")
        parts = first.split(" ")
        return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None), head

    def open(self, req):
        self.send(req)
        status, head = self.http_status()
        if status != 101:
            raise AssertionError(f"handshake answered {status}")
        if f"Sec-WebSocket-Accept: {ACCEPT}".encode() not in head:
            raise AssertionError("wrong or missing Sec-WebSocket-Accept")
        if b"Sec-WebSocket-Protocol: sip" not in head:
            raise AssertionError("sub-protocol sip not chosen")

    def next_frame(self, timeout=3.0):
        """(opcode, payload) of the next server frame; None on timeout, () on close."""
        deadline = time.time() + timeout
        while True:
            if len(self.buf) >= 2:
                b0, b1 = self.buf[0], self.buf[1]
                if b1 & 0x80:
                    raise AssertionError("server frame is masked")
                n, pos = b1 & 0x7F, 2
                if n == 126 and len(self.buf) >= 4:
                    n, pos = struct.unpack("!H", self.buf[2:4])[0], 4
                elif n == 127 and len(self.buf) >= 10:
                    n, pos = struct.unpack("!Q", self.buf[2:10])[0], 10
                if (b1 & 0x7F) < 126 or pos > 2:
                    if len(self.buf) >= pos + n:
                        payload = self.buf[pos:pos + n]
                        self.buf = self.buf[pos + n:]
                        return b0 & 0x0F, payload
            chunk = self._fill(deadline)
            if chunk is None:
                return None
            if chunk == b"":
                return ()

    def closed(self, timeout=3.0):
        """True when the server closes the TCP connection (after whatever it still sends)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            chunk = self._fill(deadline)
            if chunk == b"":
                return True
            if chunk is None:
                return False
        return False

    def close(self):
        self.s.close()


def expect_close_code(c, code):
    f = c.next_frame()
    if not f or f[0] != 0x8:
        raise AssertionError(f"expected a close frame, got {f!r}")
    got = struct.unpack("!H", f[1][:2])[0] if len(f[1]) >= 2 else None
    if got != code:
        raise AssertionError(f"close code {got}, expected {code}")
    if not c.closed():
        raise AssertionError("TCP connection not closed after the close frame")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/")
    ap.add_argument("--origin", help="an allowed Origin (sent on the valid handshakes)")
    ap.add_argument("--bad-origin", help="an Origin the server refuses (403)")
    ap.add_argument("--bad-path", help="a path the server refuses (404)")
    ap.add_argument("--max-message", type=int, default=65535)
    ap.add_argument("--max-header", type=int, default=8192)
    ap.add_argument("--handshake-timeout", type=float)
    ap.add_argument("--keepalive-interval", type=float)
    ap.add_argument("--keepalive-timeout", type=float)
    ap.add_argument("--sip", action="store_true",
                    help="also send a fragmented OPTIONS and expect a SIP response")
    a = ap.parse_args()
    ok_req = request(a.path, origin=a.origin)

    def http_case(req, status):
        def run(c):
            c.send(req)
            got, _ = c.http_status()
            if got != status:
                raise AssertionError(f"status {got}, expected {status}")
            if not c.closed():
                raise AssertionError("connection not closed after the refusal")
        return run

    def frame_case(data, code, byte_by_byte=False):
        def run(c):
            c.open(ok_req)
            c.send(data, byte_by_byte)
            expect_close_code(c, code)
        return run

    def ping_pong(c):
        c.open(ok_req)
        c.send(frame(0x9, b"strowger"))
        f = c.next_frame()
        if f != (0xA, b"strowger"):
            raise AssertionError(f"expected pong 'strowger', got {f!r}")
        c.send(frame(0x8, struct.pack("!H", 1000) + b"bye"))
        expect_close_code(c, 1000)

    def byte_by_byte(c):
        c.send(ok_req + frame(0x9, b"slow"), byte_by_byte=True)
        status, _ = c.http_status()
        if status != 101:
            raise AssertionError(f"handshake answered {status}")
        f = c.next_frame()
        if f != (0xA, b"slow"):
            raise AssertionError(f"expected pong 'slow', got {f!r}")

    def fragmented_sip(c):
        c.open(ok_req)
        options = ("OPTIONS sip:ping@127.0.0.1 SIP/2.0\r\n"
                   "Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK" + os.urandom(4).hex() +
                   "\r\nMax-Forwards: 70\r\nFrom: <sip:probe@example.com>;tag=1\r\n"
                   "To: <sip:ping@127.0.0.1>\r\nCall-ID: " + os.urandom(6).hex() +
                   "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()
        c.send(frame(0x1, options[:20], fin=False) + frame(0x9, b"mid") +
               frame(0x0, options[20:50], fin=False) + frame(0x0, options[50:]))
        deadline = time.time() + 5
        while time.time() < deadline:
            f = c.next_frame(deadline - time.time())
            if not f:
                break
            if f[0] in (0x1, 0x2) and f[1].startswith(b"SIP/2.0 "):
                return
        raise AssertionError("no SIP response to the fragmented OPTIONS")

    def handshake_timeout(c):
        c.send(ok_req[:20])
        status, _ = c.http_status(a.handshake_timeout + 3)
        if status != 408:
            raise AssertionError(f"status {status}, expected 408")
        if not c.closed():
            raise AssertionError("connection not closed after the timeout")

    def keepalive(c):
        c.open(ok_req)
        f = c.next_frame(a.keepalive_interval + 3)
        if not f or f[0] != 0x9:
            raise AssertionError(f"expected a ping, got {f!r}")
        if a.keepalive_timeout is None:
            return
        f = c.next_frame(a.keepalive_timeout + 3)
        if not f or f[0] != 0x8:
            raise AssertionError(f"expected a close after the unanswered ping, got {f!r}")
        if not c.closed():
            raise AssertionError("connection not closed after the keepalive timeout")

    too_big = a.max_message + 1
    cases = [
        ("plain GET is 426", http_case(f"GET {a.path} HTTP/1.1\r\nHost: a\r\n\r\n".encode(), 426)),
        ("POST is 405", http_case(request(a.path, method="POST", origin=a.origin), 405)),
        ("no sip sub-protocol is 400",
         http_case(request(a.path, drop=["Sec-WebSocket-Protocol"], origin=a.origin), 400)),
        ("other sub-protocol only is 400",
         http_case(request(a.path, replace={"Sec-WebSocket-Protocol": "chat"},
                           origin=a.origin), 400)),
        ("version 8 is 426",
         http_case(request(a.path, replace={"Sec-WebSocket-Version": "8"}, origin=a.origin), 426)),
        ("short key is 400",
         http_case(request(a.path, replace={"Sec-WebSocket-Key": "c2hvcnQ="}, origin=a.origin),
                   400)),
        ("no Host is 400", http_case(request(a.path, drop=["Host"], origin=a.origin), 400)),
        ("Connection without upgrade is 400",
         http_case(request(a.path, replace={"Connection": "keep-alive"}, origin=a.origin), 400)),
        ("HTTP/1.0 is 400", http_case(request(a.path, origin=a.origin).replace(
            b"HTTP/1.1", b"HTTP/1.0", 1), 400)),
        ("oversized head is 431",
         http_case(request(a.path, extra=["X-Pad: " + "p" * a.max_header], origin=a.origin), 431)),
        ("TLS ClientHello on a WS port is 400",
         http_case(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(32) +
                   b"\r\n\r\n", 400)),
        ("ping gets its pong, close is echoed", ping_pong),
        ("handshake and ping byte by byte", byte_by_byte),
        ("unmasked frame closes 1002", frame_case(frame(0x1, b"x", masked=False), 1002)),
        ("RSV1 closes 1002", frame_case(frame(0x1, b"x", rsv=4), 1002)),
        ("opcode 3 closes 1002", frame_case(frame(0x3, b"x"), 1002)),
        ("126-byte ping closes 1002", frame_case(frame(0x9, b"p" * 126), 1002)),
        ("fragmented ping closes 1002", frame_case(frame(0x9, b"p", fin=False), 1002)),
        ("lone continuation closes 1002", frame_case(frame(0x0, b"x"), 1002)),
        ("new message mid-message closes 1002",
         frame_case(frame(0x1, b"a", fin=False) + frame(0x1, b"b"), 1002)),
        ("1-byte close payload closes 1002", frame_case(frame(0x8, b"\x03"), 1002)),
        ("64-bit length with top bit closes 1002",
         frame_case(b"\x81\xff\x80" + b"\x00" * 6 + b"\x01" + b"mask", 1002)),
        ("2^40-byte frame closes 1009 at once", frame_case(frame(0x1, b"", length=1 << 40), 1009)),
        (f"{too_big}-byte message closes 1009", frame_case(frame(0x2, b"b" * too_big), 1009)),
        ("fragments over the limit close 1009",
         frame_case(frame(0x1, b"a" * (a.max_message // 2 + 1), fin=False) +
                    frame(0x0, b"a" * (a.max_message // 2 + 1)), 1009)),
    ]
    if a.bad_origin:
        cases.append(("disallowed Origin is 403",
                      http_case(request(a.path, origin=a.bad_origin), 403)))
    if a.bad_path:
        cases.append(("unknown path is 404", http_case(request(a.bad_path, origin=a.origin), 404)))
    if a.sip:
        cases.append(("fragmented OPTIONS with a ping between gets a SIP response",
                      fragmented_sip))
    if a.handshake_timeout:
        cases.append((f"no head within {a.handshake_timeout:g} s is 408", handshake_timeout))
    if a.keepalive_interval:
        cases.append(("idle connection gets a ping" +
                      (", then a close" if a.keepalive_timeout else ""), keepalive))

    passed = failed = 0
    for name, run in cases:
        c = None
        try:
            c = Conn(a.host, a.port)
            run(c)
            print(f"ok   {name}")
            passed += 1
        except (AssertionError, OSError) as e:
            print(f"FAIL {name}: {e}")
            failed += 1
        finally:
            if c:
                c.close()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
