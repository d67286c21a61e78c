/**
 * Rollbacks under faults: a first attempt that fails is retried to completion; a rollback that cannot complete
 * ends the deployment FAILED with its lock released, and pages through the alert topic.
 */
import { SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { make as makeRollback } from '../../lambdas/handlers/rollback';
import { LocalCloud } from '../../localcloud';
import { localClients } from '../../localcloud/clients';
import {
  deploymentRecords,
  eventually,
  readPercentilesAsMaximum,
  rollbackRecords,
  serviceOf,
  tableItems,
  traffic,
  weights,
} from './support/world';

jest.setTimeout(120_000);

describe('a rollback whose AWS calls fail', () => {
  let cloud: LocalCloud;
  /** How many of the rollback handler's DeleteTaskSet calls fail from now on. */
  let failDeletes = 0;
  beforeAll(async () => {
    cloud = await LocalCloud.start({
      logLevel: 'WARN',
      environment: 'staging',
      handlers: {
        rollback: (deps) => {
          const own = localClients({ endpoint: cloud.moto.endpoint, region: 'eu-west-1' });
          (own.ecs.middlewareStack.add as (mw: unknown, o: unknown) => void)(
            (next: (a: unknown) => Promise<unknown>, ctx: { commandName?: string }) =>
              async (args: unknown) => {
                if (ctx.commandName === 'DeleteTaskSetCommand' && failDeletes > 0) {
                  failDeletes--;
                  throw Object.assign(new Error('We encountered an internal error'), {
                    name: 'ServerException',
                    $metadata: { httpStatusCode: 500 },
                  });
                }
                return next(args);
              },
            { step: 'initialize', name: 'failDeletes' },
          );
          return makeRollback({ ...deps, ecs: own.ecs });
        },
      },
    });
    readPercentilesAsMaximum(cloud);
  });
  afterAll(async () => cloud?.stop());

  async function alarmDuringCanary(image: string) {
    const service = serviceOf(cloud);
    const load = traffic(cloud, service, { blue: 0, green: 0 });
    const stable: 'blue' | 'green' = (await weights(cloud, service)).blue === 100 ? 'blue' : 'green';
    const candidate = stable === 'blue' ? 'green' : 'blue';
    const handle = await cloud.runner.start({
      stateMachine: 'canary',
      input: { environment: 'staging', service: 'checkout', image, requestedBy: 'faults' },
    });
    await eventually(
      async () =>
        (await deploymentRecords(cloud)).find(
          (r) =>
            r.deploymentId === handle.name &&
            (r.weights as { candidate: number } | undefined)?.candidate === 10,
        ),
      'the canary to take 10 %',
    );
    const published = await cloud.events.publish({
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      detail: {
        alarmName: `checkout-staging-error-rate-${candidate}`,
        state: { value: 'ALARM', reason: 'test' },
        previousState: { value: 'OK' },
      },
    });
    await handle.result;
    load.stop();
    return { service, stable, handle, delivery: published.deliveries[0]! };
  }

  it('a first attempt that fails is retried: RESTORED, one record', async () => {
    failDeletes = 1;
    const { service, stable, handle, delivery } = await alarmDuringCanary('public.ecr.aws/nginx/nginx:1.28');
    expect(delivery.result).toMatchObject({ outcome: 'rolled-back' });
    expect((await weights(cloud, service))[stable]).toBe(100);
    expect((await rollbackRecords(cloud)).filter((r) => r.deploymentId === handle.name)).toMatchObject([
      { outcome: 'RESTORED' },
    ]);
    expect((await deploymentRecords(cloud)).find((r) => r.deploymentId === handle.name)).toMatchObject({
      status: 'ROLLED_BACK',
    });
  });

  it('one that cannot complete ends FAILED, releases the lock, keeps traffic on stable and pages', async () => {
    const queue = await cloud.clients.sqs.send(new CreateQueueCommand({ QueueName: 'pages' }));
    const queueArn = (
      await cloud.clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }),
      )
    ).Attributes!.QueueArn!;
    await cloud.clients.sns.send(
      new SubscribeCommand({
        TopicArn: cloud.depsFor('rollback').alertTopicArn,
        Protocol: 'sqs',
        Endpoint: queueArn,
      }),
    );
    failDeletes = 1000;
    const { service, stable, handle, delivery } = await alarmDuringCanary('public.ecr.aws/nginx/nginx:1.29');
    failDeletes = 0;
    expect(delivery.error).toMatchObject({ name: 'RollbackFailedError' });
    expect((await weights(cloud, service))[stable]).toBe(100);
    const record = (await deploymentRecords(cloud)).find((r) => r.deploymentId === handle.name)!;
    expect(record).toMatchObject({ status: 'FAILED' });
    expect((await rollbackRecords(cloud)).filter((r) => r.deploymentId === handle.name)).toMatchObject([
      { outcome: 'FAILED' },
    ]);
    const state = (await tableItems(cloud)).find(
      (i) => i.pk === 'SERVICE#staging#checkout' && i.sk === 'STATE',
    );
    expect(state?.lock).toBeUndefined();
    const pages = await cloud.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(pages.Messages?.map((m) => JSON.parse(JSON.parse(m.Body!).Message).event)).toEqual([
      'rollback-failed',
    ]);
  });
});
