/**
 * How a rehearsal's result is put together: the outcome from the record, the timeline with the traffic at each
 * moment, the candidate's default image.
 */
import type { AlarmTransition } from '../../localcloud/alarms';
import { buildTimeline, candidateImage, outcomeOf } from '../../localcloud/simulation';
import type { WeightSample } from '../../localcloud/workload';

describe('outcomeOf', () => {
  it.each([
    [{ status: 'SUCCEEDED' as const }, 'SUCCEEDED', null],
    [{ status: 'ROLLED_BACK' as const }, 'ROLLED_BACK', null],
    [
      { status: 'REJECTED' as const, error: 'invalid input: image: must be …' },
      'REJECTED',
      'invalid input: image: must be …',
    ],
    [{ status: 'FAILED' as const }, 'FAILED', 'RollbackFailed'],
    [
      { status: 'IN_PROGRESS' as const },
      'FAILED',
      'the execution ended FAILED but the deployment record is IN_PROGRESS: RollbackFailed',
    ],
    [null, 'FAILED', 'the execution ended FAILED without a deployment record: RollbackFailed'],
  ])('%j gives %s', (record, outcome, error) => {
    expect(outcomeOf(record, 'FAILED', 'RollbackFailed')).toEqual({ outcome, error });
  });
});

describe('buildTimeline', () => {
  const sample = (at: string, candidate: number): WeightSample => ({
    at: `2026-01-05T09:${at}.000Z`,
    blue: 100 - candidate,
    green: candidate,
    stable: 100 - candidate,
    candidate,
  });
  const transition = (at: string, alarmName: string): AlarmTransition => ({
    at: `2026-01-05T09:${at}.000Z`,
    alarmName,
    from: 'OK',
    to: 'ALARM',
    reason: 'Threshold Crossed',
    deliveries: [],
  });

  it('orders by time, an alarm before the rollback it caused, and gives each entry the traffic of its moment', () => {
    const record = {
      timeline: [
        {
          at: '2026-01-05T09:05:15.000Z',
          event: 'traffic-shifted',
          message: 'step 1/3',
          weights: { stable: 90, candidate: 10 },
        },
        { at: '2026-01-05T09:06:15.000Z', event: 'health-verdict', message: 'wait' },
        {
          at: '2026-01-05T09:09:00.000Z',
          event: 'rollback-started',
          message: 'alarm',
          weights: { stable: 100, candidate: 0 },
        },
      ],
    };
    const weights = [sample('05:00', 0), sample('05:30', 10), sample('09:00', 10)];

    const timeline = buildTimeline(
      record,
      [
        transition('09:00', 'checkout-staging-error-rate-green'),
        transition('09:00', 'catalog-staging-error-rate-green'),
      ],
      weights,
      new Set(['checkout-staging-error-rate-green']),
      { at: '2026-01-05T09:09:00.000Z', status: 'ABORTED' },
    );

    expect(
      timeline.map((e) => [e.at.slice(11, 19), e.event, `${e.weights.stable}/${e.weights.candidate}`]),
    ).toEqual([
      ['09:05:15', 'traffic-shifted', '90/10'],
      ['09:06:15', 'health-verdict', '90/10'],
      ['09:09:00', 'alarm', '90/10'],
      ['09:09:00', 'rollback-started', '100/0'],
      ['09:09:00', 'execution-ended', '100/0'],
    ]);
  });
});

describe('candidateImage', () => {
  it('retags the stable image after the scenario, never as the image that serves', () => {
    expect(candidateImage('public.ecr.aws/nginx/nginx:1.27', 'bad-release')).toBe(
      'public.ecr.aws/nginx/nginx:1.27-bad-release-rc1',
    );
    expect(candidateImage('public.ecr.aws/nginx/nginx:1.27-healthy-rc1', 'healthy')).toBe(
      'public.ecr.aws/nginx/nginx:1.27-healthy-rc2',
    );
    expect(candidateImage('registry:5000/team/app', 'healthy')).toBe(
      'registry:5000/team/app:latest-healthy-rc1',
    );
  });
});
