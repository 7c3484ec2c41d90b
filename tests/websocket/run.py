#!/usr/bin/env python3
# End-to-end WebSocket test of sipproxy: one proxy with UDP + WS + WSS listeners (tls,
# websocket, usrloc, registrar; routing.cfg.in), node WebSocket clients (wsagent.mjs, npm ws)
# shaped like JsSIP, SIPp phones on UDP, sipctl, and ws_malformed.py against the live WS port.
# Prints one PASS/FAIL line per check and "websocket suite: N passed, N failed"; every process
# it starts is killed by PID at the end.
import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import time
import traceback
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "sipp"))
import sipharness as h  # noqa: E402
import webharness as w  # noqa: E402
from ws_agent import (WsAgent, final_response_pattern, message, register,  # noqa: E402
                      response_to)

SCENARIOS = HERE / "scenarios"
ORIGIN = "https://phone.example.test"
BAD_ORIGIN = "https://evil.example.test"
HANDSHAKE_TIMEOUT_S = 2
KEEPALIVE_INTERVAL_S = 2
KEEPALIVE_TIMEOUT_S = 2
PROMPT_S = 2.0  # a dead WebSocket contact must fail this fast (the transaction timeout is 6.4 s)


class Suite(w.Suite):
    def __init__(self, args):
        super().__init__(args, "websocket", "strowger-websocket-")
        self.proxy = None
        self.agent = None
        self.log = None
        self.local_ports = {}  # client name -> its TCP port
        self.open_clients = set()  # connected and not closed by us
        self.handshakes_ok = 0

    # ---- processes ----------------------------------------------------------------------------

    def spawn(self, name, cmd):
        return super().spawn(name, cmd, cwd=self.work)

    def kill_all(self):
        if self.agent:
            self.agent.stop()
            self.agent = None
        self.kill_children()
        if self.proxy:
            rc = self.proxy.stop()
            self.proxy = None
            self.result("sipproxy exits 0 on SIGTERM", rc == 0, f"exit {rc}")

    def sipctl(self, *args):
        """sipctl --json METHOD k=v... -> (parsed JSON or None, error text)."""
        r = w.sipctl(self.args.sipctl, self.sock, "--json", *args)
        if r.returncode != 0:
            return None, f"sipctl {' '.join(args)}: exit {r.returncode} {r.stderr.strip()}"
        try:
            return json.loads(r.stdout), ""
        except ValueError:
            return None, f"sipctl {' '.join(args)}: not JSON: {r.stdout[:300]}"

    def sipp(self, name, scenario, port, *extra):
        cmd = [self.args.sipp, f"127.0.0.1:{self.udp_port}", "-sf", scenario, "-i", "127.0.0.1",
               "-p", port, "-m", 1, "-nostdin", "-timeout", "10s", "-timeout_error",
               "-trace_msg", "-message_file", self.work / f"{name}_msgs.log", "-trace_err",
               "-error_file", self.work / f"{name}_err.log", *extra]
        return self.spawn(name, cmd)

    def uac_message(self, name, user, status):
        """A SIPp UAC on UDP sending one MESSAGE to user, expecting status."""
        xml = self.work / f"uac_message_{status}.xml"
        if not xml.exists():
            text = (SCENARIOS / "uac_message.xml.in").read_text()
            xml.write_text(text.replace("@STATUS@", str(status)))
        return self.sipp(name, xml, h.free_port(self.used), "-s", user)

    def sipp_detail(self, name, rc):
        return f"exit {rc}: {h.tail(self.work / f'{name}_err.log', 6)}"

    # ---- setup --------------------------------------------------------------------------------

    def node_modules(self):
        return w.npm_modules(HERE, ["ws/package.json"])

    def start_proxy(self):
        certs = self.work / "certs"
        err = w.make_dev_certs(certs)
        if err:
            return err
        self.ca = certs / "ca.pem"
        self.udp_port = h.free_port(self.used)
        self.ws_port = h.free_port(self.used)
        self.wss_port = h.free_port(self.used)
        script = (HERE / "routing.cfg.in").read_text()
        for key, value in {"@ORIGIN@": ORIGIN, "@HANDSHAKE_TIMEOUT@": HANDSHAKE_TIMEOUT_S,
                           "@KEEPALIVE_INTERVAL@": KEEPALIVE_INTERVAL_S,
                           "@KEEPALIVE_TIMEOUT@": KEEPALIVE_TIMEOUT_S}.items():
            script = script.replace(key, str(value))
        (self.work / "routing.cfg").write_text(script)
        self.sock = self.work / "sipproxy.sock"
        cfg = self.work / "sipproxy.yaml"
        # debug: the log must show that nothing is resolved or connected for a .invalid host.
        h.write_sipproxy_config(cfg, [("udp", "127.0.0.1", self.udp_port),
                                      ("ws", "127.0.0.1", self.ws_port),
                                      ("wss", "127.0.0.1", self.wss_port)],
                                control_socket=self.sock, log_level="debug",
                                script=self.work / "routing.cfg")
        w.append_tls_config(cfg, certs)
        self.log = self.work / "sipproxy.log"
        self.proxy, err = w.start_sipproxy(self.args.bin, cfg, self.log, self.udp_port,
                                           self.work, env=h.sanitizer_env())
        return err

    def url(self, proto):
        return f"{proto}://127.0.0.1:{self.ws_port if proto == 'ws' else self.wss_port}/ws"

    # ---- steps shared by the checks ------------------------------------------------------------

    def connect_and_register(self, name, proto, origin=ORIGIN, **reg):
        """Connects client `name` and registers it; (ok, detail, 200 text, contact host)."""
        a = self.agent.connect(name, self.url(proto), origin=origin, ca=self.ca)
        if not a["ok"]:
            return False, f"connect: {a['error']}", "", ""
        self.local_ports[name] = a.get("localPort", 0)
        self.open_clients.add(name)
        self.handshakes_ok += 1
        text, call_id, host = register(name, proto.upper(), **reg)
        self.agent.send(name, text)
        a = self.agent.next(name, final_response_pattern(call_id))
        if not a["ok"]:
            return False, f"REGISTER: {a['error']}", "", host
        reply = a["message"]
        first = reply.split("\r\n", 1)[0]
        ok = first.startswith("SIP/2.0 200") and host in reply
        return ok, f"got '{first}' (Contact with {host} in it: {host in reply})", reply, host

    def bindings(self, aor):
        """ul.show's bindings of one AOR as [(contact, proto it registered over)], or None."""
        data, err = self.sipctl("ul.show", f"aor={aor}")
        if data is None or not isinstance(data.get("contacts"), list):
            return None, err or json.dumps(data)[:600]
        found = [(c.get("contact", ""), str(c.get("source", "")).split(":", 1)[0])
                 for c in data["contacts"] if isinstance(c, dict)]
        return found, json.dumps(data)[:600]

    def closed_contact(self, name, proto, status, **reg):
        """Register, close the socket, then a SIPp MESSAGE to that user gets `status`, fast."""
        ok, detail, _, _ = self.connect_and_register(name, proto, **reg)
        if not ok:
            return self.result(f"{proto.upper()} {name} registers before closing", False, detail)
        a = self.agent.close(name)
        self.open_clients.discard(name)
        if not a["ok"]:
            return self.result(f"{proto.upper()} {name} closes its WebSocket", False, a["error"])
        # The binding's received address is the closed socket's: a listener there catches any
        # attempt of the proxy to reach the client over a new connection.
        trap = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        trap.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            trap.bind(("127.0.0.1", self.local_ports[name]))
            trap.listen(4)
            trap.setblocking(False)
        except OSError as e:
            trap.close()
            return self.result(f"listen on {name}'s old port {self.local_ports[name]}", False,
                               str(e))
        with trap:
            start = time.monotonic()
            rc = self.wait(self.uac_message(f"uac_{name}", name, status), 15)
            took = time.monotonic() - start
            try:
                peer = trap.accept()[0]
                peer.close()
                reconnected = True
            except BlockingIOError:
                reconnected = False
        kind = "RFC 5626 flow (reg-id)" if reg else "no reg-id"
        self.result(f"{proto.upper()} contact of {name} whose connection closed ({kind}): SIPp's "
                    f"MESSAGE gets {status} within {PROMPT_S:g} s",
                    rc == 0 and took < PROMPT_S,
                    f"{took:.2f} s, {self.sipp_detail(f'uac_{name}', rc)}")
        self.result(f"the proxy did not open a new connection to {name}'s address",
                    not reconnected,
                    f"a connection came to 127.0.0.1:{self.local_ports[name]}" if reconnected
                    else "")

    # ---- the checks ---------------------------------------------------------------------------

    def check_register(self):
        """1: REGISTER over WS and WSS gets 200 on the same socket; ul.show lists ws/wss."""
        for name, proto in (("alice", "ws"), ("bella", "wss")):
            ok, detail, _, host = self.connect_and_register(name, proto)
            self.result(f"REGISTER over {proto.upper()} ({name}) gets 200 back on its WebSocket",
                        ok, detail)
            found, raw = self.bindings(name)
            good = found is not None and any(host in c and p == proto for c, p in found)
            self.result(f"sipctl ul.show {name}: the .invalid contact with proto {proto}", good,
                        f"bindings {found}; {raw}")

    def check_to_ws_user(self):
        """2: SIPp (UDP) -> proxy -> the registered client's own WebSocket, 200 back to SIPp."""
        for name, proto in (("alice", "ws"), ("bella", "wss")):
            self.deliver(name, proto)

    def deliver(self, name, proto, when=""):
        """A SIPp MESSAGE to name arrives on its connection; its 200 gets back to SIPp."""
        log = f"uac_to_{name}{when.replace(' ', '_')}"
        uac = self.uac_message(log, name, 200)
        a = self.agent.next(name, r"^MESSAGE ", 5000)
        if not a["ok"]:
            h.kill_group(uac)
            return self.result(f"SIPp's MESSAGE reaches {name} over its {proto.upper()} "
                               f"connection{when}", False, a["error"])
        req = a["message"]
        msg = h.SipMessage.parse(req)
        vias = msg.values("via")
        ruri = msg.start.split(" ")[1] if len(msg.start.split(" ")) > 1 else ""
        ok = (bool(re.match(rf"^SIP/2\.0/{proto.upper()} ", vias[0] if vias else "", re.I))
              and ".invalid" in ruri and f"hello {name}, this is sipp" in msg.body)
        self.result(f"SIPp's MESSAGE reaches {name} over its {proto.upper()} connection{when} "
                    f"(R-URI its .invalid contact, top Via SIP/2.0/{proto.upper()}, body)",
                    ok, f"R-URI {ruri}, Vias {vias}, body {msg.body!r}")
        self.agent.send(name, response_to(req, 200, "OK"))
        rc = self.wait(uac, 15)
        return self.result(f"SIPp gets {name}'s 200 (sent over {proto.upper()}){when}", rc == 0,
                           self.sipp_detail(log, rc))

    def check_from_ws_user(self):
        """3: a client's MESSAGE to a UDP phone; the phone's 200 returns over its WebSocket."""
        uas_port = h.free_port(self.used)
        _, err = self.sipctl("ul.add", "aor=bob", f"contact=sip:bob@127.0.0.1:{uas_port}",
                             "expires=600")
        if err:
            return self.result("sipctl ul.add bob (a SIPp UAS on UDP)", False, err)
        uas = self.sipp("uas_bob", SCENARIOS / "uas_message.xml", uas_port, "-m", 2)
        time.sleep(0.3)
        for name, proto in (("alice", "ws"), ("bella", "wss")):
            text, call_id = message(name, "bob", proto.upper(), f"hello bob, this is ws {name}")
            self.agent.send(name, text)
            a = self.agent.next(name, final_response_pattern(call_id), 5000)
            first = a["message"].split("\r\n", 1)[0] if a["ok"] else a.get("error")
            self.result(f"{name}'s MESSAGE to bob (UDP): the 200 comes back over its "
                        f"{proto.upper()} connection", a["ok"] and first.startswith("SIP/2.0 200"),
                        f"got {first}")
        rc = self.wait(uas, 10)
        self.result("SIPp bob (UAS on UDP) received both MESSAGEs and answered", rc == 0,
                    self.sipp_detail("uas_bob", rc))

    def check_closed_contacts(self):
        """4: a contact whose connection closed: 480 (or 430 for a flow) at once, no connect."""
        self.closed_contact("carol", "ws", 480)
        self.closed_contact("dave", "wss", 430, instance=str(uuid.uuid4()), reg_id=1)
        # The whole log so far: checks 2 and 3 reached WebSocket clients too.
        tried = [line for line in self.proxy.log_text().splitlines()
                 if ("dns: query" in line and ".invalid" in line) or "connect to" in line]
        self.result("so far the proxy neither resolved a .invalid host nor opened a connection "
                    "(debug log)", not tried, "\n".join(tried[:5]))

    def check_outbound_reply(self):
        """4 (part): the 200 of an RFC 5626 REGISTER says Require: outbound."""
        ok, detail, reply, _ = self.connect_and_register(
            "olga", "ws", instance=str(uuid.uuid4()), reg_id=1)
        req = h.SipMessage.parse(reply) if reply else None
        has = bool(req) and any("outbound" in v for v in req.values("require"))
        self.result("REGISTER with +sip.instance and reg-id: 200 with Require: outbound",
                    ok and has, f"{detail}; Require {req.values('require') if req else None}")
        self.agent.close("olga")
        self.open_clients.discard("olga")

    def check_malformed(self):
        """5: ws_malformed.py against the live WS port, then the server still serves."""
        cmd = [sys.executable, HERE / "ws_malformed.py", "--port", self.ws_port, "--path", "/ws",
               "--origin", ORIGIN, "--bad-origin", BAD_ORIGIN, "--bad-path", "/nope", "--sip",
               "--handshake-timeout", HANDSHAKE_TIMEOUT_S,
               "--keepalive-interval", KEEPALIVE_INTERVAL_S,
               "--keepalive-timeout", KEEPALIVE_TIMEOUT_S]
        r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120)
        lines = r.stdout.splitlines()
        for line in lines:
            if line.startswith("ok   "):
                self.result(f"ws_malformed: {line[5:]}", True)
            elif line.startswith("FAIL "):
                self.result(f"ws_malformed: {line[5:]}", False, "see above")
        summary = lines[-1] if lines else r.stderr.strip()[-300:]
        self.result("ws_malformed.py exits 0", r.returncode == 0,
                    f"exit {r.returncode}: {summary}")
        self.result("sipproxy still running after the malformed input", self.proxy.alive(),
                    h.tail(self.log, 10))
        stats, err = self.sipctl("ws.stats")
        try:
            reasons = stats["handshakes"]["failed_by_reason"]
            closes = stats["closes"]
            counted = {k: reasons[k] for k in ("method", "path", "not_upgrade", "version",
                                               "no_sip_protocol", "too_large", "timeout")}
            counted.update({k: closes[k] for k in ("protocol_error", "message_too_big",
                                                   "keepalive_timeout")})
        except (TypeError, KeyError):
            counted = {"ws.stats": err or json.dumps(stats)}
        self.result("sipctl ws.stats counted the refusals (each reason at least once)",
                    all(isinstance(v, int) and v > 0 for v in counted.values()), str(counted))
        for name, proto in (("erin", "ws"), ("fay", "wss")):
            ok, detail, _, _ = self.connect_and_register(name, proto)
            self.result(f"afterwards a fresh {proto.upper()} client ({name}) registers", ok,
                        detail)
        # alice and bella have been idle through several keepalive pings (answered by npm ws).
        for name, proto in (("alice", "ws"), ("bella", "wss")):
            self.deliver(name, proto, " after the keepalive pings")

    def check_origin(self):
        """6: the origin allow-list: another Origin gets 403, the allowed one registers."""
        for name, proto in (("mallory", "ws"), ("mallory-s", "wss")):
            a = self.agent.connect(name, self.url(proto), origin=BAD_ORIGIN, ca=self.ca)
            refused = not a["ok"] and "HTTP 403" in a.get("error", "")
            self.result(f"{proto.upper()} handshake with Origin {BAD_ORIGIN} is refused with 403",
                        refused, a.get("error", "it connected"))
            ok, detail, _, _ = self.connect_and_register(f"grace-{proto}", proto, origin=ORIGIN)
            self.result(f"{proto.upper()} handshake with the allowed Origin {ORIGIN} registers",
                        ok, detail)
        stats, err = self.sipctl("ws.stats")
        try:
            hs = stats["handshakes"]
            got = (hs["ok"], hs["failed_by_reason"]["origin"], stats["sessions"]["current"])
        except (TypeError, KeyError):
            got = None
        want = (self.handshakes_ok, 2, len(self.open_clients))
        self.result("sipctl ws.stats: handshakes ok, refused for origin, sessions open = "
                    f"{want}", got == want, f"got {got}: {json.dumps(stats) if stats else err}")

    def run(self):
        try:
            err = self.node_modules()
            if not self.result("node_modules (npm ws) installed", err is None, err or ""):
                return self.finish()
            err = self.start_proxy()
            if not self.result("sipproxy started with UDP + WS + WSS listeners", err is None,
                               err or ""):
                return self.finish()
            self.agent = WsAgent(self.work / "wsagent.log",
                                 {"preexec_fn": h.die_with_parent})
            self.check_register()
            self.check_to_ws_user()
            self.check_from_ws_user()
            self.check_outbound_reply()
            self.check_closed_contacts()
            self.check_origin()
            self.check_malformed()
        except Exception as e:  # a runner bug still gives a FAIL line and the summary
            self.result("runner", False, "".join(traceback.format_exception(e)).strip())
        finally:
            self.kill_all()
        return self.finish()

    def finish(self):
        self.kill_all()
        self.sanitizer_check([self.log])
        return self.summary()


def main():
    h.exit_on_sigterm()
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default=str(REPO / "build"), help="build directory (bin/)")
    ap.add_argument("--bin", default=None, help="sipproxy binary (default: BUILD/bin/sipproxy)")
    ap.add_argument("--sipctl", default=None, help="sipctl binary (default: BUILD/bin/sipctl)")
    ap.add_argument("--sipp", default=shutil.which("sipp") or "/usr/bin/sipp")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("-v", "--verbose", action="store_true", help="details on PASS lines too")
    args = ap.parse_args()
    build = Path(args.build)
    if not build.is_absolute():
        build = (Path.cwd() / build) if (Path.cwd() / build).exists() else REPO / build
    args.bin = str(Path(args.bin or build / "bin" / "sipproxy").resolve())
    args.sipctl = str(Path(args.sipctl or build / "bin" / "sipctl").resolve())
    if w.missing_tool("websocket", (args.bin, args.sipctl, args.sipp, shutil.which("node") or "node")):
        return 1
    return Suite(args).run()


if __name__ == "__main__":
    sys.exit(main())
