/**
 * A small CloudFormation intrinsic-function resolver: enough of Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
 * Fn::Split, Fn::GetAZs, Fn::If (with Conditions), Fn::Base64 and Fn::FindInMap to turn a synthesized template's
 * properties into plain values, given the physical names and attributes of the resources created so far.
 */
import type { CfnTemplate } from './template';

/** What a resource became: the value `Ref` gives and the attributes `Fn::GetAtt` gives. */
export interface PhysicalResource {
  readonly logicalId: string;
  readonly type: string;
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface PseudoParameters {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  readonly stackId: string;
  readonly partition?: string;
}

export class UnresolvableError extends Error {
  override readonly name = 'UnresolvableError';
}

/** Removed from objects and arrays, as `AWS::NoValue` is. */
const NO_VALUE = Symbol('AWS::NoValue');

export class IntrinsicResolver {
  private readonly conditions = new Map<string, boolean>();

  constructor(
    private readonly template: CfnTemplate & {
      Mappings?: Record<string, Record<string, Record<string, unknown>>>;
    },
    private readonly pseudo: PseudoParameters,
    private readonly physical: ReadonlyMap<string, PhysicalResource>,
  ) {}

  /** Resolves every intrinsic in `value`; throws UnresolvableError naming what could not be resolved. */
  resolve(value: unknown): unknown {
    const out = this.walk(value);
    return out === NO_VALUE ? undefined : out;
  }

  /** Resolves to a string, or throws. */
  resolveString(value: unknown, what: string): string {
    const out = this.resolve(value);
    if (typeof out !== 'string')
      throw new UnresolvableError(`${what} is not a string: ${JSON.stringify(out)}`);
    return out;
  }

  /** Whether a template condition holds. */
  condition(name: string): boolean {
    const known = this.conditions.get(name);
    if (known !== undefined) return known;
    const body = this.template.Conditions?.[name];
    if (body === undefined) throw new UnresolvableError(`no condition ${name}`);
    const value = this.walk(body);
    if (typeof value !== 'boolean') throw new UnresolvableError(`condition ${name} is not a boolean`);
    this.conditions.set(name, value);
    return value;
  }

  private walk(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.walk(v)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0]!;
      if (key === 'Ref') return this.ref(String(arg));
      if (key === 'Condition' && typeof arg === 'string' && this.template.Conditions?.[arg] !== undefined) {
        return this.condition(arg);
      }
      if (key.startsWith('Fn::')) return this.fn(key, arg);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const resolved = this.walk(v);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }

  private ref(name: string): unknown {
    const p = this.pseudo;
    switch (name) {
      case 'AWS::Region':
        return p.region;
      case 'AWS::AccountId':
        return p.accountId;
      case 'AWS::Partition':
        return p.partition ?? 'aws';
      case 'AWS::StackName':
        return p.stackName;
      case 'AWS::StackId':
        return p.stackId;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::NoValue':
        return NO_VALUE;
      case 'AWS::NotificationARNs':
        return [];
    }
    const resource = this.physical.get(name);
    if (resource) return resource.ref;
    const parameter = this.template.Parameters?.[name];
    if (parameter && parameter.Default !== undefined && !parameter.Type.startsWith('AWS::SSM::'))
      return parameter.Default;
    throw new UnresolvableError(
      `Ref ${name}: ${parameter ? 'a parameter without a usable default' : 'not provisioned (yet)'}`,
    );
  }

  private getAtt(logicalId: string, attribute: string): string {
    const resource = this.physical.get(logicalId);
    if (!resource) throw new UnresolvableError(`Fn::GetAtt ${logicalId}.${attribute}: not provisioned (yet)`);
    const value = resource.attributes[attribute];
    if (value === undefined) {
      throw new UnresolvableError(
        `Fn::GetAtt ${logicalId}.${attribute}: ${resource.type} has no attribute ${attribute} here`,
      );
    }
    return value;
  }

  private fn(name: string, arg: unknown): unknown {
    switch (name) {
      case 'Fn::GetAtt': {
        const [id, ...attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
        return this.getAtt(String(id), attr.join('.'));
      }
      case 'Fn::Join': {
        const [sep, list] = arg as [string, unknown];
        const items = this.walk(list);
        if (!Array.isArray(items)) throw new UnresolvableError('Fn::Join over a non-list');
        return items.map(String).join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = this.walk(list);
        const i = Number(this.walk(index));
        if (!Array.isArray(items) || !(i in items))
          throw new UnresolvableError(`Fn::Select ${i} out of range`);
        return items[i];
      }
      case 'Fn::Split': {
        const [sep, source] = arg as [string, unknown];
        return String(this.walk(source)).split(sep);
      }
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((z) => `${this.pseudo.region}${z}`);
      case 'Fn::Base64':
        return Buffer.from(String(this.walk(arg))).toString('base64');
      case 'Fn::Sub':
        return this.sub(arg);
      case 'Fn::If': {
        const [cond, whenTrue, whenFalse] = arg as [string, unknown, unknown];
        return this.condition(cond) ? this.walk(whenTrue) : this.walk(whenFalse);
      }
      case 'Fn::Equals': {
        const [a, b] = (arg as unknown[]).map((v) => this.walk(v));
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::Not':
        return !(this.walk((arg as unknown[])[0]) as boolean);
      case 'Fn::And':
        return (arg as unknown[]).every((v) => this.walk(v) === true);
      case 'Fn::Or':
        return (arg as unknown[]).some((v) => this.walk(v) === true);
      case 'Fn::FindInMap': {
        const [map, top, second] = (arg as unknown[]).map((v) => String(this.walk(v)));
        const found = this.template.Mappings?.[map!]?.[top!]?.[second!];
        if (found === undefined)
          throw new UnresolvableError(`Fn::FindInMap ${map}.${top}.${second}: not found`);
        return found;
      }
      default:
        throw new UnresolvableError(`${name} is not supported by the local cloud`);
    }
  }

  private sub(arg: unknown): string {
    const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
    const values = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, this.walk(v)]));
    return text.replace(/\$\{([^}]+)\}/g, (whole, expr: string) => {
      if (expr.startsWith('!')) return `\${${expr.slice(1)}}`;
      if (expr in values) return String(values[expr]);
      const dot = expr.indexOf('.');
      if (dot > 0 && !expr.startsWith('AWS::')) return this.getAtt(expr.slice(0, dot), expr.slice(dot + 1));
      const resolved = this.ref(expr);
      if (resolved === NO_VALUE) throw new UnresolvableError(`Fn::Sub ${whole}: AWS::NoValue`);
      return String(resolved);
    });
  }
}

/** Logical ids a value refers to through Ref, Fn::GetAtt and Fn::Sub. */
export function referencedIds(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) referencedIds(v, into);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === 'Ref' && typeof v === 'string' && !v.startsWith('AWS::')) into.add(v);
      else if (k === 'Fn::GetAtt') into.add(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0]!);
      else if (k === 'Fn::Sub') {
        const text = Array.isArray(v) ? String(v[0]) : String(v);
        for (const m of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
          if (!m[1]!.startsWith('AWS::')) into.add(m[1]!.split('.')[0]!);
        }
        if (Array.isArray(v)) referencedIds(v[1], into);
      } else referencedIds(v, into);
    }
  }
  return into;
}
