import { Template } from 'aws-cdk-lib/assertions';
import { StateMachine } from 'aws-local-stepfunctions';
import { stateMachineName } from '../../lambdas/domain/naming';
import {
  definitionText,
  executionTimeoutSeconds,
  STATE_MACHINE_KINDS,
  substitute,
  substitutionNames,
} from '../../statemachines';
import { sampleConfig, synthApp } from '../support/synth';

const config = sampleConfig();
const { stacks } = synthApp(config);

describe.each(stacks.map((s, i) => [s.stackName, s, config.environments[i]!] as const))(
  '%s state machines',
  (_n, stack, env) => {
    const template = Template.fromStack(stack);
    const machines = template.findResources('AWS::StepFunctions::StateMachine');

    it.each(STATE_MACHINE_KINDS)(
      '%s: the deployed definition is the one in statemachines/, and it validates',
      (kind) => {
        const name = stateMachineName(config.project, env.name, kind);
        const resource = Object.values(machines).find((m) => m.Properties.StateMachineName === name);
        expect(resource).toBeDefined();
        const text = definitionText(kind, { timeoutSeconds: executionTimeoutSeconds(kind, env.rollback) });
        expect(resource!.Properties.DefinitionString).toBe(text);
        // Every substitution the definition uses is filled by the stack, with a function of the stack.
        expect(Object.keys(resource!.Properties.DefinitionSubstitutions).sort()).toEqual(
          substitutionNames(text).sort(),
        );
        const filled = substitute(
          text,
          Object.fromEntries(
            substitutionNames(text).map((n) => [n, `arn:aws:lambda:eu-west-1:123456789012:function:${n}`]),
          ),
        );
        expect(() => new StateMachine(JSON.parse(filled))).not.toThrow();
      },
    );

    it('each is a Standard workflow with logging ALL, X-Ray tracing and an overall timeout', () => {
      for (const m of Object.values(machines)) {
        expect(m.Properties).toMatchObject({
          StateMachineType: 'STANDARD',
          TracingConfiguration: { Enabled: true },
          LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
        });
        expect(JSON.parse(m.Properties.DefinitionString).TimeoutSeconds).toBeGreaterThan(0);
      }
    });

    it('definitions are JSONPath, never JSONata (the local runner cannot evaluate JSONata)', () => {
      for (const m of Object.values(machines))
        expect(m.Properties.DefinitionString).not.toMatch(/QueryLanguage|\{%/);
    });
  },
);
