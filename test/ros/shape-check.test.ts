import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import { describe, expect, it } from 'vitest';
import {
  jointTrajectoryMsg,
  messageDefinitions,
  ROS_TYPES,
  twistStampedMsg,
} from '../../src/ros/index.js';
import { shapeProblems } from './cdr-check.js';

/** Proof that the field check in cdr-check.ts fails where it must. */
describe('shapeProblems', () => {
  const good = () => twistStampedMsg({ stampNs: 5n, linear: { x: 1 } });

  it('passes a correct message', () => {
    expect(shapeProblems(good(), ROS_TYPES.twistStamped)).toEqual([]);
  });

  it('catches an extra field, at the top and nested', () => {
    expect(shapeProblems({ ...good(), extra: 1 }, ROS_TYPES.twistStamped)).toEqual([
      'geometry_msgs/TwistStamped.extra: extra field (not in geometry_msgs/TwistStamped)',
    ]);
    const nested = good();
    (nested.twist.linear as unknown as Record<string, number>).w = 0;
    expect(shapeProblems(nested, ROS_TYPES.twistStamped)).toEqual([
      'geometry_msgs/TwistStamped.twist.linear.w: extra field (not in geometry_msgs/Vector3)',
    ]);
  });

  it('catches a missing field, at the top and nested', () => {
    const { twist: _, ...noTwist } = good();
    expect(shapeProblems(noTwist, ROS_TYPES.twistStamped)).toEqual([
      'geometry_msgs/TwistStamped.twist: missing field',
    ]);
    const noFrame = good();
    delete (noFrame.header as Partial<typeof noFrame.header>).frame_id;
    expect(shapeProblems(noFrame, ROS_TYPES.twistStamped)).toEqual([
      'geometry_msgs/TwistStamped.header.frame_id: missing field',
    ]);
  });

  it('catches a camelCase name standing in for the snake_case one', () => {
    const msg = jointTrajectoryMsg({
      stampNs: 0n,
      jointNames: ['a'],
      points: [{ positions: [1], timeFromStartNs: 1n }],
    }) as unknown as Record<string, unknown>;
    msg.jointNames = msg.joint_names;
    delete msg.joint_names;
    expect(shapeProblems(msg, ROS_TYPES.jointTrajectory)).toEqual([
      'trajectory_msgs/JointTrajectory.jointNames: extra field (not in trajectory_msgs/JointTrajectory)',
      'trajectory_msgs/JointTrajectory.joint_names: missing field',
    ]);
  });

  it('catches wrong value kinds: ROS-1 time, number for uint64, bad array items', () => {
    const msg = good() as unknown as { header: { stamp: unknown } };
    msg.header.stamp = { sec: 1, nsec: 2 };
    expect(shapeProblems(msg, ROS_TYPES.twistStamped)).toEqual([
      'geometry_msgs/TwistStamped.header.stamp: expected {sec, nanosec}, got object with keys [nsec,sec]',
    ]);
    const traj = jointTrajectoryMsg({
      stampNs: 0n,
      jointNames: ['a'],
      points: [{ positions: [1], timeFromStartNs: 1n }],
    }) as unknown as { joint_names: unknown[] };
    traj.joint_names = [7];
    expect(shapeProblems(traj, ROS_TYPES.jointTrajectory)).toEqual([
      'trajectory_msgs/JointTrajectory.joint_names[0]: expected a string, got number',
    ]);
  });

  it('is needed: the CDR writer itself accepts both mistakes silently', () => {
    const writer = new MessageWriter(messageDefinitions(ROS_TYPES.twistStamped));
    const { twist: _, ...noTwist } = good();
    expect(() => writer.writeMessage({ ...noTwist, extra: 1 })).not.toThrow();
  });
});
