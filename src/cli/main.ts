#!/usr/bin/env node
import { Command } from 'commander';
import { InputError } from '../contract/index.js';
import { LinkSecurityError } from '../link/index.js';
import { registerBench } from './commands/bench.js';
import { registerBrain } from './commands/brain.js';
import { registerBus } from './commands/bus.js';
import { registerCerebellum } from './commands/cerebellum.js';
import { registerDataset } from './commands/dataset.js';
import { registerDemo } from './commands/demo.js';
import { registerFinetune } from './commands/finetune.js';
import { registerInspect } from './commands/inspect.js';
import { registerKeygen } from './commands/keygen.js';
import { registerLink } from './commands/link.js';
import { registerModel } from './commands/model.js';
import { registerReplay } from './commands/replay.js';
import { registerSim } from './commands/sim.js';
import { registerSpec } from './commands/spec.js';
import { VERSION } from './package-info.js';

const program = new Command('pons')
  .description(
    'bridge a vision-language-action brain and a real-time cerebellum, natively on ROS 2',
  )
  .version(VERSION)
  .showHelpAfterError();

registerDemo(program);
registerLink(program);
registerBrain(program);
registerBus(program);
registerCerebellum(program);
registerModel(program);
registerReplay(program);
registerFinetune(program);
registerInspect(program);
registerSim(program);
registerDataset(program);
registerBench(program);
registerKeygen(program);
registerSpec(program);

try {
  await program.parseAsync();
} catch (err) {
  // Bad input and refused configurations are one clear line; PONS_DEBUG=1 adds the stack
  // of anything unexpected.
  const expected = err instanceof InputError || err instanceof LinkSecurityError;
  process.stderr.write(`pons: ${err instanceof Error ? err.message : String(err)}\n`);
  if (!expected && process.env.PONS_DEBUG && err instanceof Error) {
    process.stderr.write(`${err.stack}\n`);
  }
  process.exit(2);
}
