// WebSocket SIP clients driven by run.py over stdin/stdout, one JSON object a line, so the
// Python runner can interleave them with SIPp and sipctl. Each command gets one answer with
// its id: {"id", "ok": true, ...} or {"id", "ok": false, "error"}.
//
//   {"id":1,"op":"connect","name":"alice","url":"ws://127.0.0.1:5066/ws","origin":"...",
//    "insecure":true}                        -> {"localPort"}
//   {"id":2,"op":"send","name":"alice","text":"REGISTER ..."}
//   {"id":3,"op":"next","name":"alice","pattern":"^SIP/2.0 ","ms":3000}  -> {"message"}
//   {"id":4,"op":"close","name":"alice"}     -> {"code"}
//   {"id":5,"op":"quit"}
//
// Commands run one after another; "next" returns the first message received on that client's
// own connection (already queued or still to come) matching the regular expression.
import { createInterface } from 'node:readline';
import { connectSip } from './wsclient.mjs';

const clients = new Map();

function client(name) {
  const c = clients.get(name);
  if (!c) throw new Error(`no client '${name}'`);
  return c;
}

async function run(cmd) {
  switch (cmd.op) {
    case 'connect': {
      if (clients.has(cmd.name)) throw new Error(`client '${cmd.name}' exists`);
      const c = await connectSip(cmd.url, {
        origin: cmd.origin, insecure: !!cmd.insecure, ca: cmd.ca, timeoutMs: cmd.ms ?? 5000,
      });
      clients.set(cmd.name, c);
      return { localPort: c.localPort };
    }
    case 'send':
      client(cmd.name).send(cmd.text);
      return {};
    case 'next':
      return { message: await client(cmd.name).next(new RegExp(cmd.pattern, 'm'), cmd.ms) };
    case 'close': {
      const c = client(cmd.name);
      clients.delete(cmd.name);
      const closed = await c.close(cmd.code ?? 1000);
      return { code: closed?.code ?? null };
    }
    case 'quit':
      for (const c of clients.values()) c.socket.terminate();
      return {};
    default:
      throw new Error(`unknown op '${cmd.op}'`);
  }
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  let cmd;
  let answer;
  try {
    cmd = JSON.parse(line);
    answer = { id: cmd.id, ok: true, ...(await run(cmd)) };
  } catch (e) {
    answer = { id: cmd?.id ?? null, ok: false, error: e.message };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
  if (cmd?.op === 'quit') break;
}
process.exit(0);
