/**
 * The state machine definitions, read from `statemachines/<kind>.asl.json` (JSONPath, not JSONata) by both the
 * CDK stack and the local cloud, so that what runs locally is what CDK deploys.
 *
 * Blue-green, canary and rolling run the same graph (`deployment.asl.json`); their difference is the plan the
 * validate step builds for the strategy. Conventions the definitions follow:
 * - A Task invokes a project function as `arn:aws:states:::lambda:invoke` with
 *   `"FunctionName": "${<Pascal>FunctionArn}"`, where `<Pascal>` is the handler file `lambdas/handlers/<kebab>.ts`
 *   in PascalCase (`${StartCandidateFunctionArn}` → `start-candidate.ts`).
 * - A handler whose result holds `wait: { seconds }` is followed by a Wait state that waits that long
 *   (the local cloud advances its simulated clock by it before the next Task).
 * - The whole execution's `TimeoutSeconds` comes from the config (`rollback.deploymentTimeoutSeconds`).
 *
 * The promotion (`promotion.asl.json`) takes one release through environments in order, starting each
 * environment's deployment state machine; `${Project}` is the project's name, which those machines' names start
 * with.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export const DEPLOYMENT_KINDS = ['blue-green', 'canary', 'rolling'] as const;
export const STATE_MACHINE_KINDS = [...DEPLOYMENT_KINDS, 'rollback', 'promotion'] as const;
export type StateMachineKind = (typeof STATE_MACHINE_KINDS)[number];

/** A manual rollback's whole execution: a few calls, retried. */
export const ROLLBACK_TIMEOUT_SECONDS = 900;
/** A promotion's whole execution: several deployments, one after another, and an approval. */
export const PROMOTION_TIMEOUT_SECONDS = 86_400;

/** The whole execution's timeout of a kind: deployments take theirs from the environment's config. */
export function executionTimeoutSeconds(
  kind: StateMachineKind,
  rollback: { readonly deploymentTimeoutSeconds: number },
): number {
  if (kind === 'rollback') return ROLLBACK_TIMEOUT_SECONDS;
  if (kind === 'promotion') return PROMOTION_TIMEOUT_SECONDS;
  return rollback.deploymentTimeoutSeconds;
}

export interface DefinitionOptions {
  /** The whole execution's timeout. */
  readonly timeoutSeconds: number;
}

/** The three deployment strategies share one definition (a step is written once); `${Strategy}` names which. */
export function definitionFile(kind: StateMachineKind): string {
  return path.join(
    __dirname,
    kind === 'rollback' || kind === 'promotion' ? `${kind}.asl.json` : 'deployment.asl.json',
  );
}

/** The definition as JSON text with `${…}` substitutions still in place. */
export function definitionText(kind: StateMachineKind, options: DefinitionOptions): string {
  const definition = JSON.parse(readFileSync(definitionFile(kind), 'utf8')) as Record<string, unknown>;
  definition.TimeoutSeconds = options.timeoutSeconds;
  const text = JSON.stringify(definition, null, 2);
  return kind === 'rollback' || kind === 'promotion' ? text : text.replaceAll('${Strategy}', kind);
}

/** The `${Name}` substitutions a definition uses. */
export function substitutionNames(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]!))];
}

/** `StartCandidateFunctionArn` → `start-candidate`; undefined for a substitution that is not a function. */
export function handlerOfSubstitution(name: string): string | undefined {
  const m = /^([A-Z][A-Za-z0-9]*)FunctionArn$/.exec(name);
  return m ? m[1]!.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase() : undefined;
}

/** `start-candidate` → `StartCandidateFunctionArn`. */
export function substitutionOfHandler(handler: string): string {
  return `${handler.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())}FunctionArn`;
}

/** Fills `${…}` substitutions the way CloudFormation's DefinitionSubstitutions does. */
export function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z0-9]+)\}/g, (_whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for substitution \${${name}}`);
    return value;
  });
}
