/**
 * Alarm evaluation with CloudWatch's semantics, by direct calls: the state decision (M of N, comparison, missing
 * data), metric math, and reading alarm definitions from a template.
 */
import {
  alarmsFromTemplate,
  decideState,
  evaluateExpression,
  type AlarmDefinition,
  type AlarmState,
  type Datapoint,
} from '../../localcloud/alarms';
import type { CfnTemplate } from '../../localcloud/template';

const MINUTE = 60_000;
const T = Date.parse('2026-01-05T09:00:00Z');

/** Datapoints oldest first from a picture: a number, or '-' for a missing one; one per minute. */
const points = (...values: (number | '-')[]): Datapoint[] =>
  values.flatMap((v, i) => (v === '-' ? [] : [{ at: T + i * MINUTE, value: v }]));

const alarm = (overrides: Partial<AlarmDefinition> = {}): AlarmDefinition => ({
  logicalId: 'A',
  name: 'checkout-staging-error-rate-green',
  period: 60,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  threshold: 2,
  comparison: 'GreaterThanThreshold',
  treatMissingData: 'notBreaching',
  ...overrides,
});

describe('decideState', () => {
  it.each<[string, (number | '-')[], Partial<AlarmDefinition>, AlarmState, AlarmState]>([
    ['2 of the last 3 breach', [1, 5, 6], {}, 'OK', 'ALARM'],
    ['only 1 of the last 3 breaches', [5, 1, 1], {}, 'ALARM', 'OK'],
    ['breaches older than the last 3 do not count', [9, 9, 1, 1, 1], {}, 'OK', 'OK'],
    ['the threshold itself does not breach "greater than"', [2, 2, 2], {}, 'OK', 'OK'],
    [
      'the threshold itself breaches "greater than or equal to"',
      [2, 2, 1],
      { comparison: 'GreaterThanOrEqualToThreshold' },
      'OK',
      'ALARM',
    ],
    ['"less than" breaches below', [0, 0, 3], { comparison: 'LessThanThreshold' }, 'OK', 'ALARM'],
    ['3 of 3 needs all three', [5, 5, 1], { datapointsToAlarm: 3 }, 'OK', 'OK'],
    ['missing as notBreaching: one breach is not enough', [5, '-', '-'], {}, 'OK', 'OK'],
    [
      'missing as breaching: missing ones count',
      ['-', '-', 5],
      { treatMissingData: 'breaching' },
      'OK',
      'ALARM',
    ],
    ['no data and notBreaching is OK', ['-', '-', '-'], {}, 'ALARM', 'OK'],
    [
      'no data and missing is INSUFFICIENT_DATA',
      ['-', '-', '-'],
      { treatMissingData: 'missing' },
      'OK',
      'INSUFFICIENT_DATA',
    ],
    ['no data and ignore keeps the state', ['-', '-', '-'], { treatMissingData: 'ignore' }, 'ALARM', 'ALARM'],
    [
      'ignore: the datapoints present decide when they can',
      ['-', 5, 6],
      { treatMissingData: 'ignore' },
      'OK',
      'ALARM',
    ],
    [
      'ignore: too many fine ones for M ever to breach is OK',
      [1, 1, '-'],
      { treatMissingData: 'ignore' },
      'ALARM',
      'OK',
    ],
    [
      'missing: undecided with one breach among two present keeps the state',
      ['-', 1, 5],
      { treatMissingData: 'missing' },
      'ALARM',
      'ALARM',
    ],
    [
      'the most recent datapoints present are used, across gaps',
      [5, '-', 6, '-', '-'],
      { treatMissingData: 'missing' },
      'OK',
      'ALARM',
    ],
  ])('%s', (_what, values, overrides, current, expected) => {
    // Act
    const decision = decideState(alarm(overrides), points(...values), current);
    // Assess
    expect(decision.state).toBe(expected);
  });

  it('explains an ALARM as CloudWatch does: how many of the last datapoints crossed the threshold', () => {
    const decision = decideState(alarm(), points(1, 5, 6), 'OK');

    expect(decision.reason).toMatch(
      /^Threshold Crossed: 2 out of the last 3 datapoints \[6\.0 \(05\/01\/26 09:02:00\), 5\.0/,
    );
    expect(decision.reason).toContain('were greater than the threshold (2.0)');
    expect(decision.considered.map((d) => d.breaching)).toEqual([true, true, false]);
  });
});

describe('evaluateExpression', () => {
  const series = (entries: [number, number][]) => new Map(entries.map(([m, v]) => [T + m * MINUTE, v]));

  it('computes the error-rate expression of the stack per timestamp, guarding against no requests', () => {
    const inputs = new Map([
      [
        'errors',
        series([
          [0, 5],
          [1, 0],
          [2, 3],
        ]),
      ],
      [
        'requests',
        series([
          [0, 100],
          [1, 0],
          [2, 300],
        ]),
      ],
    ]);

    const out = evaluateExpression('100 * errors / MAX([requests, 1])', inputs);

    expect([...out]).toEqual([
      [T, 5],
      [T + MINUTE, 0],
      [T + 2 * MINUTE, 1],
    ]);
  });

  it('leaves out timestamps missing in an operand, and supports precedence, parentheses and unary minus', () => {
    const inputs = new Map([
      [
        'a',
        series([
          [0, 2],
          [1, 4],
        ]),
      ],
      ['b', series([[1, 1]])],
    ]);

    expect([...evaluateExpression('-(a + b) * 2 - 1', inputs)]).toEqual([[T + MINUTE, -11]]);
    expect([...evaluateExpression('a / SUM(a)', inputs)]).toEqual([
      [T, 2 / 6],
      [T + MINUTE, 4 / 6],
    ]);
  });

  it('names what it cannot evaluate', () => {
    expect(() => evaluateExpression('ANOMALY_DETECTION_BAND(m1)', new Map([['m1', new Map()]]))).toThrow(
      /ANOMALY_DETECTION_BAND is not supported/,
    );
    expect(() => evaluateExpression('100 * nope', new Map())).toThrow(/unknown id "nope"/);
  });
});

describe('alarmsFromTemplate', () => {
  it('reads single-metric and metric-math alarms with their settings and defaults', () => {
    const dims = [
      { Name: 'LoadBalancer', Value: 'app/shop/1' },
      { Name: 'TargetGroup', Value: 'targetgroup/blue/2' },
    ];
    const template: CfnTemplate = {
      Resources: {
        Latency: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            AlarmName: 'checkout-staging-latency-blue',
            ComparisonOperator: 'GreaterThanThreshold',
            EvaluationPeriods: 3,
            DatapointsToAlarm: 2,
            ExtendedStatistic: 'p99',
            MetricName: 'TargetResponseTime',
            Namespace: 'AWS/ApplicationELB',
            Dimensions: dims,
            Period: 60,
            Threshold: 0.8,
            TreatMissingData: 'notBreaching',
          },
        },
        Errors: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            AlarmName: 'checkout-staging-error-rate-blue',
            ComparisonOperator: 'GreaterThanThreshold',
            EvaluationPeriods: 2,
            Threshold: 2,
            Metrics: [
              { Id: 'expr_1', Expression: '100 * errors / MAX([requests, 1])', ReturnData: true },
              {
                Id: 'errors',
                MetricStat: {
                  Metric: {
                    Namespace: 'AWS/ApplicationELB',
                    MetricName: 'HTTPCode_Target_5XX_Count',
                    Dimensions: dims,
                  },
                  Period: 60,
                  Stat: 'Sum',
                },
                ReturnData: false,
              },
              {
                Id: 'requests',
                MetricStat: {
                  Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount', Dimensions: dims },
                  Period: 60,
                  Stat: 'Sum',
                },
                ReturnData: false,
              },
            ],
          },
        },
        Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      },
    };

    const [latency, errors] = alarmsFromTemplate(template);

    expect(latency).toMatchObject({
      name: 'checkout-staging-latency-blue',
      period: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      threshold: 0.8,
      treatMissingData: 'notBreaching',
      metric: { metricName: 'TargetResponseTime', statistic: 'p99', dimensions: dims },
    });
    expect(errors).toMatchObject({
      name: 'checkout-staging-error-rate-blue',
      period: 60,
      datapointsToAlarm: 2,
      treatMissingData: 'missing',
    });
    expect(errors!.queries!.map((q) => [q.id, q.returnData])).toEqual([
      ['expr_1', true],
      ['errors', false],
      ['requests', false],
    ]);
  });
});
