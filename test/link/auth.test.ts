import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  generateCertificate,
  LinkClient,
  LinkServer,
  readAuthorizedKeys,
  readCertificate,
  readSecretCertificate,
} from '../../src/link/index.js';
import { epochNowNs } from '../../src/wire/index.js';
import {
  eventually,
  freePort,
  ipcEndpoints,
  memoryLog,
  planarArmIdentity,
  sleep,
} from '../helpers/link-fixtures.js';

describe('CURVE with ZAP authorization', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  it('serves only clients whose keys are in the authorized-keys directory, and logs the rest', async () => {
    const { dir } = ipcEndpoints();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    // CURVE over TCP on loopback: the transport where encryption matters.
    const endpoints = {
      tokens: `tcp://127.0.0.1:${await freePort()}`,
      state: `tcp://127.0.0.1:${await freePort()}`,
    };
    const authorized = join(dir, 'authorized');
    const outsiders = join(dir, 'outsiders');
    mkdirSync(authorized);
    mkdirSync(outsiders);
    const brainCert = generateCertificate(dir, 'brain');
    const goodCert = generateCertificate(authorized, 'good-arm');
    const badCert = generateCertificate(outsiders, 'bad-arm');
    const id = planarArmIdentity('brain');
    const serverLog = memoryLog();
    const server = await LinkServer.open({
      ...id,
      endpoints,
      log: serverLog,
      curve: {
        ...readSecretCertificate(brainCert.secretFile),
        authorizedKeys: readAuthorizedKeys(authorized),
      },
    });
    cleanup.push(() => server.close());
    const serverKey = readCertificate(brainCert.publicFile).publicKey;
    const open = async (secretFile: string | undefined) => {
      const client = await LinkClient.open({
        ...id,
        endpoints,
        log: memoryLog(),
        ...(secretFile ? { curve: { ...readSecretCertificate(secretFile), serverKey } } : {}),
      });
      cleanup.push(() => client.close());
      const got: number[] = [];
      client.onTokens((p) => got.push(p.seq));
      return got;
    };
    const good = await open(goodCert.secretFile);
    const bad = await open(badCert.secretFile);
    const plain = await open(undefined);
    const states: number[] = [];
    server.onState((s) => states.push(s.seq));

    const tokens = new Uint32Array(24).fill(4000);
    for (let i = 0; i < 40; i++) {
      server.publishTokens({ episode_id: 'e', obs_stamp_ns: epochNowNs(), tokens, timings_ms: {} });
      await sleep(20);
    }
    expect(await eventually(() => good.length > 0)).toBe(true);
    expect(bad).toHaveLength(0);
    expect(plain).toHaveLength(0);
    expect(
      serverLog.lines.some((l) => l.includes('key not in the authorized-keys directory')),
    ).toBe(true);
    expect(
      serverLog.lines.some((l) => l.includes(readCertificate(badCert.publicFile).publicKey)),
    ).toBe(true);
  });

  it('refuses to bind off loopback without CURVE unless told --insecure', async () => {
    const id = planarArmIdentity();
    const endpoints = { tokens: 'tcp://0.0.0.0:0', state: 'tcp://0.0.0.0:0' };
    await expect(LinkServer.open({ ...id, endpoints, log: memoryLog() })).rejects.toThrow(
      /leaves this host: give CURVE keys .* or pass --insecure/,
    );
    await expect(
      LinkClient.open({
        ...id,
        endpoints: { tokens: 'tcp://10.1.2.3:5555', state: 'tcp://10.1.2.3:5556' },
        log: memoryLog(),
      }),
    ).rejects.toThrow(/10\.1\.2\.3:5555 leaves this host/);
    const log = memoryLog();
    const server = await LinkServer.open({ ...id, endpoints, log, insecure: true });
    server.close();
    expect(log.lines.some((l) => l.startsWith('WARN') && l.includes('WITHOUT encryption'))).toBe(
      true,
    );
  });
});
