// JsSIP in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) against
// sipproxy's WSS listener: register with digest auth, send a MESSAGE to a peer, receive one.
// With --call: an audio call to the peer (fake microphone) that is answered, confirmed (ACK)
// and hung up (BYE); media is not checked (the peer's SDP answer only has a browser's shape).
// Driven by tests/webrtc/run.py; prints one JSON line per check:
//   {"check": "...", "ok": true|false, "detail": "..."}
// and exits 0 when every check passed. Never downloads a browser: playwright-core has none.
//
//   node browser.mjs --wss wss://127.0.0.1:PORT --page-port N --domain 127.0.0.1 \
//        --user alice --password pw --peer sip:bob@127.0.0.1 --send TEXT --expect TEXT \
//        [--call] [--spki BASE64 | --insecure] [--step-timeout MS] [--chromium PATH] [--debug]
import {readFileSync} from 'node:fs';
import {createServer} from 'node:http';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {chromium} from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));

const {values: opt} = parseArgs({
  options: {
    wss: {type: 'string'},
    'page-port': {type: 'string', default: '0'},
    domain: {type: 'string', default: '127.0.0.1'},
    user: {type: 'string', default: 'alice'},
    password: {type: 'string'},
    peer: {type: 'string'},
    send: {type: 'string', default: 'hello from the browser'},
    expect: {type: 'string'},
    spki: {type: 'string'},
    call: {type: 'boolean', default: false},
    insecure: {type: 'boolean', default: false},
    'step-timeout': {type: 'string', default: '15000'},
    debug: {type: 'boolean', default: false},
    chromium: {type: 'string', default: '/usr/bin/chromium'},
  },
});
for (const k of ['wss', 'password', 'peer', 'expect']) {
  if (!opt[k]) {
    console.error(`browser.mjs: --${k} is required`);
    process.exit(2);
  }
}
const stepMs = Number(opt['step-timeout']);

let failures = 0;
function report(check, ok, detail = '') {
  if (!ok) failures++;
  process.stdout.write(JSON.stringify({check, ok, detail: String(detail)}) + '\n');
}

// The page: served over http://127.0.0.1 (a secure context, so WebRTC APIs exist), the origin
// run.py allows on the WebSocket listener. The same page on http://localhost is another origin.
const jssipJs = readFileSync(join(HERE, 'node_modules', 'jssip', 'dist', 'jssip.min.js'));
const pageHtml = '<!doctype html><meta charset="utf-8"><title>strowger webrtc</title>' +
    '<script src="/jssip.min.js"></script><body>JsSIP test page</body>';
const server = createServer((req, res) => {
  if (req.url === '/jssip.min.js') {
    res.writeHead(200, {'content-type': 'text/javascript'}).end(jssipJs);
  } else if (req.url === '/' || req.url === '/index.html') {
    res.writeHead(200, {'content-type': 'text/html'}).end(pageHtml);
  } else {
    res.writeHead(404).end();
  }
});
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(opt['page-port']), '127.0.0.1', resolve);
});
const pagePort = server.address().port;

// Every wait in a page has its own deadline; this one catches a page that never answers.
function withTimeout(promise, ms, what) {
  let timer;
  return Promise
      .race([
        promise,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
        }),
      ])
      .finally(() => clearTimeout(timer));
}

// Runs `fn` in the page and reports its {ok, detail}; an exception is the check's failure.
async function check(page, name, fn, arg) {
  try {
    const r = await withTimeout(page.evaluate(fn, arg), stepMs + 5000, name);
    report(name, r.ok, r.detail);
    return r.ok;
  } catch (e) {
    report(name, false, e.message.split('\n')[0]);
    return false;
  }
}

// In the page: a WebSocket handshake from this page's origin; resolves with how it ended.
function tryWebSocket({url, ms}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'sip');
    const timer = setTimeout(() => resolve({opened: false, detail: 'timeout'}), ms);
    ws.onopen = () => {
      clearTimeout(timer);
      ws.close();
      resolve({opened: true, detail: `protocol '${ws.protocol}'`});
    };
    ws.onclose = (e) => {
      clearTimeout(timer);
      resolve({opened: false, detail: `closed ${e.code}`});
    };
  });
}

