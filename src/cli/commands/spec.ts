import type { Command } from 'commander';
import { loadActionSpec, specId, specJson, tokensPerDecision } from '../../contract/index.js';

export function registerSpec(program: Command): void {
  program
    .command('spec <file>')
    .description('validate an ActionSpec file and print its spec id')
    .option('--json', 'print the canonical JSON as well')
    .action((file: string, flags: { json?: boolean }) => {
      const spec = loadActionSpec(file);
      console.log(`spec id   ${specId(spec)}`);
      console.log(`name      ${spec.name}`);
      console.log(`action    ${spec.dimensions.map((d) => `${d.name}[${d.unit}]`).join(', ')}`);
      console.log(
        `chunk     H=${spec.horizon} × dt=${spec.dt} s, ${tokensPerDecision(spec)} tokens per decision`,
      );
      if (flags.json) console.log(specJson(spec));
    });
}
