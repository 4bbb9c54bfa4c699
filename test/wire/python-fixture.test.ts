import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseActionSpec, specId } from '../../src/contract/index.js';
import {
  decodePacket,
  encodePacket,
  type HelloPacket,
  type Packet,
  type StatePacket,
  type TokensPacket,
} from '../../src/wire/index.js';
import { helloPacket, SPEC_ID, SPEC_JSON, statePacket, tokensPacket } from './samples.js';

/**
 * Cross-language checks against Debian's Python msgpack + numpy (/usr/bin/python3; the python3
 * first on PATH may be another interpreter without them):
 * - golden files written by test/fixtures/wire/make_packets.py decode field for field;
 * - packets encoded here decode in Python, and Python's re-encoding decodes here unchanged.
 */

const PYTHON = '/usr/bin/python3';
const fixtures = fileURLToPath(new URL('../fixtures/wire/', import.meta.url));
const fixture = (name: string): Uint8Array =>
  Uint8Array.from(readFileSync(join(fixtures, `${name}.msgpack`)));

const probe = spawnSync(PYTHON, ['-c', 'import msgpack, numpy'], { encoding: 'utf8' });
const hasPython = probe.status === 0;
const skipNote = hasPython
  ? ''
  : ` (SKIPPED: ${PYTHON} cannot import msgpack and numpy: ${(probe.stderr || String(probe.error)).trim().split('\n').pop()})`;

