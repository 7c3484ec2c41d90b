#!/usr/bin/env python3
# The real-browser test of routing-scripts/webrtc.cfg: JsSIP in headless Chromium registers over
# WSS (digest auth) through sipproxy, exchanges SIP MESSAGEs, both ways, with a SIPp phone (bob)
# on UDP and calls it (signalling only). Dev certificates from certs/make-dev-certs.sh; Chromium
# trusts the server key by its SPKI hash.
# Prints one PASS/FAIL line per check and "webrtc suite: N passed, N failed".
import argparse
import base64
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "sipp"))
import sipharness as h  # noqa: E402
import webharness as w  # noqa: E402

SCRIPT = REPO / "routing-scripts" / "webrtc.cfg"
SCENARIOS = HERE / "scenarios"
DOMAIN = "127.0.0.1"
SUBSCRIBERS = f"""subscribers:
  - {{username: alice, domain: {DOMAIN}, password: alice-webrtc-pw}}
  - {{username: bob, domain: {DOMAIN}, password: bob-udp-pw}}
"""
# The bodies bob_uas.xml checks and sends.
TO_BOB = "hello bob, this is the browser"
TO_ALICE = "hello alice, this is sipp"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Suite(w.Suite):
    def __init__(self, args):
        super().__init__(args, "webrtc", "strowger-webrtc-")
        self.proxy = None

    def kill_all(self):
        # playwright starts Chromium in a process group of its own.
        self.kill_children(with_descendants=True)
        if self.proxy:
            self.proxy.stop()
            self.proxy = None

    # ---- setup ------------------------------------------------------------------------------

    def node_modules(self):
        """The npm modules when missing; never a browser."""
        return w.npm_modules(HERE, ["jssip/dist/jssip.min.js", "playwright-core"],
                             env=dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1"))

    def make_certs(self):
        certs = self.work / "certs"
        err = w.make_dev_certs(certs)
        if err:
            return None, err
        # Chromium's --ignore-certificate-errors-spki-list: base64(SHA-256(SubjectPublicKeyInfo)).
        pub = subprocess.run(["openssl", "x509", "-in", str(certs / "server.pem"), "-pubkey",
                              "-noout"], capture_output=True, check=True, timeout=30).stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub,
                             capture_output=True, check=True, timeout=30).stdout
        self.spki = base64.b64encode(hashlib.sha256(der).digest()).decode()
        return certs, None

    def start_proxy(self, certs):
        self.udp_port = h.free_port(self.used)
        self.wss_port = h.free_port(self.used)
        self.page_port = h.free_port(self.used)
        self.origin = f"http://127.0.0.1:{self.page_port}"
        # webrtc.cfg reads subscribers.yaml next to sipproxy.yaml.
        (self.work / "subscribers.yaml").write_text(SUBSCRIBERS)
        self.sock = self.work / "sipproxy.sock"
        cfg = self.work / "sipproxy.yaml"
        # The subscribers' domain is an alias (webrtc.cfg authenticates From == myself, at any
        # port). A UDP listener on the WSS port number too: webrtc.cfg must refuse what arrives
        # there.
        defines = [f"WSS_PORT={self.wss_port}", f'WS_ORIGIN="{self.origin}"', "WITH_ANTIFLOOD"]
        h.write_sipproxy_config(cfg, [("udp", "127.0.0.1", self.udp_port),
                                      ("wss", "127.0.0.1", self.wss_port),
                                      ("udp", "127.0.0.1", self.wss_port)],
                                control_socket=self.sock, log_level="info", script=SCRIPT,
                                defines=defines, aliases=(DOMAIN,))
        w.append_tls_config(cfg, certs)
        # The run uses no relay (see README.md); the relay variant must still compile.
        for extra in ([], ["-D", "WITH_RTPRELAY"]):
            r = subprocess.run([self.args.bin, "--check", "-c", cfg, *extra], capture_output=True,
                               text=True, timeout=30, env=h.sanitizer_env())
            self.result(f"sipproxy --check: {SCRIPT.name} with {' '.join(defines + extra[1:])}",
                        r.returncode == 0 and "ok" in r.stdout,
                        f"exit {r.returncode}: {(r.stdout + r.stderr).strip()[-600:]}")
        self.log = self.work / "sipproxy.log"
        self.proxy, err = w.start_sipproxy(self.args.bin, cfg, self.log, self.udp_port,
                                           self.work, env=h.sanitizer_env())
        return err

    # ---- checks without a browser -----------------------------------------------------------

    def ws_handshake(self, cafile, origin):
        """A WebSocket upgrade on the WSS port, the certificate verified against the dev CA."""
        ctx = ssl.create_default_context(cafile=str(cafile))
        key = base64.b64encode(os.urandom(16)).decode()
        with socket.create_connection(("127.0.0.1", self.wss_port), timeout=5) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{self.wss_port}\r\n"
                       "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                       f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                       f"Sec-WebSocket-Protocol: sip\r\nOrigin: {origin}\r\n\r\n").encode())
            head = w.recv_head(s)
        lines = head.decode(errors="replace").split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, _, v in
                  (line.partition(":") for line in lines[1:] if ":" in line)}
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        if not lines[0].startswith("HTTP/1.1 101"):
            return f"status line '{lines[0]}'"
        if fields.get("sec-websocket-accept") != accept:
            return f"Sec-WebSocket-Accept '{fields.get('sec-websocket-accept')}' != '{accept}'"
        if fields.get("sec-websocket-protocol", "").lower() != "sip":
            return f"Sec-WebSocket-Protocol '{fields.get('sec-websocket-protocol')}'"
        return None

    def unauthenticated_message(self, proxy_port):
        """A MESSAGE from alice without credentials, over UDP to proxy_port: the final response."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            call_id = uuid.uuid4().hex
            body = "no credentials"
            msg = (f"MESSAGE sip:bob@{DOMAIN} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{port};rport;branch=z9hG4bK{uuid.uuid4().hex}\r\n"
                   f"From: <sip:alice@{DOMAIN}>;tag={uuid.uuid4().hex[:8]}\r\n"
                   f"To: <sip:bob@{DOMAIN}>\r\nCall-ID: {call_id}\r\nCSeq: 1 MESSAGE\r\n"
                   "Max-Forwards: 70\r\nContent-Type: text/plain\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n{body}").encode()
            deadline = time.monotonic() + 5
            s.settimeout(1)
            while time.monotonic() < deadline:
                s.sendto(msg, ("127.0.0.1", proxy_port))
                try:
                    data, _ = s.recvfrom(65535)
                except socket.timeout:
                    continue
                reply = h.SipMessage.parse(data)
                if reply and reply.status and reply.status >= 200 and \
                        call_id in reply.values("call-id"):
                    return reply.status, reply.first("proxy-authenticate") or ""
        return None, ""

    # ---- SIPp and the browser -----------------------------------------------------------------

    def sipp_cmd(self, name, xml, port, *extra):
        return [self.args.sipp, f"127.0.0.1:{self.udp_port}", "-sf", SCENARIOS / xml,
                "-i", "127.0.0.1", "-p", port, "-au", "bob", "-ap", "bob-udp-pw", "-m", 1,
                "-nostdin", "-timeout_error", "-trace_msg", "-message_file",
                self.work / f"{name}_msgs.log", "-trace_err", "-error_file",
                self.work / f"{name}_err.log", *extra]

    def browser(self):
        """Runs browser.mjs; reports each of its JSON check lines as it comes."""
        cmd = ["node", HERE / "browser.mjs", "--wss", f"wss://127.0.0.1:{self.wss_port}",
               "--page-port", self.page_port, "--domain", DOMAIN, "--user", "alice",
               "--password", "alice-webrtc-pw", "--peer", f"sip:bob@{DOMAIN}",
               "--send", TO_BOB, "--expect", TO_ALICE,
               "--step-timeout", int(self.args.step_timeout * 1000),
               "--chromium", self.args.chromium, "--call"]
        cmd += ["--insecure"] if self.args.insecure else ["--spki", self.spki]
        cmd += ["--debug"] if self.args.debug else []
        log = open(self.work / "browser.log", "ab")  # our stdout copy + its stderr
        p = subprocess.Popen([str(c) for c in cmd], cwd=HERE, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=log, start_new_session=True,
                             preexec_fn=h.die_with_parent)
        self.children.append(("browser", p, log))
        seen = []
        sender = []

        def read():
            for line in p.stdout:
                log.write(line)
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                if item.get("event") == "registered":
                    # alice is reachable now: bob's MESSAGE to her goes while she sends hers.
                    sender.append(self.spawn("bob_message", self.sipp_cmd(
                        "bob_message", "bob_message.xml", h.free_port(self.used),
                        "-timeout", f"{self.args.step_timeout}s")))
                if "check" in item:
                    seen.append(item["check"])
                    self.result(f"browser: {item['check']}", item["ok"], item.get("detail", ""))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        rc = self.wait(p, self.args.step_timeout * 12 + 30)
        reader.join(timeout=5)
        self.result("browser.mjs finished", rc == 0 and len(seen) >= 11,
                    f"exit {rc}, {len(seen)} checks; {h.tail(self.work / 'browser.log', 8)}")
        rc = self.wait(sender[0], self.args.step_timeout + 10) if sender else "not started"
        self.result("SIPp bob sent a MESSAGE to alice: 407 -> digest -> 200 from the browser",
                    rc == 0, f"exit {rc}: {h.tail(self.work / 'bob_message_err.log', 8)}")

    def run(self):
        try:
            err = self.node_modules()
            self.result("node_modules (jssip, playwright-core) installed", err is None, err or "")
            if err:
                return self.finish()
            certs, err = self.make_certs()
            self.result("dev certificates made", err is None, err or "")
            if err:
                return self.finish()
            err = self.start_proxy(certs)
            self.result("sipproxy started with UDP + WSS listeners", err is None, err or "")
            if err:
                return self.finish()
            try:
                err = self.ws_handshake(certs / "ca.pem", self.origin)
            except (OSError, ssl.SSLError) as e:
                err = f"{type(e).__name__}: {e}"
            self.result("WSS: TLS (dev CA) + WebSocket upgrade, sub-protocol sip", err is None,
                        err or "")
            code, challenge = self.unauthenticated_message(self.udp_port)
            self.result("MESSAGE without credentials is challenged (407)",
                        code == 407 and "Digest" in challenge, f"got {code} {challenge}")
            code, _ = self.unauthenticated_message(self.wss_port)
            self.result("a UDP request to the WSS port number is refused (403)", code == 403,
                        f"got {code}")

            uas_port = h.free_port(self.used)
            # Two Call-IDs from the browser: its MESSAGE, then its call.
            uas = self.spawn("bob_uas", self.sipp_cmd("bob_uas", "bob_uas.xml", uas_port,
                                                      "-m", 2, "-timeout",
                                                      f"{self.args.step_timeout * 8}s"))
            time.sleep(0.3)
            reg = self.spawn("bob_register",
                             self.sipp_cmd("bob_register", "bob_register.xml",
                                           h.free_port(self.used), "-key", "contact_port",
                                           uas_port, "-timeout", f"{self.args.step_timeout}s"))
            rc = self.wait(reg, self.args.step_timeout + 10)
            self.result("SIPp bob registers over UDP (401 -> digest -> 200)", rc == 0,
                        f"exit {rc}: {h.tail(self.work / 'bob_register_err.log', 5)}")
            if rc != 0:
                return self.finish()

            self.browser()
            rc = self.wait(uas, self.args.step_timeout + 10)
            self.result("SIPp bob received the browser's MESSAGE (body, From) and answered 200, "
                        "then its INVITE (SDP UDP/TLS/RTP/SAVPF): 180, 200, ACK, BYE -> 200",
                        rc == 0,
                        f"exit {rc}: {h.tail(self.work / 'bob_uas_err.log', 5)}")
            log = self.proxy.log_text()
            self.result("the proxy refused the other origin's handshake for its Origin",
                        "handshake rejected with 403 (origin)" in log, h.tail(self.log, 10))
            self.result("the proxy saw alice REGISTER over wss",
                        "REGISTER alice over wss" in log, h.tail(self.log, 10))
            self.result("bob's MESSAGE was routed to alice's WSS connection",
                        any("MESSAGE bob -> alice" in line and "ws" in line.split("next hop")[-1]
                            for line in log.splitlines()), h.tail(self.log, 10))
            for method in ("INVITE", "ACK", "BYE"):
                self.result(f"the proxy relayed alice's {method} from wss to bob",
                            f"{method} alice -> bob over wss" in log, h.tail(self.log, 10))
        finally:
            self.kill_all()
        return self.finish()

    def finish(self):
        self.kill_all()
        self.sanitizer_check([getattr(self, "log", None)])
        return self.summary()


def main():
    h.exit_on_sigterm()
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default=str(REPO / "build"), help="build directory (bin/sipproxy)")
    ap.add_argument("--bin", default=None, help="sipproxy binary (default: BUILD/bin/sipproxy)")
    ap.add_argument("--sipp", default=shutil.which("sipp") or "/usr/bin/sipp")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--insecure", action="store_true",
                    help="--ignore-certificate-errors instead of trusting the server's SPKI")
    ap.add_argument("--step-timeout", type=int, default=15, help="seconds per step")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--debug", action="store_true",
                    help="JsSIP's SIP trace in browser.log (with --keep)")
    ap.add_argument("-v", "--verbose", action="store_true", help="details on PASS lines too")
    args = ap.parse_args()
    args.bin = str(Path(args.bin or Path(args.build) / "bin" / "sipproxy").resolve())
    if w.missing_tool("webrtc", (args.bin, args.sipp, args.chromium, shutil.which("node") or "node")):
        return 1
    return Suite(args).run()


if __name__ == "__main__":
    sys.exit(main())
