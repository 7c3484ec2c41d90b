// An independent WebSocket SIP client (npm ws, RFC 7118 "sip" sub-protocol) for sipproxy's WS
// and WSS listeners: a CLI for one exchange, and a small library for scripted tests.
//
//   node wsclient.mjs --url ws://127.0.0.1:PORT --send register.sip --expect "SIP/2.0 200"
//   node wsclient.mjs --url wss://127.0.0.1:PORT --insecure --send a.sip --expect "^SIP/2.0 401" \
//        --send b.sip --expect "^SIP/2.0 200"
//
// --send and --expect run in the order given: each --expect waits (up to --timeout ms) for the
// next received message matching the regular expression. In .sip files LF line ends become
// CRLF, and {{VAR}} is replaced by --var VAR=value, {{CALLID}} / {{BRANCH}} / {{TAG}} by random
// values (one per run), {{LOCAL_PORT}} by the client's TCP port. Prints each message's first
// line, then "N passed, N failed"; exits 0 when every expectation was met.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';

// A connected client: send(text), next(regex, timeoutMs) -> the matching message, close().
export async function connectSip(url, { origin, protocols = ['sip'], insecure = false,
                                        ca, timeoutMs = 5000 } = {}) {
  const options = { handshakeTimeout: timeoutMs, perMessageDeflate: false };
  if (origin) options.origin = origin;
  if (insecure) options.rejectUnauthorized = false;
  if (ca) options.ca = readFileSync(ca);
  const socket = new WebSocket(url, protocols, options);
  const inbox = [];
  const waiters = [];
  let closed = null;
  socket.on('message', (data) => {
    inbox.push(data.toString('utf8'));
    for (const w of waiters.splice(0)) w();
  });
  // An error after the handshake (a reset) shows as 'close' too; without a listener node would
  // end the whole process on it.
  socket.on('error', () => {});
  socket.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
    for (const w of waiters.splice(0)) w();
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
    socket.once('unexpected-response', (req, res) => {
      reject(new Error(`handshake refused: HTTP ${res.statusCode}`));
      res.resume();
      req.destroy();
    });
  });
  if (socket.protocol !== 'sip') throw new Error(`server chose sub-protocol '${socket.protocol}'`);
  return {
    socket,
    get closed() { return closed; },
    get localPort() { return socket._socket?.localPort ?? 0; },
    send(text) { socket.send(text); },
    // Resolves with the first message (received or still to come) that matches; rejects on
    // timeout or close.
    async next(pattern, ms = timeoutMs) {
      const re = pattern instanceof RegExp ? pattern : new RegExp(pattern, 'm');
      const deadline = Date.now() + ms;
      for (;;) {
        const i = inbox.findIndex((m) => re.test(m));
        if (i >= 0) return inbox.splice(i, 1)[0];
        if (closed) throw new Error(`closed (${closed.code}) before ${re}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timeout waiting for ${re}`);
        await new Promise((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => { clearTimeout(t); resolve(); });
        });
      }
    },
    close(code = 1000) {
      return new Promise((resolve) => {
        if (socket.readyState === WebSocket.CLOSED) return resolve(closed);
        socket.once('close', () => resolve(closed));
        socket.close(code);
      });
    },
  };
}

// A .sip file as it goes on the wire: placeholders filled, CRLF line ends.
export function renderSip(text, vars) {
  const filled = text.replace(/\{\{(\w+)\}\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return filled.replace(/\r?\n/g, '\r\n');
}

function parseArgs(argv) {
  const opts = { steps: [], vars: {}, timeoutMs: 5000, insecure: false };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--url') opts.url = value();
    else if (a === '--send') opts.steps.push({ send: value() });
    else if (a === '--send-text') opts.steps.push({ text: value() });
    else if (a === '--expect') opts.steps.push({ expect: value() });
    else if (a === '--timeout') opts.timeoutMs = Number(value());
    else if (a === '--origin') opts.origin = value();
    else if (a === '--protocol') opts.protocols = value().split(',');
    else if (a === '--insecure') opts.insecure = true;
    else if (a === '--ca') opts.ca = value();
    else if (a === '--var') {
      const [k, ...rest] = value().split('=');
      opts.vars[k] = rest.join('=');
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!opts.url) throw new Error('--url is required');
  return opts;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`wsclient: ${e.message}`);
    process.exit(2);
  }
  let passed = 0;
  let failed = 0;
  let client;
  try {
    client = await connectSip(opts.url, opts);
    passed++;  // the handshake
    console.log(`connected to ${opts.url} (sub-protocol sip)`);
    const vars = {
      CALLID: randomBytes(8).toString('hex'),
      BRANCH: `z9hG4bK${randomBytes(6).toString('hex')}`,
      TAG: randomBytes(4).toString('hex'),
      LOCAL_PORT: client.localPort,
      ...opts.vars,
    };
    for (const step of opts.steps) {
      if (step.send || step.text !== undefined) {
        const raw = step.send ? readFileSync(step.send, 'utf8') : step.text;
        const msg = renderSip(raw, vars);
        client.send(msg);
        console.log(`> ${msg.split('\r\n')[0]}`);
        continue;
      }
      try {
        const got = await client.next(step.expect, opts.timeoutMs);
        console.log(`< ${got.split('\r\n')[0]}`);
        passed++;
      } catch (e) {
        console.log(`FAIL expect ${step.expect}: ${e.message}`);
        failed++;
        break;
      }
    }
    await client.close();
  } catch (e) {
    console.log(`FAIL ${e.message}`);
    failed++;
    client?.socket.terminate();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) main();
