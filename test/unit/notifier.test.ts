/** Deployment notifications carry a link to their execution in the Step Functions console. */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { SnsNotifier } from '../../lambdas/adapters/notifier';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:eu-west-1:333333333333:deployments';
const EXECUTION =
  'arn:aws:states:eu-west-1:333333333333:execution:EnvironmentController-production-canary:d-1';

beforeEach(() => sns.reset());

it('adds the console link of the execution to every event that names one', async () => {
  const notifier = new SnsNotifier(new SNSClient({ region: 'eu-west-1' }), TOPIC, undefined);

  await notifier.notify({
    event: 'promotion-stopped',
    environment: 'staging',
    service: 'checkout',
    promotionId: 'p-1',
    deploymentId: 'd-1',
    message: 'promotion of registry/checkout:1.4.2 stopped at staging',
    executionArn: EXECUTION,
    candidateImage: 'registry/checkout:1.4.2',
  });

  const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
  expect(input.Subject).toBe('[staging] checkout: promotion-stopped');
  expect(input.MessageAttributes?.event).toEqual({ DataType: 'String', StringValue: 'promotion-stopped' });
  expect(JSON.parse(input.Message!)).toMatchObject({
    promotionId: 'p-1',
    deploymentId: 'd-1',
    candidateImage: 'registry/checkout:1.4.2',
    consoleUrl: `https://console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${EXECUTION}`,
  });
});
