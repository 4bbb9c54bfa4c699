import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import {
  generateCertificate,
  LinkClient,
  LinkServer,
  readAuthorizedKeys,
  readCertificate,
  readSecretCertificate,
} from '../../src/link/index.js';
import type { StatePacket, TokensPacket } from '../../src/wire/index.js';
import { epochNowNs } from '../../src/wire/index.js';
import {
  freePort,
  ipcEndpoints,
  memoryLog,
  planarArmIdentity,
  sleep,
} from '../helpers/link-fixtures.js';

// Debian's interpreter: python3-zmq, python3-msgpack and python3-numpy belong to it.
const PYTHON = '/usr/bin/python3';
const PEER = join(import.meta.dirname, 'python_peer.py');
const hasPythonDeps =
  spawnSync(PYTHON, ['-c', 'import zmq, msgpack, numpy'], { stdio: 'ignore' }).status === 0;

interface PyEvent {
  event: string;
  [k: string]: unknown;
}

function runPeer(args: string[]) {
  const child = spawn(PYTHON, [PEER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: PyEvent[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  createInterface({ input: child.stdout }).on('line', (line) =>
    events.push(JSON.parse(line) as PyEvent),
  );
  const done = new Promise<void>((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`python peer exited ${code}: ${stderr}`)),
    ),
  );
  return { child, events, done };
}

describe.skipIf(!hasPythonDeps)(
  'a Python peer (python3-zmq, -msgpack, -numpy) speaks the link',
  () => {
    const cleanup: (() => void)[] = [];
    afterEach(() => {
      for (const c of cleanup.splice(0).reverse()) c();
    });

    async function tsBrainToPythonCerebellum(curve: boolean) {
      const { dir, endpoints: ipc } = ipcEndpoints();
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const endpoints = curve
        ? {
            tokens: `tcp://127.0.0.1:${await freePort()}`,
            state: `tcp://127.0.0.1:${await freePort()}`,
          }
        : ipc;
      const id = planarArmIdentity('ts-brain');
      let curveArgs: string[] = [];
      let security = {};
      if (curve) {
        const clients = join(dir, 'clients');
        mkdirSync(clients);
        const brain = generateCertificate(dir, 'brain');
        const py = generateCertificate(clients, 'python');
        const pySecret = readSecretCertificate(py.secretFile);
        curveArgs = [
          readCertificate(brain.publicFile).publicKey,
          pySecret.secretKey,
          pySecret.publicKey,
        ];
        security = {
          curve: {
            ...readSecretCertificate(brain.secretFile),
            authorizedKeys: readAuthorizedKeys(clients),
          },
        };
      }
      const server = await LinkServer.open({ ...id, endpoints, log: memoryLog(), ...security });
      cleanup.push(() => server.close());
      const states: StatePacket[] = [];
      server.onState((s) => states.push(s));
      const peer = runPeer([
        'cerebellum',
        endpoints.tokens,
        endpoints.state,
        id.specId,
        '5',
        ...curveArgs,
      ]);
      cleanup.push(() => peer.child.kill());
      const sent = new Map<number, { tokens: number[]; obs: bigint }>();
      let exited = false;
      peer.done.finally(() => {
        exited = true;
      });
      for (let i = 0; i < 400 && !exited; i++) {
        const tokens = Uint32Array.from({ length: 24 }, (_, k) => 3840 + ((i + k) % 256));
        const obs = epochNowNs();
        const p = server.publishTokens({
          episode_id: 'conformance',
          obs_stamp_ns: obs,
          tokens,
          timings_ms: { x: 1 },
        });
        sent.set(p.seq, { tokens: Array.from(tokens), obs });
        await sleep(25);
      }
      await peer.done;
      const received = peer.events.filter((e) => e.event === 'tokens');
      expect(received).toHaveLength(5);
      for (const e of received) {
        const original = sent.get(e.seq as number);
        expect(e.tokens).toEqual(original?.tokens);
        expect(BigInt(e.obs_stamp_ns as string)).toBe(original?.obs);
        expect(e.episode_id).toBe('conformance');
        expect(e.keys).toEqual([
          'emit_stamp_ns',
          'episode_id',
          'kind',
          'model_id',
          'obs_stamp_ns',
          'seq',
          'spec_id',
          'timings_ms',
          'tokens',
          'v',
        ]);
      }
      const hello = peer.events.find((e) => e.event === 'hello');
      expect(hello).toMatchObject({ spec_id: id.specId, model_id: 'ts-brain', spec_hash_ok: true });
      await sleep(100);
      expect(states.length).toBeGreaterThan(0);
      const last = states.at(-1) as StatePacket;
      expect(last.mode).toBe('run');
      expect(Array.from(last.position).slice(0, 2)).toEqual([0.5, -0.25]);
      expect(last.position[2]).toBe(1 + last.seq);
    }

    it('TypeScript brain → Python cerebellum → TypeScript brain, over ipc', () =>
      tsBrainToPythonCerebellum(false));

    it('the same with CURVE over tcp, the Python key authorized by certificate file', () =>
      tsBrainToPythonCerebellum(true));

    it('Python brain → TypeScript cerebellum → Python brain', async () => {
      const { dir, endpoints } = ipcEndpoints();
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const id = planarArmIdentity('ts-arm');
      const specFile = join(dir, 'spec.json');
      writeFileSync(specFile, id.spec);
      const peer = runPeer(['brain', endpoints.tokens, endpoints.state, id.specId, '3', specFile]);
      cleanup.push(() => peer.child.kill());
      while (!peer.events.some((e) => e.event === 'ready')) await sleep(20);
      const client = await LinkClient.open({ ...id, endpoints, log: memoryLog() });
      cleanup.push(() => client.close());
      const tokens: TokensPacket[] = [];
      client.onTokens((p) => tokens.push(p));
      let exited = false;
      peer.done.finally(() => {
        exited = true;
      });
      for (let i = 0; i < 400 && !exited; i++) {
        const last = tokens.at(-1);
        client.sendState({
          stamp_ns: 1_764_000_000_000_000_001n,
          position: Float64Array.of(1.5, -2.25, 0.125),
          velocity: new Float64Array(3),
          mode: 'hold',
          last_token_seq: last ? last.seq : -1,
        });
        await sleep(25);
      }
      await peer.done;
      expect(tokens.length).toBeGreaterThan(0);
      const t = tokens[0] as TokensPacket;
      expect(Array.from(t.tokens)).toEqual(Array.from({ length: 24 }, (_, k) => 4072 + k));
      expect(t.model_id).toBe('python-brain');
      expect(t.timings_ms).toEqual({ python: 0.5 });
      expect(client.brain).toMatchObject({
        modelId: 'python-brain',
        matches: true,
        software: 'python-peer',
      });
      const states = peer.events.filter((e) => e.event === 'state');
      expect(states).toHaveLength(3);
      expect(states[0]).toMatchObject({ mode: 'hold', position: [1.5, -2.25, 0.125] });
      // Python reads the int64 stamp exactly (it prints it as a string: JSON numbers stop at 2^53).
      expect(states[0]?.stamp_ns).toBe('1764000000000000001');
      expect(states[0]?.keys).toEqual([
        'kind',
        'last_token_seq',
        'mode',
        'position',
        'seq',
        'spec_id',
        'stamp_ns',
        'v',
        'velocity',
      ]);
    });
  },
);
