#!/usr/bin/env python3
# TLS end to end: sipproxy with a TLS listener and the tls module (certificates from
# certs/make-dev-certs.sh in a temp dir). Start-up errors, handshake failures that must not
# disturb the server, tls.list, tls.reload under a live connection, and SIPp over TLS (register,
# calls to a TLS and a UDP callee). SIPp speaks TLS itself when tests/tls/build-sipp-tls.sh could
# build it, else through stunnel4. Prints PASS/FAIL per check and "tls suite: N passed, N failed".
import argparse
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "sipp"))
import sipharness as h  # noqa: E402

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
MAKE_CERTS = REPO / "certs" / "make-dev-certs.sh"
SIPP_TLS = Path("/usr/local/lib/strowger/sipp-tls")
CALLS = 5


def default_bin():
    for b in ("build-tls", "build-lead", "build"):
        p = REPO / b / "bin" / "sipproxy"
        if p.exists():
            return p
    return REPO / "build" / "bin" / "sipproxy"


def default_module(bin_path):
    for p in (bin_path.resolve().parent.parent / "lib" / "modules" / "tls.so",
              REPO / "build-tls" / "lib" / "modules" / "tls.so"):
        if p.exists():
            return p
    return None


def read_sip(sock, timeout_s=5.0):
    """One SIP message from a stream socket (headers + Content-Length body)."""
    sock.settimeout(timeout_s)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(body) < length:
        body += sock.recv(65536)
    return head.decode(errors="replace")


