/**
 * The local cloud's core: moto's lifecycle, and an environment provisioned in it from the config (application side)
 * and from the synthesized stack (controller side).
 */
import { DescribeAlarmsCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { ListRulesCommand } from '@aws-sdk/client-eventbridge';
import { ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import { DeploymentStore } from '../../lambdas/adapters/deployment-store';
import { TABLE_INDEXES } from '../../lambdas/adapters/table-schema';
import { LocalCloud } from '../../localcloud';
import { MotoServer, runningMotoServers } from '../../localcloud/moto';
import { resourcesOfType } from '../../localcloud/template';
import { listenerWeights, taskSets, testListenerWeights, withLocalCloud } from '../../localcloud/testing';

describe('moto_server', () => {
  it('starts on a free loopback port, answers, and leaves no process behind when stopped', async () => {
    // Prepare
    const moto = await MotoServer.start();
    try {
      // Act
      const answer = await fetch(`${moto.endpoint}/moto-api/`);
      await answer.arrayBuffer();
      // Assess
      expect(answer.ok).toBe(true);
      expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(moto.isAlive()).toBe(true);
    } finally {
      await moto.stop();
    }
    expect(moto.isAlive()).toBe(false);
    expect(() => process.kill(moto.pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    await expect(moto.stop()).resolves.toBeUndefined(); // idempotent
  });
});

describe('a local cloud that fails to start', () => {
  it('stops the moto it started', async () => {
    const failing = LocalCloud.start({
      logLevel: 'SILENT',
      handlers: {
        'register-environment': () => async () => {
          throw new Error('registration refused');
        },
      },
    });
    await expect(failing).rejects.toThrow('registration refused');
    expect(runningMotoServers()).toEqual([]);
  }, 60_000);
});

describe('an environment provisioned in moto', () => {
  const local = withLocalCloud({ environment: 'staging' });

  it('rewrites the config with the ARNs moto gave the application side', () => {
    const { cloud } = local;
    const env = cloud.config.environments.find((e) => e.name === 'staging')!;
    const checkout = env.services.find((s) => s.name === 'checkout')!;
    const provisioned = cloud.application.services.checkout!;
    expect(checkout.listener.arn).toBe(provisioned.listenerArn);
    expect(checkout.targetGroups).toEqual(provisioned.targetGroups);
    expect(checkout.listener.arn).toMatch(/:222222222222:listener\/app\//);
    // Other environments are left as the config had them.
    expect(cloud.config.environments.find((e) => e.name === 'production')!.services[0]!.listener.arn).toMatch(
      /:333333333333:/,
    );
  });

  it.each(['checkout', 'catalog'])(
    'routes 100 %% of %s to blue and 0 %% to green, as moto reads back',
    async (service) => {
      await expect(listenerWeights(local.cloud, service)).resolves.toEqual({ blue: 100, green: 0 });
    },
  );

  it('gives checkout its test listener, also on blue', async () => {
    await expect(testListenerWeights(local.cloud, 'checkout')).resolves.toEqual({ blue: 100, green: 0 });
  });

  it('runs a stable task set in the blue slot at scale 100, primary, under the EXTERNAL controller', async () => {
    const { cloud } = local;
    const sets = await taskSets(cloud, 'checkout');
    expect(sets).toHaveLength(1);
    expect(sets[0]).toMatchObject({
      taskSetArn: cloud.application.services.checkout!.stableTaskSetArn,
      status: 'PRIMARY',
      scale: { unit: 'PERCENT', value: 100 },
      loadBalancers: [
        expect.objectContaining({ targetGroupArn: cloud.application.services.checkout!.targetGroups.blue }),
      ],
    });
  });

  it('creates the table from the template with its indexes and TTL', async () => {
    const { cloud } = local;
    const tableName = cloud.controller.tableName!;
    const table = await cloud.clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    const ttl = await cloud.clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(table.Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(table.Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName).sort()).toEqual(
      TABLE_INDEXES.map((i) => i.indexName).sort(),
    );
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
    expect(cloud.deps.tableName).toBe(tableName);
  });

  it('writes each service registration through the real registration handler', async () => {
    const { cloud } = local;
    const store = new DeploymentStore(cloud.clients.dynamodb, cloud.controller.tableName!);
    const registrations = await store.listRegistrations('staging');
    expect(registrations.map((r) => r.service.name).sort()).toEqual(['catalog', 'checkout']);
    // The registration carries moto's ARNs: the stack was synthesized for the rewritten config.
    const checkout = registrations.find((r) => r.service.name === 'checkout')!;
    expect(checkout.service.listener.arn).toBe(cloud.application.services.checkout!.listenerArn);
  });

  it('creates every alarm, rule and state machine of the template in moto', async () => {
    const { cloud } = local;
    const alarmIds = resourcesOfType(cloud.template, 'AWS::CloudWatch::Alarm');
    const alarms = await cloud.clients.cloudwatch.send(new DescribeAlarmsCommand({ MaxRecords: 100 }));
    expect(alarms.MetricAlarms?.map((a) => a.AlarmName).sort()).toEqual([...cloud.controller.alarms].sort());
    expect(cloud.controller.alarms).toHaveLength(alarmIds.length);

    const rules = await cloud.clients.eventbridge.send(new ListRulesCommand({}));
    expect(rules.Rules?.map((r) => r.Name).sort()).toEqual(cloud.controller.rules.map((r) => r.name).sort());
    expect(cloud.controller.rules).toHaveLength(resourcesOfType(cloud.template, 'AWS::Events::Rule').length);

    const machines = await cloud.clients.sfn.send(new ListStateMachinesCommand({}));
    expect(machines.stateMachines?.map((m) => m.name).sort()).toEqual(
      cloud.controller.stateMachines.map((m) => m.name).sort(),
    );
    expect(cloud.controller.stateMachines).toHaveLength(
      resourcesOfType(cloud.template, 'AWS::StepFunctions::StateMachine').length,
    );
  });

  it('answers the handlers DescribeAlarms by names and state as AWS does, where moto ignores the state', async () => {
    const { cloud } = local;
    const [firing, quiet] = cloud.controller.alarms;
    await cloud.clients.cloudwatch.send(
      new SetAlarmStateCommand({ AlarmName: firing, StateValue: 'ALARM', StateReason: 'test' }),
    );
    const query = new DescribeAlarmsCommand({ AlarmNames: [firing!, quiet!], StateValue: 'ALARM' });

    const seen = await cloud.deps.cloudwatch.send(query);
    const moto = await cloud.clients.cloudwatch.send(query);

    expect(seen.MetricAlarms?.map((a) => a.AlarmName)).toEqual([firing]);
    expect(moto.MetricAlarms).toHaveLength(2);
    await cloud.clients.cloudwatch.send(
      new SetAlarmStateCommand({ AlarmName: firing, StateValue: 'OK', StateReason: 'test' }),
    );
  });

  it("knows which handler each of the stack's functions runs, from its tag", () => {
    const { cloud } = local;
    const registration = cloud.controller.functions.find((f) => f.handler === 'register-environment');
    expect(registration?.environment.TABLE_NAME).toBe(cloud.controller.tableName);
  });
});
