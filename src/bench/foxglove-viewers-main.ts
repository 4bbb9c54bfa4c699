import { runViewers, type ViewersConfig } from './foxglove-viewers.js';

// Entry point of the benchmark's viewer process: `node foxglove-viewers-main.js '<ViewersConfig JSON>'`.
await runViewers(JSON.parse(process.argv[2] ?? '{}') as ViewersConfig);