const temp = mkdtempSync(join(tmpdir(), 'pons-wire-py-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('golden packets written by Python', () => {
  it('tokens', () => {
    const p = decodePacket(fixture('tokens'), 'tokens.msgpack') as TokensPacket;
    const expected = Uint32Array.from({ length: 24 }, (_, i) => 4095 - ((7 * i + 3) % 256));
    expect(p).toEqual({
      v: 1,
      kind: 'tokens',
      spec_id: SPEC_ID,
      model_id: 'tiny-vla',
      episode_id: 'episode-0007',
      seq: 42,
      obs_stamp_ns: 1_764_000_000_123_456_789n,
      emit_stamp_ns: 1_764_000_000_223_456_789n,
      tokens: expected,
      timings_ms: { preprocess: 1.25, vision: 12.5, prefill: 30, decode: 7 },
    });
    expect(p.tokens).toBeInstanceOf(Uint32Array);
  });

  it('state (small-int stamp, unaligned float64 data)', () => {
    const bytes = fixture('state');
    const p = decodePacket(bytes, 'state.msgpack') as StatePacket;
    expect(p).toEqual({
      v: 1,
      kind: 'state',
      spec_id: SPEC_ID,
      seq: 7,
      stamp_ns: 2_500_000_000n,
      position: new Float64Array([0.1, -0.25, 1.5707963267948966]),
      velocity: new Float64Array([0, 0.5, -1e-3]),
      mode: 'run',
      last_token_seq: -1,
    });
    // Python put the position bytes at an offset that is not a multiple of 8: they were copied.
    expect(p.position.buffer).not.toBe(bytes.buffer);
    expect(p.position.byteOffset % 8).toBe(0);
  });

  it("hello: Python's canonical JSON of the planar-arm spec is byte-identical to the contract's", () => {
    const p = decodePacket(fixture('hello'), 'hello.msgpack') as HelloPacket;
    expect(p).toEqual({
      v: 1,
      kind: 'hello',
      role: 'brain',
      spec: SPEC_JSON,
      spec_id: SPEC_ID,
      model_id: 'tiny-vla',
      software: 'python-peer 0.1',
    });
    expect(specId(parseActionSpec(JSON.parse(p.spec), 'hello.spec'))).toBe(p.spec_id);
  });

  it.skipIf(!hasPython)(`the committed files are what make_packets.py writes${skipNote}`, () => {
    const run = spawnSync(PYTHON, [join(fixtures, 'make_packets.py'), temp], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    for (const name of ['tokens', 'state', 'hello']) {
      expect(Buffer.compare(readFileSync(join(temp, `${name}.msgpack`)), fixture(name)), name).toBe(
        0,
      );
    }
  });
});

// Decodes each file with plain msgpack (str keys required, no ExtType anywhere), rebuilds the
// arrays with numpy, reports what it saw as JSON, and re-encodes each packet the way a Python
// peer would (openpi convention, str keys).
const PY_ROUND_TRIP = `
import base64, json, struct, sys
import msgpack, numpy as np

def walk(x):
    if isinstance(x, msgpack.ExtType):
        raise SystemExit("extension type in the packet: %r" % (x,))
    if isinstance(x, dict):
        for k, v in x.items():
            if not isinstance(k, str):
                raise SystemExit("non-str key %r" % (k,))
            walk(v)
    if isinstance(x, list):
        for v in x:
            walk(v)

def bits(x):
    return struct.pack(">d", float(x)).hex()

def to_np(m):
    assert list(m.keys()) == ["__ndarray__", "data", "dtype", "shape"], list(m.keys())
    assert m["__ndarray__"] is True
    return np.frombuffer(m["data"], dtype=np.dtype(m["dtype"])).reshape(m["shape"])

def to_map(a):
    return {"__ndarray__": True, "data": a.tobytes(), "dtype": a.dtype.str, "shape": list(a.shape)}

out = {}
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        raw = f.read()
    p = msgpack.unpackb(raw, raw=False, strict_map_key=True)
    walk(p)
    seen = {"keys": list(p.keys()), "types": {k: type(v).__name__ for k, v in p.items()}}
    again = dict(p)
    for k in ("tokens", "position", "velocity"):
        if k in p:
            a = to_np(p[k])
            seen[k] = {"dtype": a.dtype.str, "shape": list(a.shape),
                       "values": [bits(x) if a.dtype.kind == "f" else int(x) for x in a]}
            again[k] = to_map(a)
    for k in ("seq", "obs_stamp_ns", "emit_stamp_ns", "stamp_ns", "last_token_seq"):
        if k in p:
            seen[k] = str(p[k])
    for k in ("spec_id", "model_id", "episode_id", "software", "role", "mode", "kind"):
        if k in p:
            seen[k] = p[k]
    if "timings_ms" in p:
        seen["timings_ms"] = {k: bits(v) for k, v in p["timings_ms"].items()}
    if "spec" in p:
        import hashlib
        seen["spec_sha256"] = hashlib.sha256(p["spec"].encode("utf-8")).hexdigest()
    seen["again"] = base64.b64encode(msgpack.packb(again, use_bin_type=True)).decode("ascii")
    out[p["kind"]] = seen
print(json.dumps(out))
`;

/** A float64's IEEE-754 bits as 16 hex digits, big-endian: what Python prints for it below. */
const bits = (x: number): string => {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
};

describe(`packets encoded here, read by Python msgpack + numpy${skipNote}`, () => {
  it.skipIf(!hasPython)('decode there field for field, and come back unchanged', () => {
    const sent: Record<string, Packet> = {
      tokens: { ...tokensPacket(), seq: 2 ** 40 },
      state: statePacket(),
      hello: helloPacket(),
    };
    const paths = Object.entries(sent).map(([kind, p]) => {
      const path = join(temp, `ts-${kind}.msgpack`);
      writeFileSync(path, encodePacket(p));
      return path;
    });
    const run = spawnSync(PYTHON, ['-c', PY_ROUND_TRIP, ...paths], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const seen = JSON.parse(run.stdout) as Record<string, Record<string, unknown>>;

    const t = sent.tokens as TokensPacket;
    expect(seen.tokens).toMatchObject({
      keys: [
        'v',
        'kind',
        'spec_id',
        'model_id',
        'episode_id',
        'seq',
        'obs_stamp_ns',
        'emit_stamp_ns',
        'tokens',
        'timings_ms',
      ],
      types: {
        v: 'int',
        kind: 'str',
        seq: 'int',
        obs_stamp_ns: 'int',
        emit_stamp_ns: 'int',
        tokens: 'dict',
        timings_ms: 'dict',
      },
      seq: String(2 ** 40),
      obs_stamp_ns: '1764000000123456789',
      emit_stamp_ns: String(t.emit_stamp_ns),
      spec_id: SPEC_ID,
      model_id: t.model_id,
      episode_id: t.episode_id,
      tokens: { dtype: '<u4', shape: [56], values: [...t.tokens] },
      timings_ms: Object.fromEntries(Object.entries(t.timings_ms).map(([k, v]) => [k, bits(v)])),
    });

    const s = sent.state as StatePacket;
    expect(seen.state).toMatchObject({
      types: { stamp_ns: 'int', seq: 'int', last_token_seq: 'int', position: 'dict', mode: 'str' },
      stamp_ns: String(s.stamp_ns),
      last_token_seq: '-1',
      mode: 'run',
      position: { dtype: '<f8', shape: [3], values: [...s.position].map(bits) },
      velocity: { dtype: '<f8', shape: [3], values: [...s.velocity].map(bits) },
    });

    expect(seen.hello).toMatchObject({
      role: 'cerebellum',
      spec_sha256: SPEC_ID,
      spec_id: SPEC_ID,
    });

    for (const [kind, p] of Object.entries(sent)) {
      const again = Buffer.from((seen[kind] as { again: string }).again, 'base64');
      expect(decodePacket(again, `python re-encoding of ${kind}`)).toEqual(p);
    }
  });
});
