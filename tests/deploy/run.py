#!/usr/bin/env python3
# The deployed defaults end to end: deploy/sipproxy.yaml (routing-scripts/default.cfg with auth,
# registrar and relay on) and deploy/rtprelay.yaml, as deploy/run.sh starts them, with only the
# ports and sockets moved to free ones. Checks what an operator gets out of the box: digest
# auth on REGISTER, a wrong password refused, a call to a registered user with proxy auth and
# its media anchored on the relay. One PASS/FAIL line per check, then
# "deploy suite: N passed, N failed".
import argparse
import base64
import json
import os
import re
import shutil
import socket
import ssl
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sipp"))
import sipharness as h  # noqa: E402
import webharness as w  # noqa: E402

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
SIPP_SCENARIOS = h.SIPP_DIR / "scenarios"



def options_text(transport, port):
    return (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/{transport} deploytest.invalid;branch=z9hG4bK-{os.urandom(6).hex()}\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:probe@deploytest.invalid>;tag=1\r\n"
            "To: <sip:127.0.0.1>\r\nCall-ID: " + os.urandom(8).hex() + "\r\n"
            "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")


def status_of(text):
    m = re.match(r"SIP/2\.0 (\d{3})", text)
    return int(m.group(1)) if m else None


def connect(port, ca):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if ca is None:
        return sock
    ctx = ssl.create_default_context(cafile=str(ca))
    return ctx.wrap_socket(sock, server_hostname="127.0.0.1")


def options_over_tls(port, ca):
    """A SIP OPTIONS over a verified TLS connection: the response's status (None: none)."""
    try:
        with connect(port, ca) as s:
            s.sendall(options_text("TLS", port).encode())
            return status_of(w.recv_head(s).decode(errors="replace"))
    except (OSError, ssl.SSLError) as e:
        print(f"  tls: {e}")
        return None


def options_over_websocket(port, ca):
    """RFC 7118: upgrade with the sip sub-protocol, one OPTIONS in a masked text frame."""
    try:
        with connect(port, ca) as s:
            key = base64.b64encode(os.urandom(16)).decode()
            s.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                       f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n").encode())
            data = w.recv_head(s)
            if b"\r\n\r\n" not in data:
                return None
            head, _, rest = data.partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 101"):
                print(f"  ws: {head[:80]!r}")
                return None
            payload = options_text("WSS" if ca else "WS", port).encode()
            mask = os.urandom(4)
            frame = bytes([0x81, 0x80 | 126]) + struct.pack("!H", len(payload)) + mask
            frame += bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            s.sendall(frame)
            data = rest
            while True:
                if len(data) >= 4:
                    n = data[1] & 0x7F
                    off = 2
                    if n == 126:
                        n = struct.unpack("!H", data[2:4])[0]
                        off = 4
                    if len(data) >= off + n:
                        return status_of(data[off:off + n].decode(errors="replace"))
                chunk = s.recv(4096)
                if not chunk:
                    return None
                data += chunk
    except (OSError, ssl.SSLError) as e:
        print(f"  ws: {e}")
        return None


