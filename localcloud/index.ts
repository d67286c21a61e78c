/**
 * The local cloud: one environment of the project, with no AWS account. moto on loopback holds the application
 * side (from the config) and the controller side (from the synthesized stack); the handlers run in-process with
 * clients pointed at moto and a simulated clock; state machine definitions run in aws-local-stepfunctions.
 *
 * ```ts
 * const cloud = await LocalCloud.start({ environment: 'staging' });
 * try {
 *   const result = await cloud.runner.run({ stateMachine: 'canary', input: { … } });
 * } finally {
 *   await cloud.stop();
 * }
 * ```
 */
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListClustersCommand } from '@aws-sdk/client-ecs';
import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListRulesCommand } from '@aws-sdk/client-eventbridge';
import { ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import { ListTopicsCommand } from '@aws-sdk/client-sns';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import type { Deps } from '../lambdas/runtime/deps';
import { logger } from '../lambdas/runtime/logger';
import type { ProjectConfig } from '../lambdas/domain/config';
import { stateMachineName } from '../lambdas/domain/naming';
import { loadConfigFile } from '../lib/config/load';
import { provisionApplication, type ApplicationResources } from './application';
import { describeVpcs } from './ec2';
import { destroyClients, localClients, localDeps, type LocalClients } from './clients';
import { SimulatedClock, type SimulatedClockOptions } from './clock';
import { provisionController, type ControllerResources, type FunctionResource } from './controller';
import { LocalEventBus } from './events';
import { ExecutionRegistry, installExecutionOverlay } from './executions';
import { HandlerRegistry, jsonCopy, moduleFactory, type HandlerFactory } from './handlers';
import { MotoServer } from './moto';
import { installMotoFixes } from './moto-fixes';
import { LOCAL_FUNCTION_PREFIX, Runner, type TerminalStatus } from './runner';
import { synthesizeEnvironment, type CfnTemplate } from './template';
import { TaskTokens } from './tokens';

export interface LocalCloudOptions {
  /** The project config. @default the sample config (`config/environments.json`, or ENVCTL_CONFIG) */
  readonly config?: ProjectConfig;
  /** @default 'staging' */
  readonly environment?: string;
  /** Handler factories that replace or add to `lambdas/handlers/<name>.ts`, by kebab name. */
  readonly handlers?: Readonly<Record<string, HandlerFactory>>;
  readonly clock?: SimulatedClockOptions;
  /** Desired tasks of each ECS service. @default 2 */
  readonly desiredCount?: number;
  /** The stable version's image. @default DEFAULT_STABLE_IMAGE */
  readonly stableImage?: string;
  /** Terminal statuses that publish a status-change event. @default all four */
  readonly statusEvents?: readonly TerminalStatus[];
  /** The handlers' log level (their one structured logger). @default left as configured (INFO) */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** Seed of moto's random ids: the same seed and config give the same ARNs. @default 1 */
  readonly seed?: number;
  /** The moto_server executable. @default MOTO_SERVER or 'moto_server' */
  readonly motoCommand?: string;
  /** Adjusts the handlers' clients before any handler gets them (e.g. a middleware filling a gap of moto). */
  readonly configureHandlerClients?: (clients: LocalClients) => void;
}

/** Wall-clock milliseconds of each start-up phase. */
export interface StartupTimings {
  readonly motoStart: number;
  /** First request to each service moto serves. */
  readonly warmUp: number;
  readonly synth: number;
  readonly synthCached: boolean;
  readonly application: number;
  readonly controller: number;
  readonly total: number;
}

export class LocalCloud {
  private stopped = false;

  private constructor(
    readonly moto: MotoServer,
    readonly clock: SimulatedClock,
    /** Clients pointed at moto, as the harness uses them (moto's own view: no overlay). */
    readonly clients: LocalClients,
    /** The deps handlers get by default (the handlers' Step Functions client carries the execution overlay). */
    readonly deps: Deps,
    /** The config with this environment's ARNs replaced by moto's. */
    readonly config: ProjectConfig,
    readonly environment: string,
    readonly application: ApplicationResources,
    readonly controller: ControllerResources,
    readonly template: CfnTemplate,
    readonly handlers: HandlerRegistry,
    readonly events: LocalEventBus,
    readonly runner: Runner,
    readonly taskTokens: TaskTokens,
    readonly executions: ExecutionRegistry,
    readonly timings: StartupTimings,
    private readonly handlerClients: LocalClients,
  ) {}

  /** Starts moto, provisions the environment's application and controller sides, and wires the runner. */
  static async start(options: LocalCloudOptions = {}): Promise<LocalCloud> {
    const started = performance.now();
    if (options.logLevel) logger.setLogLevel(options.logLevel);
    const sourceConfig = options.config ?? loadConfigFile();
    const environment = options.environment ?? 'staging';
    const env = sourceConfig.environments.find((e) => e.name === environment);
    if (!env) throw new Error(`no environment "${environment}" in the config`);

    const moto = await MotoServer.start({
      accountId: env.account,
      ...(options.motoCommand ? { command: options.motoCommand } : {}),
    });
    try {
      const clientOptions = { endpoint: moto.endpoint, region: env.region };
      const clients = localClients(clientOptions);
      // moto loads each service on its first request (ECS takes about a second): load them all at once, then seed
      // its random ids so that the same config always gives the same ARNs (and the cached template fits).
      const t0 = performance.now();
      await warmUp(clients, moto.endpoint, env.region);
      await moto.seed(options.seed ?? 1);
      const t1 = performance.now();
      const application = await provisionApplication(sourceConfig, environment, {
        ecs: clients.ecs,
        elb: clients.elb,
        endpoint: moto.endpoint,
        ...(options.desiredCount !== undefined ? { desiredCount: options.desiredCount } : {}),
        ...(options.stableImage ? { stableImage: options.stableImage } : {}),
      });
      const t2 = performance.now();
      const synthesized = synthesizeEnvironment(application.config, environment);

      const clock = new SimulatedClock(options.clock);
      const tokens = new TaskTokens(() => clock.now());
      const executions = new ExecutionRegistry();
      // The handlers' own clients: the Step Functions one sees executions as the runner runs them.
      const handlerClients = localClients(clientOptions);
      installExecutionOverlay(handlerClients.sfn, executions, tokens);
      installMotoFixes(handlerClients);
      options.configureHandlerClients?.(handlerClients);
      const depsOf = (fn: FunctionResource | undefined, fallbackTable: string): Deps =>
        localDeps({
          clients: handlerClients,
          clock,
          tableName: fn?.environment.TABLE_NAME ?? fallbackTable,
          ...(fn?.environment.NOTIFICATION_TOPIC_ARN
            ? { notificationTopicArn: fn.environment.NOTIFICATION_TOPIC_ARN }
            : {}),
          ...(fn?.environment.ALERT_TOPIC_ARN ? { alertTopicArn: fn.environment.ALERT_TOPIC_ARN } : {}),
        });

      const t3 = performance.now();
      const controller = await provisionController(synthesized.template, {
        clients,
        region: env.region,
        accountId: env.account,
        stackName: synthesized.stackName,
        // A custom resource runs while the stack is being created: its handler gets its own function's deps.
        invokeCustomResource: (fn, event) => {
          const factory = options.handlers?.[fn.handler] ?? moduleFactory(fn.handler);
          return factory(depsOf(fn, ''))(jsonCopy(event)) as Promise<{
            PhysicalResourceId?: string;
            Data?: Record<string, unknown>;
          }>;
        },
      });
      const t4 = performance.now();
      const tableName = controller.tableName ?? '';
      const handlers = new HandlerRegistry(
        (name) =>
          depsOf(
            controller.functions.find((f) => f.handler === name),
            tableName,
          ),
        options.handlers,
      );
      const events = new LocalEventBus(clients, clock, handlers, env.region, env.account, controller.rules);
      const handlerOfFunction = (ref: string): string | undefined => {
        const name = ref.startsWith('arn:') ? ref.split(':')[6] : ref;
        const fn = controller.functions.find((f) => f.arn === ref || f.functionName === name);
        if (fn) return fn.handler;
        return name?.startsWith(LOCAL_FUNCTION_PREFIX) ? name.slice(LOCAL_FUNCTION_PREFIX.length) : undefined;
      };
      const rewrittenEnv = application.environment;
      const runner = new Runner({
        sfn: clients.sfn,
        clock,
        handlers,
        events,
        tokens,
        registry: executions,
        region: env.region,
        accountId: env.account,
        handlerOfFunction,
        stateMachines: controller.stateMachines,
        nameOfKind: (kind) => stateMachineName(application.config.project, environment, kind),
        timeoutOfKind: (kind) =>
          kind === 'rollback'
            ? rewrittenEnv.rollback.timeoutSeconds
            : rewrittenEnv.rollback.deploymentTimeoutSeconds,
        ...(options.statusEvents ? { statusEvents: options.statusEvents } : {}),
      });

      const timings: StartupTimings = {
        motoStart: moto.startupMs,
        warmUp: Math.round(t1 - t0),
        application: Math.round(t2 - t1),
        synth: synthesized.synthMs,
        synthCached: synthesized.cached,
        controller: Math.round(t4 - t3),
        total: Math.round(performance.now() - started),
      };
      return new LocalCloud(
        moto,
        clock,
        clients,
        depsOf(undefined, tableName),
        application.config,
        environment,
        application,
        controller,
        synthesized.template,
        handlers,
        events,
        runner,
        tokens,
        executions,
        timings,
        handlerClients,
      );
    } catch (err) {
      await moto.stop();
      throw err;
    }
  }

  /** The deps a handler gets: those of its function in the stack, else the default. */
  depsFor(handler: string): Deps {
    const fn = this.controller.functions.find((f) => f.handler === handler);
    return fn
      ? localDeps({
          clients: this.handlerClients,
          clock: this.clock,
          tableName: fn.environment.TABLE_NAME ?? this.deps.tableName,
          ...(fn.environment.NOTIFICATION_TOPIC_ARN
            ? { notificationTopicArn: fn.environment.NOTIFICATION_TOPIC_ARN }
            : {}),
          ...(fn.environment.ALERT_TOPIC_ARN ? { alertTopicArn: fn.environment.ALERT_TOPIC_ARN } : {}),
        })
      : this.deps;
  }

  /** Ends runs still in progress (ABORTED), stops moto and closes every client. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.runner.shutdown().catch(() => undefined);
    destroyClients(this.clients);
    destroyClients(this.handlerClients);
    await this.moto.stop();
  }
}

/** One cheap call per service, so that moto has loaded them all before they are needed. */
async function warmUp(clients: LocalClients, endpoint: string, region: string): Promise<void> {
  await Promise.all(
    [
      () => clients.ecs.send(new ListClustersCommand({})),
      () => clients.elb.send(new DescribeLoadBalancersCommand({})),
      () => clients.dynamodb.send(new ListTablesCommand({})),
      () => clients.sfn.send(new ListStateMachinesCommand({})),
      () => clients.eventbridge.send(new ListRulesCommand({})),
      () => clients.sqs.send(new ListQueuesCommand({})),
      () => clients.cloudwatch.send(new DescribeAlarmsCommand({})),
      () => clients.sns.send(new ListTopicsCommand({})),
      () => describeVpcs({ endpoint, region }),
    ].map(untilLoaded),
  );
}

/**
 * moto_server loads a service on its first request; first requests to several services at once were seen to
 * answer an HTML 404 page now and then (once in a CI run). A warm-up call that fails is tried again, a few times.
 */
async function untilLoaded(call: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await call();
      return;
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

export { DEFAULT_STABLE_IMAGE } from './application';
export type { ApplicationResources, ServiceResources } from './application';
export type { ControllerResources, FunctionResource, RuleResource, StateMachineResource } from './controller';
export type { Delivery, LocalEvent, PublishResult } from './events';
export type { HandlerFactory, Handler } from './handlers';
export type { HistoryEvent, RunHandle, RunRequest, RunResult, TerminalStatus } from './runner';
export type { PendingTaskToken } from './tokens';
export { SimulatedClock } from './clock';
export { MotoServer } from './moto';
