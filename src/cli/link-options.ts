import type { Command } from 'commander';
import { type ActionSpec, loadActionSpec, specId, specJson } from '../contract/index.js';
import {
  type LinkClientOptions,
  type LinkServerOptions,
  readAuthorizedKeys,
  readCertificate,
  readSecretCertificate,
} from '../link/index.js';
import { DEFAULT_SPEC, VERSION } from './package-info.js';

export interface LinkFlags {
  spec: string;
  tokens: string;
  state: string;
  modelId?: string;
  curveSecret?: string;
  authorizedKeys?: string;
  serverKey?: string;
  insecure?: boolean;
}

/** The flags every command that opens a link shares. */
export function addLinkFlags(command: Command): Command {
  return command
    .option('--spec <file>', 'ActionSpec file (YAML/JSON)', DEFAULT_SPEC)
    .option(
      '--tokens <endpoint>',
      'token packet endpoint (brain binds, cerebellum connects)',
      'tcp://127.0.0.1:5555',
    )
    .option(
      '--state <endpoint>',
      'state packet endpoint (brain binds, cerebellum connects)',
      'tcp://127.0.0.1:5556',
    )
    .option('--model-id <id>', 'model id announced in hello packets')
    .option('--curve-secret <file>', "this side's CURVE secret certificate (from `pons keygen`)")
    .option('--authorized-keys <dir>', 'brain: directory of client public certificates it accepts')
    .option('--server-key <file>', "cerebellum: the brain's public certificate")
    .option('--insecure', 'allow an unencrypted link on a non-loopback address');
}

function identity(flags: LinkFlags, spec: ActionSpec, defaultModel: string) {
  return {
    spec: specJson(spec),
    specId: specId(spec),
    modelId: flags.modelId ?? defaultModel,
    software: VERSION,
  };
}

export function loadSpec(flags: LinkFlags): ActionSpec {
  return loadActionSpec(flags.spec);
}

export function serverOptions(
  flags: LinkFlags,
  spec: ActionSpec,
  defaultModel: string,
): LinkServerOptions {
  const options: LinkServerOptions = {
    ...identity(flags, spec, defaultModel),
    endpoints: { tokens: flags.tokens, state: flags.state },
    insecure: flags.insecure ?? false,
  };
  if (flags.curveSecret !== undefined) {
    if (flags.authorizedKeys === undefined) {
      throw new Error(
        '--curve-secret on the brain needs --authorized-keys <dir> (the clients it accepts)',
      );
    }
    options.curve = {
      ...readSecretCertificate(flags.curveSecret),
      authorizedKeys: readAuthorizedKeys(flags.authorizedKeys),
    };
  }
  return options;
}

export function clientOptions(
  flags: LinkFlags,
  spec: ActionSpec,
  defaultModel: string,
): LinkClientOptions {
  const options: LinkClientOptions = {
    ...identity(flags, spec, defaultModel),
    endpoints: { tokens: flags.tokens, state: flags.state },
    insecure: flags.insecure ?? false,
  };
  if (flags.curveSecret !== undefined || flags.serverKey !== undefined) {
    if (flags.curveSecret === undefined || flags.serverKey === undefined) {
      throw new Error('CURVE on the cerebellum needs both --curve-secret and --server-key');
    }
    options.curve = {
      ...readSecretCertificate(flags.curveSecret),
      serverKey: readCertificate(flags.serverKey).publicKey,
    };
  }
  return options;
}
