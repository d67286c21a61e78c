/** `envctl environments`: the configured environments and the services each one manages. */
import { Command } from 'commander';
import {
  approvalRequired,
  type ProjectConfig,
  type ServiceConfig,
  type Strategy,
} from '../../lambdas/domain/config';
import { loadConfig, type CliIo, type GlobalOptions } from '../context';
import { json, table } from '../output';

/** The default strategy options of a service, named as an execution's `strategyOptions` names them. */
export interface StrategyOptionsSummary {
  /** Canary only: traffic percents in order. */
  readonly steps?: readonly number[];
  /** Rolling only: percent of traffic moved per step. */
  readonly stepPercent?: number;
  /** Bake time under the health gate after each traffic step. */
  readonly bakeSeconds: number;
}

export interface ServiceSummary {
  readonly name: string;
  readonly cluster: string;
  readonly ecsService: string;
  readonly strategy: Strategy;
  readonly strategyOptions: StrategyOptionsSummary;
  readonly approvalRequired: boolean;
}

export interface EnvironmentSummary {
  readonly name: string;
  readonly type: string;
  readonly account: string;
  readonly region: string;
  readonly services: readonly ServiceSummary[];
}

/** What `envctl environments --json` prints: one entry per environment, in the config's order. */
export function summarize(config: ProjectConfig): EnvironmentSummary[] {
  return config.environments.map((env) => ({
    name: env.name,
    type: env.type,
    account: env.account,
    region: env.region,
    services: env.services.map((service) => ({
      name: service.name,
      cluster: service.cluster,
      ecsService: service.ecsService,
      strategy: service.deployment.strategy,
      strategyOptions: strategyOptions(service),
      approvalRequired: approvalRequired(env, service),
    })),
  }));
}

function strategyOptions(service: ServiceConfig): StrategyOptionsSummary {
  const { strategy, canarySteps, rollingStepPercent, bakeSeconds } = service.deployment;
  if (strategy === 'canary') return { steps: canarySteps, bakeSeconds };
  if (strategy === 'rolling') return { stepPercent: rollingStepPercent, bakeSeconds };
  return { bakeSeconds };
}

function describeOptions(options: StrategyOptionsSummary): string {
  const parts: string[] = [];
  if (options.steps) parts.push(`steps ${options.steps.join('/')} %`);
  if (options.stepPercent !== undefined) parts.push(`${options.stepPercent} % per step`);
  parts.push(`bake ${options.bakeSeconds} s`);
  return parts.join(', ');
}

/** The text `envctl environments` prints: a heading per environment, then a table of its services. */
export function render(environments: readonly EnvironmentSummary[]): string {
  return environments
    .map((env) => {
      const heading = `${env.name}  (${env.type}, account ${env.account}, region ${env.region})`;
      const rows = [
        ['SERVICE', 'STRATEGY', 'OPTIONS', 'APPROVAL'],
        ...env.services.map((s) => [
          s.name,
          s.strategy,
          describeOptions(s.strategyOptions),
          s.approvalRequired ? 'required' : 'no',
        ]),
      ];
      return `${heading}\n${table(rows, '  ')}\n`;
    })
    .join('\n');
}

export function environmentsCommand(io: CliIo): Command {
  return new Command('environments')
    .description('List the configured environments and the services each one manages')
    .option('--json', 'print JSON for scripts instead of text')
    .addHelpText(
      'after',
      '\nExamples:\n  envctl environments\n  envctl environments --json --config path/to/environments.json',
    )
    .action((options: { json?: boolean }, command: Command) => {
      const config = loadConfig(command.optsWithGlobals<GlobalOptions>());
      const environments = summarize(config);
      io.out(options.json ? json(environments) : render(environments));
    });
}