// In the page: a JsSIP UA that registers; resolves when registered or refused. The UA stays in
// window.ua for the next steps; received MESSAGEs are collected in window.inbox.
function register({wss, uri, password, ms, keep}) {
  return new Promise((resolve) => {
    const socket = new JsSIP.WebSocketInterface(wss);
    const ua = new JsSIP.UA({
      sockets: [socket],
      uri,
      password,
      register: true,
      register_expires: 300,
      connection_recovery_min_interval: 30,
      connection_recovery_max_interval: 60
    });
    const events = [];
    const inbox = [];
    ua.on('connected', () => events.push('connected'));
    ua.on('disconnected', (e) => events.push(`disconnected${e.error ? ' (error)' : ''}`));
    ua.on('newMessage', (e) => {
      if (e.originator !== 'remote') return;
      inbox.push({
        from: e.request.from.uri.toString(),
        body: e.request.body,
        via: e.request.getHeader('Via')
      });
    });
    const timer = setTimeout(() => finish(false, 'no registration result'), ms);
    let status = null;
    function finish(ok, detail) {
      clearTimeout(timer);
      if (keep && ok) {
        window.ua = ua;
        window.inbox = inbox;
      } else {
        ua.stop();
      }
      resolve({ok, status, detail: `${detail}; events: ${events.join(', ') || 'none'}`});
    }
    ua.on('registered', (e) => {
      finish(true, `registered: ${e.response.status_code} ${e.response.reason_phrase}`);
    });
    ua.on('registrationFailed', (e) => {
      status = e.response ? e.response.status_code : null;
      finish(false, `registrationFailed: ${e.cause} (${status ?? '-'})`);
    });
    ua.start();
  });
}

// In the page: a MESSAGE from window.ua; ok when JsSIP reports 'succeeded'.
function sendMessage({target, body, ms}) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ok: false, detail: 'no final response'}), ms);
    window.ua.sendMessage(target, body, {
      eventHandlers: {
        succeeded: (e) => {
          clearTimeout(timer);
          resolve({ok: true, detail: `${e.response.status_code} ${e.response.reason_phrase}`});
        },
        failed: (e) => {
          clearTimeout(timer);
          resolve({
            ok: false,
            detail: `failed: ${e.cause} ` +
                `(${e.response ? e.response.status_code : '-'})`
          });
        },
      },
    });
  });
}

// In the page: waits for a received MESSAGE with this body.
function awaitMessage({body, ms}) {
  return new Promise((resolve) => {
    const deadline = Date.now() + ms;
    (function poll() {
      const hit = window.inbox.find((m) => (m.body || '').trim() === body);
      if (hit) return resolve({ok: true, detail: `from ${hit.from} via ${hit.via}`});
      if (Date.now() > deadline) {
        return resolve({
          ok: false,
          detail: `received ${window.inbox.length}: ` + JSON.stringify(window.inbox).slice(0, 300)
        });
      }
      setTimeout(poll, 50);
    })();
  });
}

// In the page: an audio call from window.ua (Chromium's fake microphone); hangs up holdMs
// after it is confirmed. ok when it rang (180), was answered (200), confirmed (ACK sent) and
// ended by our BYE.
function callPeer({target, ms, holdMs}) {
  return new Promise((resolve) => {
    const events = [];
    let session = null;
    const timer = setTimeout(() => finish(false, 'no end of call'), ms);
    function finish(ok, detail) {
      clearTimeout(timer);
      if (session && !session.isEnded()) session.terminate();
      resolve({ok, detail: `${detail}; events: ${events.join(', ') || 'none'}`});
    }
    session = window.ua.call(target, {
      mediaConstraints: {audio: true, video: false},
      pcConfig: {iceServers: []},
      eventHandlers: {
        sending: () => events.push('INVITE sent'),
        progress: (e) => events.push(`progress ${e.response ? e.response.status_code : '-'}`),
        accepted: (e) => events.push(`accepted ${e.response ? e.response.status_code : '-'}`),
        confirmed: () => {
          events.push('confirmed');
          setTimeout(() => session.terminate(), holdMs);
        },
        ended: (e) => {
          events.push(`ended (${e.originator}: ${e.cause})`);
          const ok = events.includes('progress 180') && events.includes('accepted 200') &&
              events.includes('confirmed') && e.originator === 'local';
          finish(ok, ok ? 'INVITE -> 180 -> 200, ACK, BYE' : 'unexpected call flow');
        },
        failed: (e) => {
          const code = e.message && e.message.status_code ? ` ${e.message.status_code}` : '';
          events.push(`failed (${e.originator}: ${e.cause}${code})`);
          finish(false, 'call failed');
        },
      },
    });
  });
}

// In the page: unregisters window.ua and stops it.
function unregister({ms}) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ok: false, detail: 'no unregistration'}), ms);
    window.ua.on('unregistered', (e) => {
      clearTimeout(timer);
      window.ua.stop();
      resolve({ok: true, detail: e.response ? `${e.response.status_code}` : 'no response'});
    });
    window.ua.unregister();
  });
}

