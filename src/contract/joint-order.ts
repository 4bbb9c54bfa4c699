/**
 * Joint states arrive with their own names and order (ROS JointState, the bus); a controller
 * wants its joints, in its order. `take()` copies a message's positions into that order and
 * says whether every controlled joint was named (extra joints are ignored).
 */
export class JointOrder {
  readonly position: Float64Array;
  private readonly index: Map<string, number>;

  constructor(readonly joints: readonly string[]) {
    this.index = new Map(joints.map((name, i) => [name, i]));
    this.position = new Float64Array(joints.length);
  }

  take(names: readonly string[], position: ArrayLike<number>): boolean {
    let found = 0;
    names.forEach((name, i) => {
      const j = this.index.get(name);
      if (j !== undefined && i < position.length) {
        this.position[j] = position[i] as number;
        found++;
      }
    });
    return found === this.joints.length;
  }
}
