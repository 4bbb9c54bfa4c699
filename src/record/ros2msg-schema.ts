import { type MessageDefinition, type MessageField, messageDefinitions } from '../ros/index.js';

/**
 * A type's schema as rosbag2 writes it into MCAP (`ros2msg` encoding): the type's `.msg`
 * text, then for each type it depends on a line of 80 `=`, `MSG: pkg/msg/Type`, and that
 * type's text. Built from the definitions src/ros checks messages against, so the schema a
 * file carries and the CDR written under it cannot disagree.
 */
export function ros2msgSchema(type: string): string {
  const definitions = messageDefinitions(type);
  const [root, ...dependencies] = definitions;
  if (!root) throw new Error(`no definition for ${type}`);
  const parts = [definitionText(root)];
  const section = (name: string, text: string) =>
    parts.push(`${'='.repeat(80)}\nMSG: ${fullName(name)}\n${text}`);
  for (const dep of dependencies) section(dep.name ?? '', definitionText(dep));
  // The parsed definitions keep ROS 2's time types as primitives; the file spells them out.
  const used = new Set(definitions.flatMap((d) => d.definitions.map((f) => f.type)));
  for (const [primitive, name] of Object.entries(TIME_TYPES)) {
    if (used.has(primitive)) section(name, 'int32 sec\nuint32 nanosec');
  }
  return parts.join('\n');
}

const TIME_TYPES: Record<string, string> = {
  time: 'builtin_interfaces/Time',
  duration: 'builtin_interfaces/Duration',
};

/** `pkg/Type` → `pkg/msg/Type`, rosbag2's spelling. */
function fullName(name: string): string {
  const [pkg, type] = name.split('/');
  return type === undefined ? name : `${pkg}/msg/${type}`;
}

function definitionText(def: MessageDefinition): string {
  return def.definitions.map(fieldLine).join('\n');
}

function fieldLine(field: MessageField): string {
  const array = field.isArray
    ? `[${field.arrayLength ?? (field.arrayUpperBound === undefined ? '' : `<=${field.arrayUpperBound}`)}]`
    : '';
  const bound = field.upperBound === undefined ? '' : `<=${field.upperBound}`;
  const line = `${TIME_TYPES[field.type] ?? field.type}${bound}${array} ${field.name}`;
  if (field.isConstant) return `${line}=${field.valueText ?? String(field.value)}`;
  return line;
}
