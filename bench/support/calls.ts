/**
 * AWS calls as the handlers make them, recorded by middleware on their clients: which command, when it started
 * and ended (the whole SDK call, what the handler awaits), how long it spent on the wire to moto (HTTP round trip
 * and response parsing), and for DynamoDB the request and answer in DynamoDB's own JSON, to count items and
 * request units.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export interface AwsCall {
  /** The client's service, e.g. `DynamoDB`. */
  readonly service: string;
  /** Without the `Command` suffix, e.g. `GetItem`. */
  readonly command: string;
  readonly start: number;
  end: number;
  /** Milliseconds between the request leaving the SDK's middleware and its answer parsed. */
  wireMs: number;
  /** The request (for the document client, before it marshals it). */
  input?: Record<string, unknown>;
  /** DynamoDB only: the answer (for the document client, unmarshalled). */
  output?: Record<string, unknown>;
  failed?: boolean;
  /** For a failed call: the error's name and the HTTP status of the answer, if one came. */
  error?: { readonly name: string; readonly status?: number };
}

interface MiddlewareClient {
  readonly middlewareStack: {
    add(middleware: unknown, options: Record<string, unknown>): void;
    identify(): string[];
  };
}

type Next = (args: { input: unknown }) => Promise<{ output: unknown }>;
type Context = { commandName?: string; clientName?: string; benchCall?: AwsCall };

const SERVICE_OF_CLIENT: Record<string, string> = {
  DynamoDBClient: 'DynamoDB',
  ECSClient: 'ECS',
  ElasticLoadBalancingV2Client: 'ELBv2',
  SFNClient: 'StepFunctions',
  SNSClient: 'SNS',
  CloudWatchClient: 'CloudWatch',
};

/**
 * Records every call the client makes while `sink` returns a list to push to (return undefined to ignore calls).
 * Idempotent per client: a client already recording is left as it is.
 */
export function recordCalls(client: MiddlewareClient, sink: () => AwsCall[] | undefined): void {
  if (client.middlewareStack.identify().some((n) => n.startsWith('benchRecordCall'))) return;
  client.middlewareStack.add(
    (next: Next, context: Context) => async (args: { input: unknown }) => {
      const list = sink();
      if (!list) return next(args);
      const call: AwsCall = {
        service: SERVICE_OF_CLIENT[context.clientName ?? ''] ?? context.clientName ?? '?',
        command: (context.commandName ?? '?').replace(/Command$/, ''),
        start: performance.now(),
        end: Number.NaN,
        wireMs: Number.NaN,
      };
      context.benchCall = call;
      list.push(call);
      try {
        return await next(args);
      } catch (err) {
        const e = err as {
          name?: string;
          $metadata?: { httpStatusCode?: number };
          $response?: { statusCode?: number };
        };
        call.failed = true;
        call.error = {
          name: e.name ?? 'Error',
          ...((e.$metadata?.httpStatusCode ?? e.$response?.statusCode)
            ? { status: e.$metadata?.httpStatusCode ?? e.$response?.statusCode }
            : {}),
        };
        throw err;
      } finally {
        call.end = performance.now();
      }
    },
    { step: 'initialize', priority: 'high', name: 'benchRecordCall' },
  );
  // The request and DynamoDB's answer (the document client marshals and unmarshals inside this step).
  client.middlewareStack.add(
    (next: Next, context: Context) => async (args: { input: unknown }) => {
      if (context.benchCall) context.benchCall.input = args.input as Record<string, unknown>;
      const out = await next(args);
      if (context.benchCall?.service === 'DynamoDB')
        context.benchCall.output = out.output as Record<string, unknown>;
      return out;
    },
    { step: 'serialize', priority: 'high', name: 'benchRecordCallDynamo' },
  );
  // The innermost finalize middleware: what is left below it is the HTTP exchange and the response's parsing.
  client.middlewareStack.add(
    (next: Next, context: Context) => async (args: { input: unknown }) => {
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        if (context.benchCall) context.benchCall.wireMs = performance.now() - started;
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: 'benchRecordCallWire' },
  );
}

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem']);
const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

/** A write DynamoDB refused on its condition: what a conditional claim or lock is for, not a fault. */
export const refusedByCondition = (c: AwsCall) =>
  c.failed === true &&
  (c.error?.name === 'ConditionalCheckFailedException' || c.error?.name === 'TransactionCanceledException');

export const isWrite = (c: AwsCall) => c.service === 'DynamoDB' && WRITES.has(c.command);
export const isRead = (c: AwsCall) => c.service === 'DynamoDB' && READS.has(c.command);

/** Items a DynamoDB write call writes: one for a Put/Update/Delete, each item of a transaction or batch. */
export function writtenItems(call: AwsCall): number {
  if (!isWrite(call) || call.failed) return 0;
  const input = call.input ?? {};
  if (call.command === 'TransactWriteItems')
    return (input.TransactItems as unknown[] | undefined)?.length ?? 0;
  if (call.command === 'BatchWriteItem')
    return Object.values((input.RequestItems as Record<string, unknown[]>) ?? {}).reduce(
      (n, l) => n + l.length,
      0,
    );
  return 1;
}

