/**
 * Parsed ROS 2 message definitions, for CDR without a ROS installation: the standard types come
 * from @foxglove/rosmsg-msgs-common's ROS 2 sets (Jazzy by default, Humble on request), the
 * pons_msgs types from the `.msg` text in pons-msgs.ts, parsed with @foxglove/rosmsg.
 *
 * The lists are in the shape @foxglove/rosmsg2-serialization's MessageWriter/MessageReader take:
 * the root type first, then every type it depends on, named `pkg/Type` (the foxglove libraries
 * key types ROS-1 style); `builtin_interfaces` Time and Duration are the primitives `time` and
 * `duration`, `{sec, nanosec}` on both sides.
 */
import { parse } from '@foxglove/rosmsg';
import { ros2humble, ros2jazzy } from '@foxglove/rosmsg-msgs-common';
import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization';
import { PONS_MSG_DEFINITIONS } from './pons-msgs.js';

export type MessageDefinition = ReturnType<typeof parse>[number];
export type MessageField = MessageDefinition['definitions'][number];

export const ROS_DISTROS = ['jazzy', 'humble'] as const;
export type RosDistro = (typeof ROS_DISTROS)[number];

const STANDARD: Record<RosDistro, Readonly<Record<string, MessageDefinition>>> = {
  jazzy: ros2jazzy as Readonly<Record<string, MessageDefinition>>,
  humble: ros2humble as Readonly<Record<string, MessageDefinition>>,
};

/** `pkg/msg/Type` or `pkg/Type` → `pkg/Type` (how the foxglove libraries name types). */
export function shortTypeName(type: string): string {
  const parts = type.split('/');
  if (parts.length === 3 && parts[1] === 'msg') return `${parts[0]}/${parts[2]}`;
  if (parts.length === 2 && parts[0] && parts[1]) return type;
  throw new Error(`"${type}" is not a ROS 2 message type name (pkg/msg/Type)`);
}

/** `pkg/Type` or `pkg/msg/Type` → `pkg/msg/Type` (how ROS 2 and rosbag2 name types). */
export function fullTypeName(type: string): string {
  const [pkg, name] = shortTypeName(type).split('/');
  return `${pkg}/msg/${name}`;
}

let ponsDefinitions: Map<string, MessageDefinition> | undefined;

/** The pons_msgs types, parsed once from their `.msg` text. */
function ponsTypes(): Map<string, MessageDefinition> {
  if (ponsDefinitions) return ponsDefinitions;
  const out = new Map<string, MessageDefinition>();
  for (const [fullName, text] of Object.entries(PONS_MSG_DEFINITIONS)) {
    const name = shortTypeName(fullName);
    const pkg = name.split('/')[0] as string;
    const [root] = parse(text, { ros2: true, skipTypeFixup: true });
    if (!root) throw new Error(`${fullName}: empty definition`);
    out.set(name, {
      name,
      definitions: root.definitions.map((field) =>
        field.isComplex === true ? { ...field, type: qualify(field.type, pkg) } : field,
      ),
    });
  }
  ponsDefinitions = out;
  return out;
}

/** A field's complex type as written in a `.msg` file, fully qualified as `pkg/Type`. */
function qualify(type: string, pkg: string): string {
  if (type === 'Header') return 'std_msgs/Header';
  if (!type.includes('/')) return `${pkg}/${type}`;
  return shortTypeName(type);
}

function lookup(name: string, distro: RosDistro): MessageDefinition | undefined {
  return ponsTypes().get(name) ?? STANDARD[distro][name];
}

/**
 * The definitions of `type` and everything it depends on, root first. Throws for a type that
 * neither the ROS 2 common set nor pons_msgs defines.
 */
export function messageDefinitions(type: string, distro: RosDistro = 'jazzy'): MessageDefinition[] {
  const rootName = shortTypeName(type);
  const out: MessageDefinition[] = [];
  const seen = new Set<string>();
  const visit = (name: string, from: string): void => {
    if (seen.has(name)) return;
    const def = lookup(name, distro);
    if (!def) throw new Error(`no ROS 2 ${distro} definition for ${name} (needed by ${from})`);
    seen.add(name);
    out.push({ name, definitions: def.definitions });
    for (const field of def.definitions) {
      if (field.isComplex === true && field.isConstant !== true) visit(field.type, name);
    }
  };
  visit(rootName, rootName);
  return out;
}

const writers = new Map<string, MessageWriter>();
const readers = new Map<string, MessageReader>();

/** A cached CDR writer for `type` (what the recorder writes and what rclnodejs can publish raw). */
export function cdrWriter(type: string, distro: RosDistro = 'jazzy'): MessageWriter {
  const key = `${distro}:${shortTypeName(type)}`;
  let writer = writers.get(key);
  if (!writer) {
    writer = new MessageWriter(messageDefinitions(type, distro));
    writers.set(key, writer);
  }
  return writer;
}

/** A cached CDR reader for `type`; times come back as `{sec, nanosec}`, 64-bit ints as bigint. */
export function cdrReader(type: string, distro: RosDistro = 'jazzy'): MessageReader {
  const key = `${distro}:${shortTypeName(type)}`;
  let reader = readers.get(key);
  if (!reader) {
    reader = new MessageReader(messageDefinitions(type, distro));
    readers.set(key, reader);
  }
  return reader;
}
