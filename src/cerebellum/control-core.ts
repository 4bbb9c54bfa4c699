import type { ControlInput, ControlSetup } from './control-protocol.js';
import { Controller, type IngestResult, type TickOutput } from './controller.js';
import { SafetyFilter } from './safety.js';

/**
 * The controller as the control thread drives it, tick by tick: inputs applied at a tick,
 * then the tick. The control thread (control-worker.ts) and the offline replay of a recording
 * (`pons replay --verify`) both run this, so given the same setup, tick-0 epoch time and
 * (tick, input) sequence they compute the same commands, bit for bit: controller time is a
 * function of the tick index alone, never of when a tick actually ran.
 */
export function createController(setup: Pick<ControlSetup, 'controller' | 'safety'>): Controller {
  return new Controller(
    { ...setup.controller, maxAcceleration: Float64Array.from(setup.controller.maxAcceleration) },
    new SafetyFilter(setup.safety),
  );
}

export class ControlCore {
  readonly controller: Controller;
  readonly periodMs: number;

  constructor(
    setup: ControlSetup,
    /** Epoch ns at which tick 0 was due. */
    readonly epochStartNs: bigint,
  ) {
    this.controller = createController(setup);
    this.periodMs = 1000 / setup.rateHz;
    if (setup.initial) this.controller.initialize(Float64Array.from(setup.initial));
  }

  /** Controller time (s since tick 0) of tick `index`. */
  time(index: number): number {
    return (index * this.periodMs) / 1000;
  }

  /** Applies one input at tick `index`; a chunk's result, when it was not accepted. */
  apply(input: ControlInput, index: number): Exclude<IngestResult, 'accepted'> | undefined {
    const c = this.controller;
    switch (input.type) {
      case 'chunk': {
        const start = Number(input.obsNs - this.epochStartNs) / 1e9;
        const result = c.ingest(input.seq, start, input.values, this.time(index));
        return result === 'accepted' ? undefined : result;
      }
      case 'measured':
        if (!c.isInitialized) c.initialize(input.position);
        c.setMeasured(input.position);
        return undefined;
      case 'estop':
        c.estop(input.reason);
        return undefined;
      case 'reset':
        c.reset();
        return undefined;
    }
  }

  /** The command of tick `index` into `out`; false while the controller is uninitialized. */
  tick(index: number, out: TickOutput): boolean {
    return this.controller.tick(this.time(index), out);
  }
}
