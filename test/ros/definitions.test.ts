import { describe, expect, it } from 'vitest';
import {
  boolMsg,
  cdrReader,
  cdrWriter,
  fullTypeName,
  messageDefinitions,
  PONS_TYPES,
  ROS_TYPES,
  shortTypeName,
} from '../../src/ros/index.js';

describe('message definitions', () => {
  it('name types both ways', () => {
    expect(shortTypeName('std_msgs/msg/Bool')).toBe('std_msgs/Bool');
    expect(shortTypeName('std_msgs/Bool')).toBe('std_msgs/Bool');
    expect(fullTypeName('std_msgs/Bool')).toBe('std_msgs/msg/Bool');
    expect(fullTypeName('pons_msgs/msg/ActionTokens')).toBe('pons_msgs/msg/ActionTokens');
    expect(() => shortTypeName('Bool')).toThrow(/not a ROS 2 message type name/);
    expect(() => shortTypeName('std_msgs/srv/SetBool')).toThrow(/not a ROS 2 message type name/);
  });

  it('list the root first, then each dependency once', () => {
    expect(messageDefinitions(ROS_TYPES.diagnosticArray).map((d) => d.name)).toEqual([
      'diagnostic_msgs/DiagnosticArray',
      'std_msgs/Header',
      'diagnostic_msgs/DiagnosticStatus',
      'diagnostic_msgs/KeyValue',
    ]);
    expect(messageDefinitions(ROS_TYPES.jointTrajectory).map((d) => d.name)).toEqual([
      'trajectory_msgs/JointTrajectory',
      'std_msgs/Header',
      'trajectory_msgs/JointTrajectoryPoint',
    ]);
    expect(messageDefinitions(PONS_TYPES.actionTokens, 'humble').map((d) => d.name)).toEqual([
      'pons_msgs/ActionTokens',
      'std_msgs/Header',
    ]);
  });

  it('refuse a type neither set defines', () => {
    expect(() => messageDefinitions('pons_msgs/msg/Nothing')).toThrow(
      /no ROS 2 jazzy definition for pons_msgs\/Nothing/,
    );
  });

  it('give cached CDR writers and readers per distro and type', () => {
    expect(cdrWriter(ROS_TYPES.bool)).toBe(cdrWriter('std_msgs/Bool'));
    expect(cdrWriter(ROS_TYPES.bool, 'humble')).not.toBe(cdrWriter(ROS_TYPES.bool, 'jazzy'));
    const bytes = cdrWriter(ROS_TYPES.bool).writeMessage(boolMsg(true));
    expect(cdrReader(ROS_TYPES.bool).readMessage(bytes)).toEqual({ data: true });
    expect(cdrReader(ROS_TYPES.bool)).toBe(cdrReader(ROS_TYPES.bool));
  });
});
