/**
 * The environment's controller stack, synthesized in-process for a given config as `cdk synth` builds it (through
 * `buildApp`), with Lambda bundling skipped: the local cloud runs the handlers' source, not bundles.
 *
 * The app is built with the config narrowed to the one environment (a stack reads only its own environment and the
 * project name), which saves the other stacks' synthesis. A synthesized template is cached in the temp directory
 * under a hash of the config and of every source file the stack could depend on (`lib/`, `lambdas/`,
 * `statemachines/`, `package-lock.json`): the first synthesis in a process costs seconds (aws-cdk-lib loading),
 * a cached one milliseconds. `LOCALCLOUD_SYNTH_CACHE=0` turns the cache off.
 */
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { ProjectConfig } from '../lambdas/domain/config';
import { stackName } from '../lambdas/domain/naming';

/** A CloudFormation template as JSON. */
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  readonly Parameters?: Record<string, { Type: string; Default?: unknown }>;
  readonly Conditions?: Record<string, unknown>;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly Condition?: string;
  readonly Metadata?: Record<string, unknown>;
}

export interface SynthesizedStack {
  readonly stackName: string;
  readonly template: CfnTemplate;
  /** Wall-clock milliseconds the synthesis took. */
  readonly synthMs: number;
}

export interface SynthOptions {
  /** Reuse a cached template for the same config and sources. @default LOCALCLOUD_SYNTH_CACHE !== '0' */
  readonly cache?: boolean;
}

const ROOT = path.join(__dirname, '..');

/** Synthesizes the stack of one environment for `config`. */
export function synthesizeEnvironment(
  config: ProjectConfig,
  environment: string,
  options: SynthOptions = {},
): SynthesizedStack & { readonly cached: boolean } {
  const started = performance.now();
  const name = stackName(config.project, environment);
  const env = config.environments.find((e) => e.name === environment);
  if (!env) throw new Error(`no environment "${environment}" in the config`);
  const narrowed: ProjectConfig = { ...config, environments: [env] };
  const useCache = options.cache ?? process.env.LOCALCLOUD_SYNTH_CACHE !== '0';
  const cacheFile = useCache
    ? path.join(
        tmpdir(),
        'localcloud-synth-cache',
        `${createHash('sha256').update(sourceHash()).update(JSON.stringify(narrowed)).digest('hex')}.json`,
      )
    : undefined;
  if (cacheFile) {
    try {
      const template = JSON.parse(readFileSync(cacheFile, 'utf8')) as CfnTemplate;
      return { stackName: name, template, synthMs: Math.round(performance.now() - started), cached: true };
    } catch {
      // not cached yet
    }
  }
  const template = synthesize(narrowed, name);
  if (cacheFile) {
    mkdirSync(path.dirname(cacheFile), { recursive: true });
    const partial = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify(template));
    renameSync(partial, cacheFile);
  }
  return { stackName: name, template, synthMs: Math.round(performance.now() - started), cached: false };
}

function synthesize(config: ProjectConfig, name: string): CfnTemplate {
  // Loaded here, so that a cached template never loads aws-cdk-lib.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { App } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const { buildApp } = require('../lib/app') as typeof import('../lib/app');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const outdir = mkdtempSync(path.join(tmpdir(), 'localcloud-synth-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    buildApp(app, config);
    const assembly = app.synth();
    const stack = assembly.stacks.find((s) => s.stackName === name);
    if (!stack)
      throw new Error(
        `the app has no stack ${name} (stacks: ${assembly.stacks.map((s) => s.stackName).join(', ')})`,
      );
    return stack.template as CfnTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

let sources: string | undefined;

/** A hash of every file the synthesized stack could depend on. */
function sourceHash(): string {
  if (sources) return sources;
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|json)$/.test(entry.name)) hash.update(full).update(readFileSync(full));
    }
  };
  for (const dir of ['lib', 'lambdas', 'statemachines']) walk(path.join(ROOT, dir));
  hash.update(readFileSync(path.join(ROOT, 'package-lock.json')));
  return (sources = hash.digest('hex'));
}

/** Logical ids of the template's resources of one type, in template order. */
export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** The value of a resource tag, from the `Tags` list CloudFormation resources carry (or the map some use). */
export function tagOf(resource: CfnResource, key: string): unknown {
  const tags = resource.Properties?.Tags;
  if (Array.isArray(tags))
    return (tags as { Key: string; Value: unknown }[]).find((t) => t.Key === key)?.Value;
  if (tags && typeof tags === 'object') return (tags as Record<string, unknown>)[key];
  return undefined;
}