// The helpers above, defined as globals in the page.
const PAGE_HELPERS = [tryWebSocket, register, sendMessage, awaitMessage, callPeer, unregister]
                         .map((f) => f.toString())
                         .join('\n');

async function launch(args) {
  return chromium.launch({
    executablePath: opt.chromium,
    headless: true,
    chromiumSandbox: false,
    timeout: stepMs,
    args
  });
}

const trustArgs = opt.insecure ? ['--ignore-certificate-errors'] :
    opt.spki                   ? [`--ignore-certificate-errors-spki-list=${opt.spki}`] :
                                 [];
const uri = `sip:${opt.user}@${opt.domain}`;
const browsers = [];
try {
  const browser = await launch(
      ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', ...trustArgs]);
  browsers.push(browser);
  report('Chromium launched headless', true, `${opt.chromium} ${browser.version()}`);
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  // --debug: JsSIP's own trace (every SIP message) on stderr, which run.py keeps in browser.log.
  if (opt.debug) page.on('console', (m) => process.stderr.write(`[page] ${m.text()}\n`));
  await page.goto(`http://127.0.0.1:${pagePort}/`, {timeout: stepMs});
  await page.addScriptTag({content: PAGE_HELPERS});
  const version = await page.evaluate(() => (window.JsSIP ? JsSIP.version : null));
  report('JsSIP loaded in the page', version !== null, version ?? consoleErrors.join('; '));
  if (version === null) throw new Error('no JsSIP');
  if (opt.debug) await page.evaluate(() => JsSIP.debug.enable('JsSIP:*'));

  const r = await page.evaluate(tryWebSocket, {url: opt.wss, ms: stepMs});
  report('WebSocket handshake (sub-protocol sip) from the allowed origin', r.opened, r.detail);

  // Same page, other origin: the websocket module's origin list must refuse it.
  const other = await browser.newPage();
  await other.goto(`http://localhost:${pagePort}/`, {timeout: stepMs});
  const o = await other.evaluate(tryWebSocket, {url: opt.wss, ms: stepMs});
  // Meaningful only when the allowed origin got through on the same listener.
  report(
      'WebSocket handshake from another origin is refused', r.opened && !o.opened,
      `${o.detail}${r.opened ? '' : ' (the allowed origin failed too)'}`);
  await other.close();

  const reg = {wss: opt.wss, uri, password: opt.password, ms: stepMs};
  await check(
      page, 'REGISTER over WSS with a wrong password is refused',
      (a) => register(a).then((r) => ({ok: !r.ok && r.status === 401, detail: r.detail})),
      {...reg, password: `${opt.password}-wrong`, keep: false});
  const registered = await check(
      page, 'REGISTER over WSS with digest auth -> registered', (a) => register(a),
      {...reg, keep: true});
  if (registered) {
    process.stdout.write(JSON.stringify({event: 'registered'}) + '\n');
    await check(
        page, `MESSAGE to ${opt.peer} with digest auth -> succeeded`, (a) => sendMessage(a),
        {target: opt.peer, body: opt.send, ms: stepMs});
    await check(
        page, 'MESSAGE from the peer arrives over the WSS connection (newMessage)',
        (a) => awaitMessage(a), {body: opt.expect, ms: stepMs});
    if (opt.call) {
      await check(
          page, `call to ${opt.peer} (audio): INVITE -> 180 -> 200 -> ACK, then BYE`,
          (a) => callPeer(a), {target: opt.peer, ms: stepMs, holdMs: 500});
    }
    await check(page, 'un-REGISTER over WSS', (a) => unregister(a), {ms: stepMs});
  }
  await browser.close();
  browsers.pop();

  // Without trust in the dev CA the same handshake must fail: the trust is what made it work.
  const plain = await launch([]);
  browsers.push(plain);
  const p = await plain.newPage();
  await p.goto(`http://127.0.0.1:${pagePort}/`, {timeout: stepMs});
  const u = await p.evaluate(tryWebSocket, {url: opt.wss, ms: stepMs});
  report(
      'untrusted certificate: Chromium refuses the WSS connection', r.opened && !u.opened,
      `${u.detail}${r.opened ? '' : ' (the trusted browser failed too)'}`);
  if (consoleErrors.length) report('no script errors in the page', false, consoleErrors.join('; '));
} catch (e) {
  report('browser flow', false, e.message.split('\n')[0]);
} finally {
  for (const b of browsers) await b.close().catch(() => {});
  server.close();
}
process.exit(failures ? 1 : 0);
