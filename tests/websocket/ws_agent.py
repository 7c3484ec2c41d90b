# run.py's side of wsagent.mjs (WebSocket SIP clients in node, one JSON command a line), and
# the SIP texts those clients send, shaped the way JsSIP makes them (.invalid Via and Contact).
import json
import queue
import re
import subprocess
import threading
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOMAIN = "127.0.0.1"


class WsAgent:
    """One node process holding named WebSocket clients; every call waits for its answer."""

    def __init__(self, log_path, spawn_kwargs):
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(["node", str(HERE / "wsagent.mjs")], cwd=HERE,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, start_new_session=True, **spawn_kwargs)
        self.answers = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.log.write(b"< " + line)
            try:
                self.answers.put(json.loads(line))
            except ValueError:
                continue
        self.answers.put(None)  # the process ended

    def call(self, op, timeout_s=15, **kw):
        """The answer dict; {"ok": False, "error": ...} on a failure, a timeout or a dead agent."""
        self.next_id += 1
        cmd = dict(kw, id=self.next_id, op=op)
        line = (json.dumps(cmd) + "\n").encode()
        self.log.write(b"> " + line)
        try:
            self.proc.stdin.write(line)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            return {"ok": False, "error": "wsagent.mjs is gone"}
        while True:
            try:
                answer = self.answers.get(timeout=timeout_s)
            except queue.Empty:
                return {"ok": False, "error": f"wsagent.mjs did not answer '{op}'"}
            if answer is None:
                self.answers.put(None)
                return {"ok": False, "error": "wsagent.mjs exited"}
            if answer.get("id") == self.next_id:
                return answer

    def connect(self, name, url, origin=None, ca=None):
        return self.call("connect", name=name, url=url, origin=origin, ca=ca and str(ca))

    def send(self, name, text):
        return self.call("send", name=name, text=text)

    def next(self, name, pattern, ms=3000):
        """The next message on that client's connection matching pattern (JS regex, m flag)."""
        return self.call("next", timeout_s=ms / 1000 + 5, name=name, pattern=pattern, ms=ms)

    def close(self, name):
        return self.call("close", name=name)

    def stop(self):
        if self.proc.poll() is None:
            self.call("quit", timeout_s=3)
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _token():
    return uuid.uuid4().hex[:12]


def final_response_pattern(call_id):
    """A JS regex for a final response (200-699) with this Call-ID."""
    return r"^SIP/2\.0 [2-6]\d\d [\s\S]*^(?:Call-ID|i)[ \t]*:[ \t]*" + re.escape(call_id) + r"\r?$"


def crlf(lines, body=""):
    return "\r\n".join(lines + [f"Content-Length: {len(body.encode())}", "", body])


def register(user, transport, *, expires=600, instance=None, reg_id=None):
    """A REGISTER as JsSIP sends it over WebSocket; returns (text, call_id, contact_host)."""
    host = f"{_token()}.invalid"
    call_id = uuid.uuid4().hex
    contact = f"<sip:{_token()}@{host};transport=ws>;expires={expires}"
    supported = "path, gruu"
    if instance is not None:
        contact += f';reg-id={reg_id};+sip.instance="<urn:uuid:{instance}>"'
        supported += ", outbound"
    text = crlf([
        f"REGISTER sip:{DOMAIN} SIP/2.0",
        f"Via: SIP/2.0/{transport} {host};branch=z9hG4bK{_token()}",
        "Max-Forwards: 69",
        f"To: <sip:{user}@{DOMAIN}>",
        f"From: <sip:{user}@{DOMAIN}>;tag={_token()}",
        f"Call-ID: {call_id}",
        "CSeq: 1 REGISTER",
        f"Contact: {contact}",
        f"Expires: {expires}",
        "Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY",
        f"Supported: {supported}",
        "User-Agent: strowger-wsagent",
    ])
    return text, call_id, host


def message(from_user, to_user, transport, body):
    """An out-of-dialog MESSAGE from a WebSocket client; returns (text, call_id)."""
    host = f"{_token()}.invalid"
    call_id = uuid.uuid4().hex
    text = crlf([
        f"MESSAGE sip:{to_user}@{DOMAIN} SIP/2.0",
        f"Via: SIP/2.0/{transport} {host};branch=z9hG4bK{_token()}",
        "Max-Forwards: 69",
        f"To: <sip:{to_user}@{DOMAIN}>",
        f"From: <sip:{from_user}@{DOMAIN}>;tag={_token()}",
        f"Call-ID: {call_id}",
        "CSeq: 1 MESSAGE",
        "Content-Type: text/plain",
    ], body)
    return text, call_id


_KEEP = {"via": "Via", "v": "Via", "from": "From", "f": "From", "to": "To", "t": "To",
         "call-id": "Call-ID", "i": "Call-ID", "cseq": "CSeq"}


def response_to(request, code, reason):
    """The UAS's response to a request text: its Vias in order, From, To with a tag, Call-ID."""
    head = request.split("\r\n\r\n", 1)[0]
    lines = [f"SIP/2.0 {code} {reason}"]
    for line in head.split("\r\n")[1:]:
        name, colon, value = line.partition(":")
        canonical = _KEEP.get(name.strip().lower())
        if not colon or canonical is None:
            continue
        value = value.strip()
        if canonical == "To" and ";tag=" not in value:
            value += f";tag={_token()}"
        lines.append(f"{canonical}: {value}")
    return crlf(lines)
