import type { LearnedStage } from './learned-stage.js';

/**
 * Applies the learned stage to a whole chunk, step by step, off the control thread: for
 * step k the model sees the joint state it will start from (the previous step, moving at
 * the chunk's own velocity) and the next K targets (the last repeated past the end), and
 * its correction is added to step k. Once per chunk, not per tick: a few runs of ~12 µs
 * per decision instead of one per millisecond. Throws LearnedStageError; the caller then
 * falls back to the chunk as it came.
 */
export class ChunkCorrector {
  private readonly position: Float64Array;
  private readonly velocity: Float64Array;
  private readonly targets: Float64Array;
  private readonly correction: Float64Array;

  constructor(
    private readonly stage: LearnedStage,
    private readonly horizon: number,
    private readonly dt: number,
  ) {
    this.position = new Float64Array(stage.joints);
    this.velocity = new Float64Array(stage.joints);
    this.targets = new Float64Array(stage.lookahead * stage.joints);
    this.correction = new Float64Array(stage.joints);
  }

  /** Writes the corrected chunk into `out` (may not be `chunk`); `start` is where the arm is. */
  async correct(chunk: Float64Array, start: Float64Array, out: Float64Array): Promise<void> {
    const j = this.stage.joints;
    const k = this.stage.lookahead;
    for (let step = 0; step < this.horizon; step++) {
      for (let i = 0; i < j; i++) {
        const previous = step === 0 ? (start[i] as number) : (chunk[(step - 1) * j + i] as number);
        this.position[i] = previous;
        this.velocity[i] = ((chunk[step * j + i] as number) - previous) / this.dt;
      }
      for (let a = 0; a < k; a++) {
        const source = Math.min(step + a, this.horizon - 1);
        for (let i = 0; i < j; i++) this.targets[a * j + i] = chunk[source * j + i] as number;
      }
      await this.stage.correct(this.position, this.velocity, this.targets, this.correction);
      for (let i = 0; i < j; i++)
        out[step * j + i] = (chunk[step * j + i] as number) + (this.correction[i] as number);
    }
  }
}
