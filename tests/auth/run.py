#!/usr/bin/env python3
# The auth suite: sipproxy with the auth module against SIPp (MD5 digest) and a throwaway
# PostgreSQL server: 401 -> 200, wrong password -> 401 again, stale nonce, INVITE with 407 relayed
# to a SIPp UAS, sipctl auth.reload, the per-IP slowdown, and auth against a subscriber table.
# Prints one PASS/FAIL line per check and "auth suite: N passed, N failed".
import argparse
import glob
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "sipp"))
import sipharness as h  # noqa: E402
import webharness as w  # noqa: E402

UAS_XML = HERE.parent / "sipp" / "scenarios" / "uas_call.xml"
SUBSCRIBERS = """subscribers:
  - {username: alice, domain: 127.0.0.1, password: alice-pw}
  - {username: carol, domain: 127.0.0.1, password: carol-pw}
"""
MAX_FAILURES = 3


class Suite(w.Suite):
    def __init__(self, args):
        super().__init__(args, "auth", "auth_suite_")
        self.proxy = None
        self.port = None
        self.uas_port = None

    def start_proxy(self, tag, nonce_expire, db_params=""):
        d = self.work / tag
        d.mkdir()
        (d / "subscribers.yaml").write_text(SUBSCRIBERS)
        self.port = h.free_port(self.used)
        self.uas_port = h.free_port(self.used)
        script = (HERE / "routing.cfg.in").read_text()
        for k, v in {"NONCE_EXPIRE": nonce_expire, "MAX_FAILURES": MAX_FAILURES,
                     "UAS_PORT": self.uas_port, "DB_PARAMS": db_params}.items():
            script = script.replace(f"@{k}@", str(v))
        (d / "routing.cfg").write_text(script)
        self.sock = d / "sipproxy.sock"
        h.write_sipproxy_config(d / "sipproxy.yaml", [("udp", "127.0.0.1", self.port)],
                                control_socket=self.sock, log_level="info",
                                script=d / "routing.cfg")
        self.dir = d
        self.log = d / "sipproxy.log"
        self.proxy, err = w.start_sipproxy(self.args.bin, d / "sipproxy.yaml", self.log, self.port, d)
        return err

    def stop_proxy(self):
        if self.proxy:
            self.proxy.stop()
            self.proxy = None

    def sipp(self, xml, user, password, name, extra=(), uas=False):
        """Runs one SIPp UAC (and the UAS when uas); returns None or the reason it failed."""
        base = self.dir / name
        procs = []
        try:
            if uas:
                out = open(f"{base}_uas.log", "wb")
                procs.append(("uas", h.spawn([self.args.sipp, "-sf", UAS_XML, "-i", "127.0.0.1",
                                               "-p", self.uas_port, "-m", 1, "-nostdin",
                                               "-timeout", "30s", "-trace_err", "-error_file",
                                               f"{base}_uas_err.log"], out), out))
                time.sleep(0.5)
            out = open(f"{base}_uac.log", "wb")
            cmd = [self.args.sipp, f"127.0.0.1:{self.port}", "-sf", HERE / xml, "-i", "127.0.0.1",
                   "-p", h.free_port(self.used), "-s", user, "-au", user, "-ap", password,
                   "-m", 1, "-nostdin", "-timeout", "20s", "-timeout_error",
                   "-recv_timeout", "8000", "-trace_msg", "-message_file", f"{base}_msgs.log",
                   "-trace_err", "-error_file", f"{base}_err.log", *extra]
            uac = h.spawn(cmd, out)
            procs.insert(0, ("uac", uac, out))
            reasons = []
            for role, p, _ in procs:
                rc = w.wait(p, 40)
                if rc != 0:
                    reasons.append(f"{role} exit {rc} ({h.tail(f'{base}_err.log', 3)})")
            return "; ".join(reasons) or None
        finally:
            for _, p, out in procs:
                h.kill_group(p)
                out.close()

    def sipctl(self, *args):
        r = w.sipctl(self.args.sipctl, self.sock, *args)
        return r.returncode, r.stdout + r.stderr

    # ---- the checks ---------------------------------------------------------------------

    def file_checks(self):
        err = self.start_proxy("file", nonce_expire=2)
        self.result("startup with the subscriber file", err is None, err or "")
        if err:
            return
        self.result("REGISTER 401 -> credentials -> 200",
                    not (r := self.sipp("uac_register_auth.xml", "alice", "alice-pw", "reg")), r)
        self.result("wrong password -> 401 again (not stale)",
                    not (r := self.sipp("uac_register_wrong.xml", "alice", "nope", "wrong")), r)
        self.result("stale nonce -> 401 stale=true -> silent retry -> 200",
                    not (r := self.sipp("uac_stale.xml", "alice", "alice-pw", "stale",
                                        extra=["-d", 3000])), r)
        self.result("INVITE 407 -> credentials -> relayed to the UAS -> call + BYE",
                    not (r := self.sipp("uac_invite_auth.xml", "carol", "carol-pw", "invite",
                                        uas=True)), r)
        # sipctl auth.reload: a broken file is refused with file:line, the old data stays.
        (self.dir / "subscribers.yaml").write_text(SUBSCRIBERS + "  - {username: dave}\n")
        rc, out = self.sipctl("auth.reload")
        self.result("auth.reload of a broken file fails with file:line",
                    rc != 0 and "subscribers.yaml:4: subscriber dave without domain" in out,
                    f"rc={rc} {out.strip()}")
        self.result("old subscribers still work after a failed reload",
                    not (r := self.sipp("uac_register_auth.xml", "alice", "alice-pw", "reg2")), r)
        (self.dir / "subscribers.yaml").write_text(
            SUBSCRIBERS + "  - {username: dave, domain: 127.0.0.1, password: dave-pw}\n")
        rc, out = self.sipctl("auth.reload")
        self.result("auth.reload picks up a new subscriber", rc == 0 and "3" in out,
                    f"rc={rc} {out.strip()}")
        self.result("the new subscriber registers",
                    not (r := self.sipp("uac_register_auth.xml", "dave", "dave-pw", "reg3")), r)
        # Slowdown: more than MAX_FAILURES wrong passwords from 127.0.0.1 in the window.
        for i in range(MAX_FAILURES + 1):
            self.sipp("uac_register_wrong.xml", "alice", f"guess{i}", f"guess{i}")
            if "blocked for" in self.proxy.log_text():
                break
        log = self.proxy.log_text()
        self.result("repeated failures block the source, logged once",
                    log.count("auth: 127.0.0.1 blocked for 60s") == 1,
                    h.tail(self.log, 5))
        r = self.sipp("uac_register_auth.xml", "alice", "alice-pw", "blocked")
        self.result("while blocked even the right password gets 401", r is not None
                    and "401" in Path(f"{self.dir / 'blocked'}_msgs.log").read_text(errors="replace")
                    .split("CSeq: 2 REGISTER", 1)[-1], r or "registered while blocked")
        self.stop_proxy()

    def postgres_checks(self):
        bindir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bindir:
            self.result("postgresql available", False, "no /usr/lib/postgresql/*/bin")
            return
        bindir = Path(bindir[-1])
        pgdir = self.work / "pg"
        pgdir.mkdir()
        run_as = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as postgres
            shutil.chown(pgdir, "postgres")
            os.chmod(self.work, 0o755)
            run_as = ["runuser", "-u", "postgres", "--"]
        user = "postgres" if run_as else pwd.getpwuid(os.geteuid()).pw_name
        def pg(*cmd, **kw):
            return subprocess.run([*run_as, *map(str, cmd)], capture_output=True, text=True,
                                  timeout=60, **kw)
        r = pg(bindir / "initdb", "-D", pgdir / "data", "-A", "trust", "-U", user)
        if r.returncode != 0:
            self.result("initdb", False, r.stderr.strip()[-300:])
            return
        r = pg(bindir / "pg_ctl", "-D", pgdir / "data", "-l", pgdir / "server.log", "-w", "-o",
               f"-c listen_addresses= -k {pgdir}", "start")
        self.result("PostgreSQL started (unix socket only)", r.returncode == 0,
                    (r.stderr + r.stdout).strip()[-300:])
        if r.returncode != 0:
            return
        try:
            sql = ("CREATE TABLE subscriber (id serial PRIMARY KEY, username varchar(64) NOT NULL,"
                   " domain varchar(64) NOT NULL, password varchar(64) NOT NULL DEFAULT '',"
                   " ha1 varchar(128) NOT NULL DEFAULT '', ha1b varchar(128) NOT NULL DEFAULT '');"
                   "INSERT INTO subscriber (username, domain, ha1) VALUES ('erin', '127.0.0.1',"
                   " md5('erin:127.0.0.1:erin-pw'));"
                   "INSERT INTO subscriber (username, domain, password) VALUES"
                   " ('frank', '127.0.0.1', 'frank-pw');")
            r = pg(bindir / "psql", "-h", pgdir, "-U", user, "-d", "postgres", "-v",
                   "ON_ERROR_STOP=1", "-c", sql)
            self.result("subscriber table created", r.returncode == 0, r.stderr.strip())
            url = f"postgresql://{user}@/postgres?host={pgdir}"
            err = self.start_proxy("pgproxy", nonce_expire=30,
                                   db_params=f'modparam("auth_db", "db_url", "{url}")')
            self.result("startup with db_url", err is None, err or "")
            if err is None:
                time.sleep(1.5)  # the first table read runs on the module timer
                self.result("PostgreSQL: HA1 row (Kamailio schema) authenticates",
                            not (r := self.sipp("uac_register_auth.xml", "erin", "erin-pw",
                                                "pg_erin")), r)
                self.result("PostgreSQL: plain password row authenticates",
                            not (r := self.sipp("uac_register_auth.xml", "frank", "frank-pw",
                                                "pg_frank")), r)
                self.result("PostgreSQL: wrong password -> 401",
                            not (r := self.sipp("uac_register_wrong.xml", "erin", "bad",
                                                "pg_wrong")), r)
                self.result("PostgreSQL: a file-only user is unknown here",
                            self.sipp("uac_register_auth.xml", "alice", "alice-pw", "pg_alice")
                            is not None, "alice registered against the database")
                rc, out = self.sipctl("auth.reload")
                self.result("auth.reload reads the table", rc == 0 and "postgresql" in out,
                            out.strip())
                self.stop_proxy()
        finally:
            pg(bindir / "pg_ctl", "-D", pgdir / "data", "-m", "fast", "-w", "stop")

    def run(self):
        try:
            self.file_checks()
            if not self.args.no_postgres:
                self.postgres_checks()
        finally:
            self.stop_proxy()
        # Every proxy this suite ran (ASan/UBSan builds too): no sanitizer report in any log.
        self.sanitizer_check(sorted(self.work.glob("**/sipproxy.log")),
                             "no sanitizer report in the proxy logs", always=True)
        return self.summary()


def main():
    h.exit_on_sigterm()
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", default=str(h.REPO / "build" / "bin" / "sipproxy"))
    ap.add_argument("--sipctl", default=None)
    ap.add_argument("--sipp", default=shutil.which("sipp") or "/usr/bin/sipp")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()
    if args.sipctl is None:
        args.sipctl = str(Path(args.bin).resolve().parent / "sipctl")
    args.bin = str(Path(args.bin).resolve())
    args.sipctl = str(Path(args.sipctl).resolve())
    return Suite(args).run()


if __name__ == "__main__":
    sys.exit(main())