class Suite(w.Suite):
    def __init__(self, args):
        super().__init__(args, "deploy", "strowger-deploy-")
        self.procs = []

    def deployed_configs(self):
        """Copies of the deployed files with free ports and sockets in the work dir."""
        port = h.free_port(self.used)
        yaml = (h.REPO / "deploy" / "sipproxy.yaml").read_text()
        yaml = yaml.replace("port: 5060", f"port: {port}")
        self.tls_port, self.ws_port, self.wss_port = (h.free_port(self.used) for _ in range(3))
        yaml = yaml.replace("port: 5061", f"port: {self.tls_port}")
        yaml = yaml.replace("port: 8080", f"port: {self.ws_port}")
        yaml = yaml.replace("port: 8443", f"port: {self.wss_port}")
        # The development certificates deploy/run.sh makes, made here in the work dir.
        certs = self.work / "certs"
        err = w.make_dev_certs(certs)
        if err:
            raise RuntimeError(err)
        self.ca = certs / "ca.pem"
        yaml = yaml.replace("../certs/dev/", f"{certs}/")
        yaml = yaml.replace("/run/strowger/sipproxy.sock", str(self.work / "sipproxy.sock"))
        yaml = yaml.replace("file: ../routing-scripts/default.cfg",
                            f"file: {h.REPO / 'routing-scripts' / 'default.cfg'}")
        (self.work / "sipproxy.yaml").write_text(yaml)
        shutil.copy(h.REPO / "deploy" / "subscribers.yaml", self.work / "subscribers.yaml")
        relay = (h.REPO / "deploy" / "rtprelay.yaml").read_text()
        relay = relay.replace("/run/strowger/rtprelay.sock", str(self.work / "rtprelay.sock"))
        relay = relay.replace("workers: 0 ", "workers: 1 ")
        (self.work / "rtprelay.yaml").write_text(relay)
        return port

    def register_xml(self, final):
        path = self.work / f"uac_register_{final}.xml"
        text = (SCENARIOS / "uac_register_auth.xml").read_text()
        path.write_text(text.replace('response="FINAL"', f'response="{final}"'))
        return path

    def sipctl(self, socket, *args):
        sipctl = Path(self.args.bin).resolve().parent / "sipctl"
        return w.sipctl(sipctl, socket, "-j", *args, timeout=20)

    def sipp(self, name, xml, port, remote, extra):
        base = self.work / name
        cmd = [self.args.sipp, "-sf", xml, "-i", "127.0.0.1", "-p", h.free_port(self.used),
               f"127.0.0.1:{remote}", "-m", "1", "-nostdin", "-timeout", "15s", "-timeout_error",
               "-trace_err", "-error_file", f"{base}_err.log", "-trace_logs", "-log_file",
               f"{base}_log.log", *extra]
        out = open(f"{base}_stdout.log", "wb")
        proc = h.spawn(cmd, out, cwd=self.work)
        proc.out = out
        self.procs.append(proc)
        return proc, base

    def run(self):
        port = self.deployed_configs()
        relay_bin = Path(self.args.bin).resolve().parent / "rtprelay"
        relay = None
        try:
            relay = h.ProxyProcess([relay_bin, "-c", self.work / "rtprelay.yaml"],
                                   self.work / "rtprelay.log", cwd=self.work)
            relay.start()
            proxy = h.ProxyProcess([self.args.bin, "-c", self.work / "sipproxy.yaml"],
                                   self.work / "sipproxy.log", cwd=self.work)
            proxy.start()
            ready = proxy.wait_ready("127.0.0.1", port, timeout_s=20)
            self.result("sipproxy starts on the deployed config and answers OPTIONS", ready,
                       h.tail(self.work / "sipproxy.log", 20))
            if not ready:
                return
            self.result("rtprelay starts on the deployed config", relay.alive(),
                       h.tail(self.work / "rtprelay.log", 20))

            self.result("TLS on the deployed port: handshake verified against the dev CA, "
                       "OPTIONS answered 200", options_over_tls(self.tls_port, self.ca) == 200)
            status = options_over_websocket(self.wss_port, self.ca)
            self.result("WSS on the deployed port: WebSocket upgrade (sip), OPTIONS answered 200",
                       status == 200, f"got {status}")
            status = options_over_websocket(self.ws_port, None)
            self.result("WS on the deployed port: WebSocket upgrade (sip), OPTIONS answered 200",
                       status == 200, f"got {status}")
            uac, base = self.sipp("register", self.register_xml(200), 0, port,
                                  ["-s", "alice", "-au", "alice", "-ap", "alice-demo-secret"])
            rc = uac.wait(timeout=30)
            self.result("REGISTER: 401 challenge, then 200 with the demo credentials", rc == 0,
                       h.tail(f"{base}_err.log", 10))
            uac, base = self.sipp("wrong", self.register_xml(401), 0, port,
                                  ["-s", "bob", "-au", "bob", "-ap", "not-the-password"])
            rc = uac.wait(timeout=30)
            self.result("REGISTER with a wrong password: challenged again (401)", rc == 0,
                       h.tail(f"{base}_err.log", 10))

            # bob: a SIPp UAS whose binding is added by the operator command.
            uas_port = h.free_port(self.used)
            out = open(self.work / "uas_stdout.log", "wb")
            uas = h.spawn([self.args.sipp, "-sf", SIPP_SCENARIOS / "uas_call.xml", "-i",
                           "127.0.0.1", "-p", uas_port, "-m", "1", "-nostdin", "-timeout", "30s"],
                          out, cwd=self.work)
            uas.out = out
            self.procs.append(uas)
            r = self.sipctl(self.work / "sipproxy.sock", "ul.add", "aor=bob",
                            f"contact=sip:bob@127.0.0.1:{uas_port}", "expires=60")
            self.result("sipctl ul.add bob", r.returncode == 0, r.stderr + r.stdout)
            time.sleep(0.3)
            uac, base = self.sipp("call", SCENARIOS / "uac_call_auth.xml", 0, port,
                                  ["-s", "bob", "-au", "alice", "-ap", "alice-demo-secret"])
            rc = uac.wait(timeout=40)
            urc = uas.wait(timeout=10) if rc == 0 else None
            self.result("call alice -> bob: 407, authenticated INVITE, 200, ACK, BYE",
                       rc == 0 and urc == 0, h.tail(f"{base}_err.log", 10))
            log = Path(f"{base}_log.log")
            m = re.search(r"answer media c=IN IP4 ([0-9.]+) m=audio ([0-9]+)",
                          log.read_text() if log.exists() else "")
            anchored = m is not None and 30000 <= int(m.group(2)) <= 40000
            self.result("the answer's media points at rtprelay (a port of its range)", anchored,
                       m.group(0) if m else "no answer SDP logged")
            r = self.sipctl(self.work / "rtprelay.sock", "relay.list")
            calls = json.loads(r.stdout).get("count", 0) if r.returncode == 0 else -1
            # The relay keeps a deleted call for its delete-delay (30 s): the call is listed.
            self.result("rtprelay saw the call (relay.list)", calls >= 1, r.stdout + r.stderr)
            self.result("sipproxy still alive", proxy.alive())
            rc = proxy.stop()
            report = h.sanitizer_report(proxy.log_text())
            self.result("sipproxy stops cleanly on SIGTERM", rc == 0 and not report,
                       f"exit {rc} {report or ''}")
        finally:
            for p in self.procs:
                h.kill_group(p)
                p.wait()
            if relay is not None:
                relay.stop()
        self.summary()


def main():
    h.exit_on_sigterm()
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", default=str(h.DEFAULT_BIN), help="sipproxy (rtprelay, sipctl beside it)")
    ap.add_argument("--sipp", default=shutil.which("sipp") or "/usr/bin/sipp")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.bin = str(Path(args.bin).resolve())  # the daemons run in the work dir
    suite = Suite(args)
    suite.run()
    return 0 if suite.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
