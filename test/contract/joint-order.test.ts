import { describe, expect, it } from 'vitest';
import { JointOrder } from '../../src/contract/index.js';

describe('JointOrder', () => {
  it('puts named positions into the controller order, ignoring joints it does not control', () => {
    const order = new JointOrder(['shoulder', 'elbow', 'wrist']);
    expect(order.take(['wrist', 'gripper', 'shoulder', 'elbow'], [3, 9, 1, 2])).toBe(true);
    expect(Array.from(order.position)).toEqual([1, 2, 3]);
  });

  it('says so when a controlled joint is missing or has no position', () => {
    const order = new JointOrder(['shoulder', 'elbow']);
    expect(order.take(['shoulder'], [1])).toBe(false);
    expect(order.take(['shoulder', 'elbow'], [1])).toBe(false);
  });
});
