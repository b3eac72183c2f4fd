// Holds 2,000 connections open against a running `agegender serve` and reports when the server
// closes them: a third idle (nothing sent), a third keep-alive after one request, a third sending a
// header line every 10 s and never finishing. Also times one /healthz while they are held.
//
//   node bin/agegender.js serve --port 18181 &
//   node --import tsx experiments/serve-connections.ts 18181
//   (the server's RSS and open descriptors: grep VmRSS /proc/<pid>/status; ls /proc/<pid>/fd | wc -l)
import net from 'node:net';

const port = Number(process.argv[2] ?? 8080);
const closed = [0, 0, 0];
const t0 = Date.now();
const sleepUntil = (s: number) => new Promise((r) => setTimeout(r, Math.max(0, s * 1000 - (Date.now() - t0))));
for (let i = 0; i < 2000; i++) {
  const kind = i % 3;
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  s.resume(); // read, so that the server's close is seen
  s.on('close', () => { closed[kind]!++; });
  if (kind === 1) s.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
  if (kind === 2) {
    s.write('GET /healthz HTTP/1.1\r\n');
    const t = setInterval(() => { if (s.writable) s.write('X-A: b\r\n'); }, 10_000);
    s.on('close', () => clearInterval(t));
  }
}
await sleepUntil(2);
const h0 = Date.now();
const res = await fetch(`http://127.0.0.1:${port}/healthz`);
console.log(`/healthz with 2,000 connections held: ${res.status} in ${Date.now() - h0} ms`);
for (const at of [20, 35, 65, 80, 125]) {
  await sleepUntil(at);
  console.log(`${at} s: closed by the server, idle / keep-alive / trickling: ${closed.join(' / ')} (of 667 / 667 / 666)`);
}
process.exit(0);
