import { spawn } from 'node:child_process';
import { WebSocketServer } from 'ws';
import { rssBytes, pssBytes } from '/work/main/bench/lib/proc.mjs';
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/bridge' });
await new Promise(r => wss.once('listening', r));
let onReady;
wss.on('connection', ws => ws.on('message', d => { const f = JSON.parse(String(d)); if (f.type==='hello') ws.send('{"type":"hello_ack"}'); if (f.type==='ready') onReady(); }));
const variants = process.argv.slice(2).map(v => v.split(' ').filter(Boolean));
for (let i=0;i<5;i++) for (const v of variants) {
  const t0 = performance.now();
  const c = spawn(process.execPath, v, { env: {...process.env, SYNTHESIS_WS_URL:`ws://127.0.0.1:${wss.address().port}/bridge`, SYNTHESIS_OPENCLAW_SESSION:'s', SYNTHESIS_CLAUDE_SESSION:'c', SYNTHESIS_LOG_LEVEL:'warn', SYNTHESIS_READY_DELAY_MS:'0'}, stdio:['pipe','pipe','inherit']});
  c.stdout.resume();
  for (const m of [{ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } },{ jsonrpc: '2.0', method: 'notifications/initialized' },{ jsonrpc: '2.0', id: 2, method: 'tools/list' }]) c.stdin.write(JSON.stringify(m)+'\n');
  await new Promise(r => onReady = r);
  const t = performance.now()-t0;
  await new Promise(r=>setTimeout(r,300));
  console.log(v.join(' ').slice(-60).padEnd(60), t.toFixed(0), 'ms', (rssBytes(c.pid)/1048576).toFixed(1), (pssBytes(c.pid)/1048576).toFixed(1));
  c.stdin.end(); await new Promise(r=>c.once('exit',r));
}
wss.close();
