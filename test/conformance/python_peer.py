"""A pons link peer in Python, using only Debian's python3-zmq, python3-msgpack and
python3-numpy: proof that the wire protocol is plain MessagePack any language can speak.
It packs arrays the way openpi's msgpack_numpy does (bytes keys) and reads pons' (str keys).

    python_peer.py cerebellum TOKENS STATE SPEC_ID COUNT [SERVER_KEY SECRET PUBLIC]
        connects like a cerebellum, receives COUNT token packets, answers each with a
        state packet, and prints what it received as JSON lines.
    python_peer.py brain TOKENS STATE SPEC_ID COUNT SPEC_JSON_FILE
        binds like a brain, publishes hello and COUNT token packets, and prints the state
        packets it receives as JSON lines.
"""
import hashlib
import json
import sys
import time

import msgpack
import numpy as np
import zmq


def ndarray(a):
    # Exactly as openpi's msgpack_numpy.pack_array writes arrays: bytes keys.
    return {b"__ndarray__": True, b"data": a.tobytes(), b"dtype": a.dtype.str, b"shape": a.shape}


def from_ndarray(obj, dtype):
    assert obj["__ndarray__"] is True, obj
    assert obj["dtype"] == dtype, obj["dtype"]
    return np.frombuffer(obj["data"], dtype=np.dtype(obj["dtype"])).reshape(obj["shape"])


def decode(raw):
    return msgpack.unpackb(raw, raw=False)


def encode(packet):
    # use_bin_type: bytes travel as MessagePack bin, text as str, as the protocol wants.
    return msgpack.packb(packet, use_bin_type=True)


def cerebellum(tokens_ep, state_ep, spec_id, count, curve):
    ctx = zmq.Context.instance()
    sub = ctx.socket(zmq.SUB)
    pub = ctx.socket(zmq.PUB)
    for s in (sub, pub):
        if curve:
            s.curve_serverkey, s.curve_secretkey, s.curve_publickey = curve
        s.linger = 0
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(tokens_ep)
    pub.connect(state_ep)
    got = 0
    deadline = time.time() + 20
    while got < count and time.time() < deadline:
        if not sub.poll(200):
            continue
        packet = decode(sub.recv())
        if packet["kind"] == "hello":
            print(json.dumps({"event": "hello", "spec_id": packet["spec_id"], "model_id": packet["model_id"],
                              "spec_hash_ok": hashlib.sha256(packet["spec"].encode()).hexdigest() == packet["spec_id"]}), flush=True)
            continue
        assert packet["kind"] == "tokens" and packet["v"] == 1, packet
        ids = from_ndarray(packet["tokens"], "<u4")
        print(json.dumps({"event": "tokens", "seq": packet["seq"], "tokens": ids.tolist(),
                          "obs_stamp_ns": str(packet["obs_stamp_ns"]), "episode_id": packet["episode_id"],
                          "keys": sorted(packet.keys())}), flush=True)
        got += 1
        state = {
            "v": 1, "kind": "state", "spec_id": spec_id, "seq": got, "stamp_ns": packet["obs_stamp_ns"],
            "position": ndarray(np.array([0.5, -0.25, 1.0 + got], dtype="<f8")),
            "velocity": ndarray(np.zeros(3, dtype="<f8")),
            "mode": "run", "last_token_seq": packet["seq"],
        }
        for _ in range(5):  # PUB/SUB drops before the subscription lands: repeat a few times
            pub.send(encode(state))
            time.sleep(0.02)
    print(json.dumps({"event": "done", "received": got}), flush=True)


def brain(tokens_ep, state_ep, spec_id, count, spec_file):
    spec = open(spec_file).read()
    assert hashlib.sha256(spec.encode()).hexdigest() == spec_id
    ctx = zmq.Context.instance()
    pub = ctx.socket(zmq.PUB)
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    pub.bind(tokens_ep)
    sub.bind(state_ep)
    print(json.dumps({"event": "ready"}), flush=True)
    hello = {"v": 1, "kind": "hello", "role": "brain", "spec": spec, "spec_id": spec_id,
             "model_id": "python-brain", "software": "python-peer"}
    states = 0
    deadline = time.time() + 20
    seq = 0
    while states < count and time.time() < deadline:
        pub.send(encode(hello))
        now = time.time_ns()
        ids = np.arange(4072, 4096, dtype="<u4")
        pub.send(encode({
            "v": 1, "kind": "tokens", "spec_id": spec_id, "model_id": "python-brain", "episode_id": "py",
            "seq": seq, "obs_stamp_ns": now, "emit_stamp_ns": now,
            "tokens": ndarray(ids), "timings_ms": {"python": 0.5},
        }))
        seq += 1
        if sub.poll(50):
            packet = decode(sub.recv())
            if packet["kind"] == "state":
                states += 1
                print(json.dumps({"event": "state", "seq": packet["seq"], "mode": packet["mode"],
                                  "position": from_ndarray(packet["position"], "<f8").tolist(),
                                  "stamp_ns": str(packet["stamp_ns"]), "last_token_seq": packet["last_token_seq"],
                                  "keys": sorted(packet.keys())}), flush=True)
    print(json.dumps({"event": "done", "received": states}), flush=True)


if __name__ == "__main__":
    role, tokens_ep, state_ep, spec_id, count = sys.argv[1:6]
    if role == "cerebellum":
        curve = sys.argv[6:9] if len(sys.argv) > 6 else None
        cerebellum(tokens_ep, state_ep, spec_id, int(count), [k.encode() for k in curve] if curve else None)
    else:
        brain(tokens_ep, state_ep, spec_id, int(count), sys.argv[6])
