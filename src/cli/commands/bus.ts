import type { Command } from 'commander';
import { BusCamera } from '../../nodes/bus-camera.js';
import { runUntilStopped } from '../run-until.js';

export function registerBus(program: Command): void {
  const bus = program
    .command('bus')
    .description('the pons observation bus (frames, joint states, instructions)');
  bus
    .command('camera')
    .description('publish an image file as a camera on the bus, with an instruction')
    .requiredOption('--image <file>', 'a PNG or JPEG image')
    .option('--endpoint <endpoint>', 'bus endpoint to bind', 'tcp://127.0.0.1:5557')
    .option('--camera <name>', 'camera name (the profile names its cameras)', 'overhead')
    .option('--rate <hz>', 'frames per second', '30')
    .option('--size <WxH>', 'resize to this size, e.g. 640x480')
    .option('--instruction <text>', 'an instruction repeated every second')
    .option('--duration <s>', 'stop after this many seconds (default: until SIGINT)')
    .action(
      async (flags: {
        image: string;
        endpoint: string;
        camera: string;
        rate: string;
        size?: string;
        instruction?: string;
        duration?: string;
      }) => {
        const [width, height] = flags.size?.split('x').map(Number) ?? [];
        const camera = await BusCamera.start({
          endpoint: flags.endpoint,
          image: flags.image,
          camera: flags.camera,
          rateHz: Number(flags.rate),
          ...(flags.instruction === undefined ? {} : { instruction: flags.instruction }),
          ...(width && height ? { width, height } : {}),
        });
        const why = await runUntilStopped(
          flags.duration === undefined ? undefined : Number(flags.duration),
        );
        camera.stop();
        process.stderr.write(`[pons bus] stopped (${why}) after ${camera.frames} frames\n`);
      },
    );
}
