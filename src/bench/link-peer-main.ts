import { type PeerConfig, runLinkPeer } from './link-peer.js';

// Entry point of a benchmark peer process: `node link-peer-main.js '<PeerConfig JSON>'`.
await runLinkPeer(JSON.parse(process.argv[2] ?? '{}') as PeerConfig);
