/**
 * envctl against AWS, with the SDK clients mocked: the stack is found by name in the environment's region, its
 * outputs name what the commands use, and what AWS refuses is one line.
 */
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { run } from '../../cli/main';

const cfn = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);

const STACK = 'EnvironmentController-staging';
const MACHINE = (kind: string) => `arn:aws:states:eu-west-1:222222222222:stateMachine:${STACK}-${kind}`;
const outputs = {
  TableName: 'EnvironmentController-staging-DeploymentsTable-1A2B3C',
  NotificationTopicArn: 'arn:aws:sns:eu-west-1:222222222222:deployments',
  CanaryStateMachineArn: MACHINE('canary'),
  RollingStateMachineArn: MACHINE('rolling'),
  BlueGreenStateMachineArn: MACHINE('blue-green'),
  RollbackStateMachineArn: MACHINE('rollback'),
  PromotionStateMachineArn: MACHINE('promotion'),
};

async function envctl(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

beforeEach(() => {
  cfn.reset();
  sfn.reset();
  process.env.ENVCTL_USER = 'release-bot';
});
afterAll(() => {
  delete process.env.ENVCTL_USER;
});

describe('envctl against AWS', () => {
  it("starts the strategy's state machine that the stack's outputs name, with the checked input", async () => {
    cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({
      Stacks: [
        {
          StackName: STACK,
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
        },
      ],
    });
    sfn.on(StartExecutionCommand).callsFake((input: { stateMachineArn: string; name: string }) => ({
      executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`,
      startDate: new Date(),
    }));

    const result = await envctl([
      'deploy',
      'staging',
      'checkout',
      '--image',
      'registry.example.com/checkout:1.4.2',
      '--steps',
      '20,100',
      '--reason',
      'release 1.4.2',
      '--no-wait',
      '--json',
    ]);

    expect(result.code).toBe(0);
    expect(cfn.call(0).args[0].input).toEqual({ StackName: STACK });
    expect(await cfn.call(0).thisValue.config.region()).toBe('eu-west-1');
    const start = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(start.stateMachineArn).toBe(MACHINE('canary'));
    expect(JSON.parse(start.input!)).toEqual({
      environment: 'staging',
      service: 'checkout',
      image: 'registry.example.com/checkout:1.4.2',
      reason: 'release 1.4.2',
      requestedBy: 'release-bot',
      strategyOptions: { steps: [20, 100] },
    });
    const printed = JSON.parse(result.stdout);
    expect(printed).toEqual({
      deploymentId: start.name,
      executionArn: `${MACHINE('canary').replace(':stateMachine:', ':execution:')}:${start.name}`,
      consoleUrl: `https://console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${printed.executionArn}`,
      status: 'STARTED',
    });
  });

  it('says in one line that the stack is missing, and starts nothing', async () => {
    cfn.on(DescribeStacksCommand).rejects(
      new CloudFormationServiceException({
        name: 'ValidationError',
        message: `Stack with id ${STACK} does not exist`,
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    const result = await envctl(['rollback', 'staging', 'checkout', '--reason', 'errors']);

    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: stack ${STACK} not found in eu-west-1 with these credentials (the config puts it in account 222222222222): deploy it with npx cdk deploy ${STACK}, or use --local\n`,
    });
    expect(sfn.calls()).toHaveLength(0);
  });

  it('says in one line what AWS refused', async () => {
    cfn.on(DescribeStacksCommand).rejects(
      new CloudFormationServiceException({
        name: 'AccessDenied',
        message: 'User is not authorized to perform: cloudformation:DescribeStacks',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
      }),
    );

    const result = await envctl(['history', 'staging']);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `error: AWS refused to describe stack ${STACK} in eu-west-1: AccessDenied: User is not authorized to perform: cloudformation:DescribeStacks\n`,
    );
  });
});