class Suite:
    def __init__(self, args):
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="strowger-tls-"))
        self.certs = self.work / "certs"
        self.used = set()
        self.passed, self.failed = [], []
        self.proxy = None
        self.children = []

    # ---- plumbing ---------------------------------------------------------------------------

    def check(self, name, fn):
        t0 = time.monotonic()
        try:
            err = fn()
        except Exception as e:  # a crash of the check is its failure, not the runner's
            err = f"{type(e).__name__}: {e}"
        took = time.monotonic() - t0
        if err:
            self.failed.append(name)
            print(f"FAIL {name} ({took:.1f}s): {err}", flush=True)
        else:
            self.passed.append(name)
            print(f"PASS {name} ({took:.1f}s)", flush=True)

    def make_certs(self, *args, out=None):
        r = subprocess.run(["sh", str(MAKE_CERTS), "-o", str(out or self.certs), *args],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"make-dev-certs.sh failed: {r.stderr}")
        return r.stdout

    def script(self):
        text = (HERE / "routing.cfg").read_text()
        if self.args.module:
            text = text.replace('loadmodule "tls.so"', f'loadmodule "{self.args.module}"')
        path = self.work / "routing.cfg"
        path.write_text(text)
        return path

    def write_config(self, name, udp_port, tls_port, tls_yaml):
        cfg = self.work / f"{name}.yaml"
        h.write_sipproxy_config(
            cfg, [("udp", "127.0.0.1", udp_port), ("tcp", "127.0.0.1", udp_port),
                  ("tls", "127.0.0.1", tls_port)],
            workers=2, control_socket=self.work / f"{name}.sock", log_level=self.args.log_level,
            script=self.script())
        with open(cfg, "a") as f:
            f.write(tls_yaml)
        return cfg

    def tls_yaml(self, cert="server.pem", key="server.key", ca="ca.pem"):
        c = self.certs
        return (f"tls:\n  certificate: {h._yaml_str(c / cert)}\n  private_key: {h._yaml_str(c / key)}\n"
                f"  ca_list: {h._yaml_str(c / ca)}\n  handshake_timeout_ms: 2000\n")

    def sipctl(self, *args):
        sipctl = Path(self.args.bin).resolve().parent / "sipctl"
        return subprocess.run([str(sipctl), "-s", str(self.work / "main.sock"), "-j", *args],
                              capture_output=True, text=True, timeout=20)

    def client_ctx(self, ca=None):
        ctx = ssl.create_default_context(cafile=str(ca or self.certs / "ca.pem"))
        return ctx

    def tls_connect(self, ca=None, server_name="localhost"):
        raw = socket.create_connection(("127.0.0.1", self.tls_port), timeout=5)
        try:
            return self.client_ctx(ca).wrap_socket(raw, server_hostname=server_name)
        except Exception:
            raw.close()
            raise

    def options_over(self, s):
        host, port = s.getsockname()[:2]
        msg, call_id = h.build_options("127.0.0.1", self.udp_port, host, port, transport="TLS")
        s.sendall(msg)
        head = read_sip(s)
        if not head.startswith("SIP/2.0 200") or call_id not in head:
            return f"OPTIONS over TLS got {head.splitlines()[0]!r}"
        return None

    def spawn(self, cmd, name):
        out = open(self.work / f"{name}.log", "wb")
        proc = h.spawn(cmd, out, cwd=self.work)
        self.children.append(proc)
        return proc

    # ---- checks -----------------------------------------------------------------------------

    def startup_error(self, name, tls_yaml, expect):
        def run():
            port = h.free_port(self.used)
            cfg = self.write_config(name, port, h.free_port(self.used), tls_yaml)
            try:
                r = subprocess.run([str(self.args.bin), "-c", str(cfg)], capture_output=True,
                                   text=True, timeout=20, cwd=self.work)
            except subprocess.TimeoutExpired:
                return "sipproxy kept running"
            out = r.stdout + r.stderr
            if r.returncode == 0:
                return "sipproxy exited 0"
            if expect not in out:
                return f"exit {r.returncode} without {expect!r}: {out.strip()[-300:]}"
            return None
        return run

    def start_main(self):
        self.udp_port = h.free_port(self.used)
        self.tls_port = h.free_port(self.used)
        cfg = self.write_config("main", self.udp_port, self.tls_port, self.tls_yaml())
        self.proxy = h.ProxyProcess([self.args.bin, "-c", cfg], self.work / "sipproxy.log",
                                    env=h.sanitizer_env(), cwd=self.work)
        self.proxy.start()
        if not self.proxy.wait_ready("127.0.0.1", self.udp_port, timeout_s=30):
            return f"sipproxy did not start: {h.tail(self.work / 'sipproxy.log', 20)}"
        return None

    def bad_handshakes(self):
        # A client that does not trust our CA: its handshake fails, the server shrugs.
        try:
            self.tls_connect(ca=self.work / "other" / "ca.pem").close()
            return "a client with the wrong CA completed the handshake"
        except ssl.SSLCertVerificationError:
            pass
        # TLS 1.1: refused.
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.tls_port}",
                            "-tls1_1", "-cipher", "ALL:@SECLEVEL=0"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=15)
        if r.returncode == 0 and "Protocol  : TLSv1.1" in r.stdout:
            return "a TLS 1.1 client was accepted"
        if "alert protocol version" not in r.stdout + r.stderr:  # the server's refusal, not ours
            return f"TLS 1.1 was not refused by the server: {(r.stdout + r.stderr)[-300:]}"
        # Plain SIP on the TLS port: the connection is dropped.
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=5) as s:
            s.sendall(b"OPTIONS sip:localhost SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9\r\n\r\n")
            try:
                while s.recv(4096):
                    pass
            except (ConnectionResetError, socket.timeout):
                pass
        # A silent client is dropped after handshake_timeout_ms.
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=6) as s:
            t0 = time.monotonic()
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                data = b""
            if data or time.monotonic() - t0 > 5:
                return "a silent client was not dropped by the handshake timeout"
        if not self.proxy.alive():
            return "sipproxy died"
        with self.tls_connect() as s:
            return self.options_over(s)

    def list_and_reload(self):
        a = self.tls_connect()
        try:
            serial_a = a.getpeercert()["serialNumber"]
            if err := self.options_over(a):
                return err
            out = self.sipctl("tls.list")
            if out.returncode != 0:
                return f"sipctl tls.list: {out.stderr.strip()}"
            rows = json.loads(out.stdout)["connections"]
            me = f"127.0.0.1:{a.getsockname()[1]}"
            row = next((r for r in rows if r["remote"] == me), None)
            if not row:
                return f"tls.list does not show {me}: {rows}"
            if not row["version"].startswith("TLSv1.") or row["server_name"] != "localhost":
                return f"tls.list row looks wrong: {row}"
            # Renew the server certificate (same CA) and reload.
            self.make_certs()
            out = self.sipctl("tls.reload")
            if out.returncode != 0:
                return f"tls.reload failed: {out.stdout} {out.stderr}"
            if err := self.options_over(a):
                return "the live connection broke on reload: " + err
            with self.tls_connect() as b:
                serial_b = b.getpeercert()["serialNumber"]
            if serial_b == serial_a:
                return "a new handshake still got the old certificate"
            r = subprocess.run(
                f"openssl s_client -connect 127.0.0.1:{self.tls_port} -servername localhost "
                f"-showcerts </dev/null 2>/dev/null | openssl x509 -noout -serial",
                shell=True, capture_output=True, text=True, timeout=15)
            if r.stdout.strip().split("=")[-1].upper() != serial_b.upper():
                return f"openssl s_client saw serial {r.stdout.strip()}, want {serial_b}"
            # A reload that cannot load the key is refused; the current certificate stays.
            key = self.certs / "server.key"
            key.rename(self.certs / "server.key.away")
            try:
                out = self.sipctl("tls.reload")
            finally:
                (self.certs / "server.key.away").rename(key)
            if out.returncode == 0 or str(key) not in out.stdout + out.stderr:
                return f"a reload with a missing key: rc {out.returncode} {out.stdout} {out.stderr}"
            with self.tls_connect() as c:
                if c.getpeercert()["serialNumber"] != serial_b:
                    return "a failed reload changed the certificate"
            return self.options_over(a)
        finally:
            a.close()

    # ---- SIPp over TLS ------------------------------------------------------------------------

    def stunnel(self, name, conf):
        path = self.work / f"{name}.conf"
        path.write_text("foreground = yes\npid =\ndebug = notice\n" + conf)
        proc = self.spawn(["stunnel4", path], name)
        return proc

    def sipp_setup(self):
        """(uac transport args, uac remote, uas tls args, uas tls port, contact) for both modes."""
        c = self.certs
        uas_tls = h.free_port(self.used)  # where the proxy connects with TLS
        if self.args.sipp_tls:
            tls = ["-t", "l1", "-tls_cert", c / "client.pem", "-tls_key", c / "client.key"]
            uas = ["-t", "l1", "-tls_cert", c / "server.pem", "-tls_key", c / "server.key"]
            return tls, f"127.0.0.1:{self.tls_port}", uas, uas_tls
        # stunnel4: SIPp speaks TCP to a local tunnel; the scenarios still say TLS.
        into = h.free_port(self.used)
        self.stunnel("stunnel-uac", f"[uac]\nclient = yes\naccept = 127.0.0.1:{into}\n"
                     f"connect = 127.0.0.1:{self.tls_port}\nCAfile = {c / 'ca.pem'}\n"
                     "verifyChain = yes\ncheckHost = localhost\nsni = localhost\n")
        uas_tcp = h.free_port(self.used)
        self.stunnel("stunnel-uas", f"[uas]\naccept = 127.0.0.1:{uas_tls}\n"
                     f"connect = 127.0.0.1:{uas_tcp}\ncert = {c / 'server.pem'}\n"
                     f"key = {c / 'server.key'}\n")
        self.uas_listen = uas_tcp
        time.sleep(0.5)
        return ["-t", "t1"], f"127.0.0.1:{into}", ["-t", "t1"], uas_tls

    def sipp(self, name, xml, extra, timeout_s=40):
        cmd = [self.args.sipp, *extra, "-sf", SCENARIOS / xml, "-i", "127.0.0.1", "-nostdin",
               "-timeout", f"{timeout_s}s", "-trace_err", "-error_file", self.work / f"{name}_err.log"]
        return self.spawn(cmd, name)

    def sipp_calls(self):
        uac_t, remote, uas_t, uas_tls = self.sipp_setup()
        uas_port = getattr(self, "uas_listen", uas_tls)
        reg = self.sipp("register", "uac_register.xml",
                        [remote, *uac_t, "-p", h.free_port(self.used), "-m", 3])
        if reg.wait(timeout=60) != 0:
            return f"REGISTER over TLS failed: {h.tail(self.work / 'register.log', 8)}"
        udp_port = h.free_port(self.used)
        legs = [("tls", uas_t, uas_port, f"127.0.0.1:{uas_tls};transport=tls"),
                ("udp", ["-t", "u1"], udp_port, f"127.0.0.1:{udp_port};transport=udp")]
        for leg, t_args, port, contact in legs:
            uas = self.sipp(f"uas_{leg}", "uas_call.xml",
                            [*t_args, "-p", port, "-m", CALLS, "-key", "contact", contact])
            time.sleep(0.5)
            uac = self.sipp(f"uac_{leg}", "uac_call.xml",
                            [remote, *uac_t, "-p", h.free_port(self.used), "-m", CALLS,
                             "-r", 5, "-l", 2, "-key", "target", contact,
                             "-recv_timeout", "10000", "-timeout_error"])
            rc = uac.wait(timeout=90)
            try:
                urc = uas.wait(timeout=15)
            except subprocess.TimeoutExpired:
                h.kill_group(uas)
                urc = "hung"
            if rc != 0 or urc != 0:
                return (f"{CALLS} calls to the {leg} callee: uac exit {rc}, uas exit {urc}: "
                        f"{h.tail(self.work / f'uac_{leg}.log', 6)}")
        return None

    def run(self):
        self.make_certs()
        self.make_certs(out=self.work / "other")
        self.make_certs("--stem", "expired", "--start", "20200101000000Z", "--end", "20200102000000Z")
        c = self.certs
        self.check("startup_missing_certificate", self.startup_error(
            "missing", self.tls_yaml(cert="nope.pem"),
            f"tls.certificate: {c / 'nope.pem'}: No such file or directory"))
        self.check("startup_key_mismatch", self.startup_error(
            "mismatch", self.tls_yaml(key="client.key"), f"does not match the certificate"))
        self.check("startup_expired_certificate", self.startup_error(
            "expired", self.tls_yaml(cert="expired.pem", key="expired.key"),
            f"{c / 'expired.pem'}: certificate expired on 2020-01-02"))
        shutil.copy(c / "ca.pem", c / "cacert.pem")  # the seed's mistake: copied as one name...
        self.check("startup_missing_ca_list", self.startup_error(
            "ca", self.tls_yaml(ca="calist.pem"),  # ...configured as another
            f"tls.ca_list: {c / 'calist.pem'}: No such file or directory"))
        self.check("startup", self.start_main)
        if self.failed and self.failed[-1] == "startup":
            return
        self.check("handshake_failures_do_not_disturb", self.bad_handshakes)
        self.check("tls_list_and_reload_under_live_connection", self.list_and_reload)
        if not self.args.sipp:
            print("SKIP sipp_register_and_calls: no SIPp with TLS and no stunnel4 "
                  "(tests/tls/build-sipp-tls.sh or apt-get install stunnel4)")
        else:
            self.check("sipp_register_and_calls_over_tls", self.sipp_calls)
        self.check("sipproxy_still_alive", lambda: None if self.proxy.alive() else "it died")

    def cleanup(self):
        for p in self.children:
            h.kill_group(p)
        if self.proxy:
            rc = self.proxy.stop()
            if rc not in (0, None):
                print(f"note: sipproxy exited {rc}")
            report = h.sanitizer_report(self.proxy.log_text())
            if report:
                self.failed.append("sanitizer")
                print(f"FAIL sanitizer: {report}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", type=Path, default=default_bin(), help="sipproxy binary")
    ap.add_argument("--module", type=Path, help="tls.so (default: next to --bin's lib/modules)")
    ap.add_argument("--log-level", default="info")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    args.bin = args.bin.resolve()
    if args.module is None:
        args.module = default_module(args.bin)
    if args.module is not None:
        args.module = args.module.resolve()
    args.sipp_tls = SIPP_TLS.exists()
    args.sipp = str(SIPP_TLS) if args.sipp_tls else (
        shutil.which("sipp") if shutil.which("stunnel4") else None)
    h.exit_on_sigterm()
    suite = Suite(args)
    print(f"sipproxy {args.bin}, tls module {args.module}, SIPp "
          f"{'with TLS' if args.sipp_tls else 'through stunnel4' if args.sipp else 'unavailable'}; "
          f"work dir {suite.work}", flush=True)
    try:
        suite.run()
    finally:
        suite.cleanup()
    print(f"tls suite: {len(suite.passed)} passed, {len(suite.failed)} failed")
    if not suite.failed and not args.keep:
        shutil.rmtree(suite.work, ignore_errors=True)
    sys.exit(1 if suite.failed else 0)


if __name__ == "__main__":
    main()
