import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { loadRclnodejs, RosUnavailableError } from '../../src/ros/index.js';

function installed(): boolean {
  try {
    createRequire(import.meta.url).resolve('rclnodejs');
    return true;
  } catch {
    return false;
  }
}

const found = () => '/opt/node_modules/rclnodejs/index.js';
const sourced = { AMENT_PREFIX_PATH: '/opt/ros/jazzy', ROS_DISTRO: 'jazzy' };

async function failure(promise: Promise<unknown>): Promise<RosUnavailableError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RosUnavailableError);
  const message = (error as Error).message;
  expect(message.split('\n')).toHaveLength(1);
  expect(message).toMatch(/^ROS 2 is not available: /);
  return error as RosUnavailableError;
}

describe('loadRclnodejs', () => {
  // This machine's path: pons installed without its optional rclnodejs (no ROS 2 here).
  it.skipIf(installed())(
    'without rclnodejs installed, fails with one line saying how to fix it',
    async () => {
      const error = await failure(loadRclnodejs());
      expect(error.message).toBe(
        `ROS 2 is not available: source /opt/ros/${process.env.ROS_DISTRO || '<distro>'}/setup.bash and run \`npm install rclnodejs\` (pons was installed without it)`,
      );
      // A later call tries again (nothing cached from the failure) and fails the same way.
      await failure(loadRclnodejs());
    },
  );

  it('names the distro when ROS_DISTRO is set', async () => {
    const error = await failure(
      loadRclnodejs({
        env: { ROS_DISTRO: 'humble' },
        resolve: () => {
          throw Object.assign(new Error("Cannot find module 'rclnodejs'"), {
            code: 'MODULE_NOT_FOUND',
          });
        },
      }),
    );
    expect(error.message).toContain(
      'source /opt/ros/humble/setup.bash and run `npm install rclnodejs`',
    );
  });

  it('does not import rclnodejs in a shell where ROS 2 is not sourced', async () => {
    const importModule = vi.fn();
    const error = await failure(loadRclnodejs({ env: {}, resolve: found, importModule }));
    expect(error.message).toBe(
      'ROS 2 is not available: source /opt/ros/<distro>/setup.bash before running this command (AMENT_PREFIX_PATH is not set)',
    );
    // Importing it there would start a node-gyp rebuild inside the import.
    expect(importModule).not.toHaveBeenCalled();
  });

  it('reports a native part that does not load, first line only, with the cause kept', async () => {
    const native = new Error(
      'librcl.so: cannot open shared object file: No such file or directory\n    at Module._extensions..node',
    );
    const error = await failure(
      loadRclnodejs({ env: sourced, resolve: found, importModule: () => Promise.reject(native) }),
    );
    expect(error.message).toBe(
      'ROS 2 is not available: rclnodejs did not load (librcl.so: cannot open shared object file: No such file or directory); source /opt/ros/jazzy/setup.bash and run `npm rebuild rclnodejs`',
    );
    expect(error.cause).toBe(native);
  });

  it('refuses a module without the API pons uses', async () => {
    const error = await failure(
      loadRclnodejs({
        env: sourced,
        resolve: found,
        importModule: async () => ({ default: { init() {} } }),
      }),
    );
    expect(error.message).toContain('lacks init/Node/QoS');
  });

  it('returns the module (ESM default export or namespace) when everything is there', async () => {
    // Stand-in for the rclnodejs module: only its shape matters to the loader.
    const rcl = { init: async () => {}, shutdown() {}, Node: class {}, QoS: class {} };
    await expect(
      loadRclnodejs({ env: sourced, resolve: found, importModule: async () => ({ default: rcl }) }),
    ).resolves.toBe(rcl);
    await expect(
      loadRclnodejs({ env: sourced, resolve: found, importModule: async () => rcl }),
    ).resolves.toBe(rcl);
  });

  it('treats a resolution error other than "not found" as installed', async () => {
    const importModule = vi.fn(async () => {
      throw new Error('boom');
    });
    const resolve = () => {
      throw Object.assign(new Error('not exported'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
    };
    const error = await failure(loadRclnodejs({ env: sourced, resolve, importModule }));
    expect(error.message).toContain('rclnodejs did not load (boom)');
    expect(importModule).toHaveBeenCalledOnce();
  });
});
