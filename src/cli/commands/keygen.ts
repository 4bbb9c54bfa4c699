import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { generateCertificate } from '../../link/index.js';

export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description(
      "write a CURVE key pair in ZeroMQ's certificate format (<name>.key, <name>.key_secret)",
    )
    .option('--out <dir>', 'directory to write into', 'keys')
    .option('--name <name>', 'certificate name', 'pons')
    .action((flags: { out: string; name: string }) => {
      mkdirSync(flags.out, { recursive: true });
      const files = generateCertificate(flags.out, flags.name);
      console.log(
        `public  ${files.publicFile}  (give to peers; a brain's authorized-keys directory holds clients' ones)`,
      );
      console.log(`secret  ${files.secretFile}  (mode 600; keep on this host)`);
      console.log(`key     ${files.publicKey}`);
    });
}