/** Bytes of an attribute value by DynamoDB's sizing rules (names and values; numbers about 1 byte per 2 digits). */
export function attributeValueSize(value: AttributeValue | Record<string, unknown>): number {
  const v = value as Record<string, unknown>;
  if ('S' in v) return Buffer.byteLength(String(v.S));
  if ('N' in v) return Math.ceil(String(v.N).replace(/^-/, '').length / 2) + 1;
  if ('B' in v) return (v.B as Uint8Array).length;
  if ('BOOL' in v || 'NULL' in v) return 1;
  if ('SS' in v) return (v.SS as string[]).reduce((n, s) => n + Buffer.byteLength(s), 0);
  if ('NS' in v) return (v.NS as string[]).reduce((n, s) => n + Math.ceil(s.length / 2) + 1, 0);
  if ('L' in v) return 3 + (v.L as AttributeValue[]).reduce((n, item) => n + 1 + attributeValueSize(item), 0);
  if ('M' in v) {
    const m = v.M as Record<string, AttributeValue>;
    return (
      3 + Object.entries(m).reduce((n, [k, x]) => n + 1 + Buffer.byteLength(k) + attributeValueSize(x), 0)
    );
  }
  return 0;
}

const AV_TYPES = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS']);

/** Whether an item came in DynamoDB's JSON (the low-level client) rather than plain (the document client). */
function isMarshalled(item: Record<string, unknown>): boolean {
  return Object.values(item).every((v) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
    const keys = Object.keys(v);
    return keys.length === 1 && AV_TYPES.has(keys[0]!);
  });
}

/** Bytes of a plain value as the document client would store it, by the same rules. */
function plainValueSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint')
    return Math.ceil(String(value).replace(/^-/, '').length / 2) + 1;
  if (typeof value === 'boolean' || value === null) return 1;
  if (value instanceof Uint8Array) return value.length;
  if (value instanceof Set) return [...value].reduce((n: number, v) => n + plainValueSize(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + 1 + plainValueSize(v), 0);
  if (typeof value === 'object')
    return (
      3 +
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .reduce((n, [k, v]) => n + 1 + Buffer.byteLength(k) + plainValueSize(v), 0)
    );
  return 0;
}

/** Bytes of an item, marshalled or plain: every attribute's name and value. */
export function itemSize(item: Record<string, unknown>): number {
  const marshalled = isMarshalled(item);
  return Object.entries(item)
    .filter(([, v]) => v !== undefined)
    .reduce(
      (n, [name, value]) =>
        n +
        Buffer.byteLength(name) +
        (marshalled ? attributeValueSize(value as AttributeValue) : plainValueSize(value)),
      0,
    );
}

/** The table key of an item or a Key, as text (the deployments table keys on pk and sk). */
export function keyOf(item: Record<string, unknown>): string {
  const plain = (v: unknown) => (v && typeof v === 'object' && 'S' in v ? (v as { S: string }).S : v);
  return JSON.stringify([plain(item.pk), plain(item.sk)]);
}

/**
 * Write request units of one write call by on-demand rules: 1 per KB of the item, twice that in a transaction. The
 * size of an updated or deleted item is not in the request: `sizeOfKey` gives it (the item's size at the end of
 * the run, an upper bound, as items only grow during a deployment).
 */
export function writeUnits(call: AwsCall, sizeOfKey: (key: string) => number | undefined): number {
  if (!isWrite(call) || call.failed) return 0;
  const units = (item: Record<string, unknown> | undefined, key: Record<string, unknown> | undefined) => {
    const bytes = item ? itemSize(item) : key ? (sizeOfKey(keyOf(key)) ?? 1) : 1;
    return Math.max(1, Math.ceil(bytes / 1024));
  };
  const input = call.input ?? {};
  switch (call.command) {
    case 'PutItem':
      return units(input.Item as Record<string, unknown>, undefined);
    case 'UpdateItem':
    case 'DeleteItem':
      return units(undefined, input.Key as Record<string, unknown>);
    case 'TransactWriteItems':
      return (input.TransactItems as Record<string, Record<string, unknown>>[]).reduce((n, t) => {
        const op = t.Put ?? t.Update ?? t.Delete ?? t.ConditionCheck ?? {};
        return n + 2 * units(op.Item as Record<string, unknown>, op.Key as Record<string, unknown>);
      }, 0);
    default:
      return writtenItems(call);
  }
}

/** Read request units of one read call: 1 per 4 KB read strongly consistent, half that eventually consistent. */
export function readUnits(call: AwsCall): number {
  if (!isRead(call) || call.failed) return 0;
  const input = call.input ?? {};
  const output = call.output ?? {};
  const factor = input.ConsistentRead ? 1 : 0.5;
  const bytes = (items: unknown) =>
    ((items as Record<string, unknown>[] | undefined) ?? []).reduce((n, i) => n + itemSize(i), 0);
  switch (call.command) {
    case 'GetItem':
      return factor * Math.max(1, Math.ceil(bytes(output.Item ? [output.Item] : []) / 4096));
    case 'Query':
    case 'Scan':
      return factor * Math.max(1, Math.ceil(bytes(output.Items) / 4096));
    default:
      return 1;
  }
}
